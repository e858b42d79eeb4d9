"""Service benchmark: `GET /v1/check` over HTTP on the 10M store, against floors on loopback.

A load generator (asyncio on uvloop, one process) keeps a fixed number of keep-alive
connections busy until a fixed number of requests is answered, and times each request from
its first byte sent to its last byte read. In the same run, each in turns (`--runs`), with
the median of the runs reported:

* a bare asyncio responder (no HTTP parsing, one fixed answer): the floor of the machine;
* a do-nothing endpoint of the same server (an unknown path: routing, a 404 and no check);
* `GET /v1/check` on random numbers, half of them with evidence, for one of three
  controllers;
* `GET /v1/check` again while the server rebuilds its indexes without pause (an objection
  posted every half second moves the store's change token; the refresh interval is 0.5 s).

Then the memory of serving three controllers against one, each in a fresh process: its
resident set once every index is built.

    python benchmarks/bench_service.py                  # the 10M store (targets: check p99
                                                        #  <= 2x do-nothing p99, throughput
                                                        #  >= 0.6x, p99 in a rebuild <= 3x,
                                                        #  3 controllers < 1.5x the memory of 1)
    python benchmarks/bench_service.py --scale 0.02     # quick
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import REPO, header, run_measured, scratch
from benchmarks.bench_filter import build_store, evidence_sizes

CONTROLLERS = ("default", "energie-plus", "telco-cz")
REFRESH_SECONDS = 0.5
# The server as `optin-gate serve` runs it, with a short refresh for the rebuild phase.
SERVER = """
import logging, sys
import optin_gate as og
from optin_gate.service import App, Checkers, server
logging.basicConfig(level=logging.INFO, format="%(created).3f %(name)s: %(message)s")
logging.getLogger("optin_gate.dial").setLevel(logging.DEBUG)
checkers = Checkers(og.EvidenceStore(sys.argv[1]), og.Policy(), max_index_age=600.0,
                    refresh_interval=float(sys.argv[3]))
server(App(checkers, tokens=None), port=int(sys.argv[2])).run()
"""
BARE = """
import asyncio, sys, uvloop
ANSWER = (b"HTTP/1.1 200 OK\\r\\ncontent-type: text/plain\\r\\ncontent-length: 17\\r\\n"
          b"\\r\\n0 NO_LEGAL_BASIS\\n")
async def serve(reader, writer):
    while True:
        try:
            await reader.readuntil(b"\\r\\n\\r\\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        writer.write(ANSWER)
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
uvloop.run(main())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, path: bytes, seconds: float = 900.0) -> None:
    """Until `GET path` answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: b\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"nothing answered 200 on port {port}")


async def _connection(
    port: int, requests: list[bytes], todo: list[int], took: list[int], warm: int
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter_ns
    while todo[0] > 0:
        todo[0] -= 1
        request = requests[todo[0] % len(requests)]
        start = clock()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
        await reader.readexactly(length)
        if todo[0] < len(took) - warm:  # the first `warm` answers are not timed
            took[todo[0]] = clock() - start
    writer.close()


def load(port: int, requests: list[bytes], count: int, concurrency: int) -> dict[str, float]:
    """`count` timed requests over `concurrency` keep-alive connections: p50, p99 (us), rps."""
    import uvloop

    warm = min(2_000, count // 10)
    took = [0] * (count + warm)
    todo = [count + warm]

    async def run() -> float:
        tasks = [_connection(port, requests, todo, took, warm) for _ in range(concurrency)]
        start = time.perf_counter()
        await asyncio.gather(*tasks)
        return time.perf_counter() - start

    seconds = uvloop.run(run())
    timed = sorted(took[:count])
    return {
        "p50": timed[len(timed) // 2] / 1000,
        "p99": timed[int(len(timed) * 0.99)] / 1000,
        "rps": (count + warm) / seconds,
    }


def _requests(store_path: str, n: int, seed: int) -> list[bytes]:
    """GET /v1/check requests: half numbers with evidence, half valid ones without."""
    import duckdb

    rng = random.Random(seed)
    con = duckdb.connect(store_path, read_only=True)
    present = [
        p for (p,) in con.sql(f"SELECT phone FROM directory USING SAMPLE {n // 2}").fetchall()
    ]
    con.close()
    absent = [420_700_000_000 + rng.randrange(99_999_999) for _ in range(n - len(present))]
    numbers = present + absent
    rng.shuffle(numbers)
    return [
        f"GET /v1/check?number=%2B{k}&controller={rng.choice(CONTROLLERS)} HTTP/1.1\r\n"
        f"Host: bench\r\n\r\n".encode()
        for k in numbers
    ]


def _trigger(port: int, stop: Any) -> int:
    """Post an objection every half second until `stop` is set: each one moves the token."""
    import http.client

    posted = 0
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        body = f'{{"number": "+42073{posted:07d}", "controller": "default"}}'
        con.request("POST", "/v1/objections", body, {"Content-Type": "application/json"})
        con.getresponse().read()
        posted += 1
        stop.wait(0.5)
    con.close()
    return posted


def _rebuilding(log: str, windows: list[tuple[float, float]]) -> float:
    """The share of the windows' time during which some index build was running."""
    builds = [
        (float(end) - float(took), float(end))
        for end, took in re.findall(
            r"^([0-9.]+) optin_gate.dial: dial index built: .* in ([0-9.]+) s", log, re.M
        )
    ]
    covered = 0.0
    for start, stop in windows:
        edges = sorted((max(a, start), min(b, stop)) for a, b in builds if a < stop and b > start)
        reach = start
        for a, b in edges:
            covered += max(0.0, b - max(a, reach))
            reach = max(reach, b)
    return covered / sum(stop - start for start, stop in windows)


def resident_mb(store_path: str, controllers: tuple[str, ...]) -> dict[str, float]:
    """Build the server's checkers for `controllers` (fresh process): resident MB and time."""
    import ctypes
    import gc

    import optin_gate as og
    from optin_gate.service import Checkers

    start = time.perf_counter()
    checkers = Checkers(og.EvidenceStore(store_path), og.Policy(), max_index_age=600.0)
    for controller in controllers:
        checkers.get(controller)
    seconds = time.perf_counter() - start
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # what the indexes hold, not the builds' leftovers
    status = Path("/proc/self/status").read_text()
    rss = int(status.split("VmRSS:")[1].split()[0]) / 1024
    directory = checkers.get(controllers[0]).index.shared
    own = sum(checkers.get(c).index.nbytes for c in controllers)
    shared = 0 if directory is None else directory.nbytes
    return {"rss": rss, "seconds": seconds, "index_mb": (own + shared) / 2**20}


def _phase(name: str, results: list[dict[str, float]]) -> dict[str, float]:
    p50 = statistics.median(r["p50"] for r in results)
    p99 = statistics.median(r["p99"] for r in results)
    rps = statistics.median(r["rps"] for r in results)
    print(f"{name:<28} p50 {p50:8.0f} us  p99 {p99:8.0f} us  {rps:9,.0f} requests/s")
    return {"p50": p50, "p99": p99, "rps": rps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 10M directory rows")
    ap.add_argument("--requests", type=int, default=40_000, help="timed requests per pass")
    ap.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    ap.add_argument("--runs", type=int, default=3, help="passes of each phase, interleaved")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import threading

    rows = max(1000, int(10_000_000 * args.scale))
    sizes = evidence_sizes(rows)
    header("service: GET /v1/check against " + ", ".join(f"{n:,} {k}" for k, n in sizes.items()))
    print("load average (1, 5, 15 min) at start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    store = run_measured(build_store, str(scratch("filter")), rows, args.seed).value
    print(f"store: {store}; {args.concurrency} connections, {args.requests:,} requests a pass")
    requests = _requests(store, 20_000, args.seed)
    nothing = [b"GET /nothing HTTP/1.1\r\nHost: bench\r\n\r\n"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    port, bare_port = _free_port(), _free_port()
    log = Path(scratch("service")) / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, store, str(port), str(REFRESH_SECONDS)],
            stderr=sink,
            env=env,
        )
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], env=env)
        try:
            start = time.perf_counter()
            _wait(port, b"/healthz")
            print(f"server ready in {time.perf_counter() - start:.1f} s (indexes built)")
            for _ in range(50):  # every controller's index exists before timing
                load(port, requests[:200], 200, 4)
            bare_runs, nothing_runs, check_runs = [], [], []
            for _ in range(args.runs):
                bare_runs.append(load(bare_port, nothing, args.requests, args.concurrency))
                nothing_runs.append(load(port, nothing, args.requests, args.concurrency))
                check_runs.append(load(port, requests, args.requests, args.concurrency))
            floor = _phase("bare asyncio responder", bare_runs)
            idle = _phase("server, do-nothing endpoint", nothing_runs)
            check = _phase("server, GET /v1/check", check_runs)
            stop = threading.Event()
            trigger = threading.Thread(target=_trigger, args=(port, stop))
            trigger.start()
            time.sleep(2 * REFRESH_SECONDS)
            windows, rebuild_runs = [], []
            for _ in range(args.runs):
                began = time.time()
                rebuild_runs.append(load(port, requests, args.requests, args.concurrency))
                windows.append((began, time.time()))
            stop.set()
            trigger.join()
            time.sleep(30 * REFRESH_SECONDS)  # let the builds in flight finish and log
            rebuild = _phase("GET /v1/check, rebuilding", rebuild_runs)
            busy = _rebuilding(log.read_text(), windows)
        finally:
            for process in (server, bare):
                process.terminate()
                process.wait(60)
    print(f"  an index was being built during {100 * busy:.0f} % of those timed passes")
    print(f"RATIO check p99 vs do-nothing p99: {check['p99'] / idle['p99']:.2f}x (target <= 2x)")
    print(
        f"RATIO check throughput vs do-nothing: {check['rps'] / idle['rps']:.2f}x (target >= 0.6x)"
    )
    print(f"RATIO check p99 in a rebuild vs do-nothing p99: {rebuild['p99'] / idle['p99']:.2f}x "
          "(target <= 3x)")  # fmt: skip
    print(f"RATIO do-nothing throughput vs bare asyncio: {idle['rps'] / floor['rps']:.2f}x")

    one = run_measured(resident_mb, store, CONTROLLERS[:1]).value
    three = run_measured(resident_mb, store, CONTROLLERS).value
    for name, m in ((f"1 controller ({CONTROLLERS[0]})", one), ("3 controllers", three)):
        print(f"memory, {name}: {m['rss']:,.0f} MB resident, indexes {m['index_mb']:,.0f} MB "
              f"(built in {m['seconds']:.1f} s)")  # fmt: skip
    print(f"RATIO memory 3 controllers vs 1: {three['rss'] / one['rss']:.2f}x resident "
          f"(target < 1.5x), {three['index_mb'] / one['index_mb']:.2f}x index arrays")  # fmt: skip
    print("load average (1, 5, 15 min) at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

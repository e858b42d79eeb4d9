"""og.normalize against calling phonenumbers once per value, on realistic Czech campaign cells.

Inputs: `generate.messy_phone_numbers(n, distinct=True)`: n distinct strings in a campaign's
mix of formats (+420 / 00420 / 420 / national, spaces, dashes, dots, brackets, no-break spaces,
Excel floats, junk). Ours: `normalize` on all n (median of 6 runs in this process; peak memory
in a fresh process that only reads the inputs and normalizes them). Peer: `reference_one`
(parse, is_valid_number, format, number_type, region) on a random sample of the same inputs,
its per-value time (median of 3 passes) extrapolated to n; the runs of both interleave, so both
see the same load. Also `normalize_one` per value on the same sample. `--rows R` adds a run on
R cells with duplicates (the engine's case: a 10M-row list), in a fresh process.

    python benchmarks/bench_normalize.py [--n 1000000] [--sample 30000] [--rows 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from benchmarks._harness import header, median_seconds, rate, ratio, run_measured, scratch
from optin_gate.numbers import _normalize, fast_path_mask, normalize, normalize_one
from optin_gate.numbers.reference import reference_one


def normalize_file(path: str) -> tuple[int, float, float]:
    """In a fresh process: read the inputs, normalize them once; (rows, valid, fast share)."""
    with pa.memory_map(path) as source:
        values = pa.ipc.open_file(source).read_all().column("phone")
    table, fast = _normalize(values, "CZ")
    valid = pc.sum(table.column("valid")).as_py() / max(1, table.num_rows)
    return table.num_rows, valid, float(fast.mean())


def _write(path: Path, values: pa.Array) -> None:
    table = pa.table({"phone": values})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _per_value(fn: Callable[[str, str], object], sample: list[str]) -> float:
    """Seconds per value of one pass of `fn` over the sample."""
    t0 = time.perf_counter()
    for value in sample:
        fn(value, "CZ")
    return (time.perf_counter() - t0) / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="distinct inputs")
    parser.add_argument("--sample", type=int, default=30_000, help="values timed for the peer")
    parser.add_argument("--rows", type=int, default=0, help="also: R cells with duplicates")
    args = parser.parse_args()

    from benchmarks.generate import messy_phone_numbers

    header(f"normalize: {args.n:,} distinct realistic CZ inputs vs phonenumbers per value")
    values = messy_phone_numbers(args.n, seed=2024, distinct=True)
    path = scratch("normalize") / "inputs.arrow"
    _write(path, values)

    sample = random.Random(7).sample(values.to_pylist(), min(args.sample, len(values)))
    # Rounds interleave ours and the peer, so both see the same load on a shared machine.
    ours_runs, peer_runs, one_runs = [], [], []
    for _ in range(3):
        ours_runs.append(median_seconds(lambda: normalize(values, "CZ"), repeat=1))
        ours_runs.append(median_seconds(lambda: normalize(values, "CZ"), repeat=1))
        peer_runs.append(_per_value(reference_one, sample))
        one_runs.append(_per_value(normalize_one, sample))
    ours = statistics.median(ours_runs)
    per_value = statistics.median(peer_runs)
    per_one = statistics.median(one_runs)
    peer = per_value * len(values)
    share = fast_path_mask(values, "CZ").mean()

    print(f"og.normalize: {ours:.3f} s for {len(values):,} values = {rate(len(values), ours)}")
    print(
        f"phonenumbers per value: {per_value * 1e6:.1f} us/value on {len(sample):,} sampled "
        f"= {rate(1, per_value)}, extrapolated {peer:.1f} s for {len(values):,}"
    )
    ratio("normalize vs phonenumbers per value", ours, peer, peer_name="phonenumbers")
    print(
        f"og.normalize_one: {per_one * 1e6:.2f} us/value on the same sample "
        f"({per_value / per_one:,.1f}x vs phonenumbers per value)"
    )
    print(f"fast-path share: {share:.4%} (the rest went to phonenumbers)")
    fresh = run_measured(normalize_file, str(path))
    rows, valid, _ = fresh.value
    print(
        f"fresh process: {rows:,} rows in {fresh.seconds:.3f} s, valid {valid:.1%}, "
        f"peak RSS {fresh.peak_mb:,.0f} MB (interpreter, imports and inputs included)"
    )

    if args.rows:
        many = messy_phone_numbers(args.rows, seed=2024, distinct=False)
        path_many = scratch("normalize") / "inputs_many.arrow"
        _write(path_many, many)
        del many
        run = run_measured(normalize_file, str(path_many))
        rows, valid, share_many = run.value
        print(
            f"with duplicates: {rows:,} rows in {run.seconds:.3f} s = {rate(rows, run.seconds)}, "
            f"fast-path share {share_many:.4%}, peak RSS {run.peak_mb:,.0f} MB"
        )


if __name__ == "__main__":
    main()

"""The real server on an ephemeral loopback port, in a thread, stopped by itself.

`running(app)` starts uvicorn (httptools, uvloop: what `optin-gate serve` runs) on port 0
and yields a `Client` for it; on leaving, the server shuts down as on SIGTERM.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from optin_gate.service import App, server

START_SECONDS = 30.0


@dataclasses.dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """A keep-alive HTTP/1.1 client of one server (one connection, not thread-safe)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self._con = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        self._con.request(method, path, body=body, headers=sent)
        answer = self._con.getresponse()
        data = answer.read()
        return Reply(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)

    def get(self, path: str, **params: str | None) -> Reply:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items() if v is not None)
        return self.request("GET", f"{path}?{query}" if query else path)

    def post(self, path: str, data: Any) -> Reply:
        body = json.dumps(data).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def close(self) -> None:
        self._con.close()


def wait_ready(client: Client, timeout: float = START_SECONDS) -> None:
    """Wait until /healthz says ok."""
    deadline = time.monotonic() + timeout
    while client.get("/healthz").status != 200:
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.02)


@contextlib.contextmanager
def running(app: App, *, token: str | None = None, ready: bool = True) -> Iterator[Client]:
    """Serve `app` on 127.0.0.1:<ephemeral> in a thread; yield a client of it."""
    uv = server(app, port=0)
    thread = threading.Thread(target=uv.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not uv.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.005)
    port = uv.servers[0].sockets[0].getsockname()[1]
    client = Client(port, token)
    try:
        if ready:
            wait_ready(client)
        yield client
    finally:
        client.close()
        uv.should_exit = True
        thread.join(timeout=START_SECONDS)
        assert not thread.is_alive(), "the server did not stop"

"""Running the app on uvicorn (httptools and uvloop): the real server behind `optin-gate serve`.

uvicorn stops taking connections on SIGTERM or SIGINT, lets the requests in flight finish
and then runs the app's shutdown; an objection is acknowledged only after its journal line
is fsync'd, so a shutdown never loses one that was answered. The access log stays off: its
lines would carry the numbers of the query strings.
"""

from __future__ import annotations

import socket
import sys
from types import FrameType
from typing import Any

import uvicorn

from optin_gate.service.app import App

__all__ = ["LOOPBACK", "is_loopback", "server"]

LOOPBACK = "127.0.0.1"
GRACE_SECONDS = 10
SWITCH_SECONDS = 0.0005


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (no token is needed there)."""
    if host in {"localhost", "::1"}:
        return True
    try:
        return socket.inet_aton(host)[0] == 127 and host.count(".") == 3
    except OSError:
        return False


class _Server(uvicorn.Server):
    """uvicorn's server, whose graceful stop on SIGTERM or SIGINT ends the process with 0.

    uvicorn raises the signal again once it has shut down, so the process dies of it; a
    service manager or a shell then reports a failure for what was an orderly stop.
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def server(app: App, *, host: str = LOOPBACK, port: int = 8787, **options: Any) -> uvicorn.Server:
    """A uvicorn server for `app` (call `.run()`), keep-alive, no access log.

    Shortens the interpreter's thread switch interval: while an index rebuild runs on a
    thread, the event loop then waits a fraction of a millisecond for the GIL, not 5 ms.
    """
    sys.setswitchinterval(SWITCH_SECONDS)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_config=None,
        **options,
    )
    return _Server(config)

"""The gate service as a raw ASGI application: a handful of routes, no framework.

Checks run on the event loop itself: a decision takes microseconds, less than handing it to
a thread would. Building an index, recording an objection (an fsync) and the first index of a
controller named later run on worker threads, so checks keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from optin_gate.dial import Checker
from optin_gate.errors import OptinGateError, RequestError, StoreError
from optin_gate.numbers import normalize_one
from optin_gate.rules import Decision
from optin_gate.service.answers import error_json, error_text, result, text_line
from optin_gate.service.checkers import Checkers, unreadable
from optin_gate.service.metrics import Metrics
from optin_gate.service.openapi import document
from optin_gate.service.params import (
    MAX_NUMBERS,
    Ask,
    Batch,
    bad,
    parse_batch,
    parse_objection,
    parse_query,
)
from optin_gate.service.tokens import Token, Tokens, forbidden
from optin_gate.store.controllers import controller_key
from optin_gate.store.kinds import generated_objection_id

__all__ = ["MAX_BODY", "App"]

log = logging.getLogger("optin_gate.service")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# A full batch of numbers with refs fits well within this.
MAX_BODY = MAX_NUMBERS * 200 + 4096
TEXT = b"text/plain; charset=utf-8"
JSON = b"application/json"
PROMETHEUS = b"text/plain; version=0.0.4; charset=utf-8"
DEFAULT_CONTROLLER = "default"
RETRY_SECONDS = 5.0  # between attempts to build the first indexes


class App:
    """The ASGI application of `optin-gate serve`.

    Args:
        checkers: The dial checkers it answers from (and their store).
        tokens: The known tokens; None lets every request ask about every controller
            (only on loopback: the command line refuses other addresses without tokens).
        controllers: Controllers whose indexes are built before the server is ready, besides
            the store's own.
    """

    def __init__(
        self, checkers: Checkers, *, tokens: Tokens | None, controllers: Iterable[str] = ()
    ) -> None:
        self.checkers = checkers
        self.tokens = tokens
        self.metrics = Metrics()
        self._start = tuple(controllers)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._failure: str | None = None
        self._openapi = json.dumps(document()).encode()
        self._region = checkers.policy.default_region

    # ---- lifespan -------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Build the indexes on a thread; the server answers 503 until they are built."""
        thread = threading.Thread(target=self._build, name="optin-gate-build", daemon=True)
        thread.start()
        return thread

    def _build(self) -> None:
        began = time.perf_counter()
        while True:
            try:
                self.checkers.build(self._start)
                break
            except OptinGateError as exc:
                # A load in another process may hold the store: try again, answering 503.
                self._failure = exc.message
                log.error("the dial index could not be built (retrying): %s", exc)
                if self._stopping.wait(RETRY_SECONDS):
                    return
        self._failure = None
        log.info(
            "dial indexes built for %d controller(s) in %.1f s; answering checks",
            len(self.checkers.controllers),
            time.perf_counter() - began,
        )
        self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether the start-up indexes are built."""
        return self._ready.is_set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._stopping.set()
                self.checkers.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # ---- requests -------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        wants_json = method == "POST"
        try:
            if path == "/v1/check" and method == "GET":
                # The token first: an unknown caller learns nothing from its parameters.
                token = self._token(scope)
                values, ask = parse_query(scope["query_string"])
                wants_json = values.get("format") == "json" or _accepts_json(scope)
                body = await self._check(token, values, ask, wants_json=wants_json)
                status, kind = 200, JSON if wants_json else TEXT
            elif path == "/v1/check" and method == "POST":
                token = self._token(scope)  # before reading a body it may not send
                batch = parse_batch(await _body(scope, receive))
                body, status, kind = await self._batch(token, batch), 200, JSON
            elif path == "/v1/objections" and method == "POST":
                body, status, kind = await self._objection(scope, receive), 201, JSON
            elif path == "/healthz" and method == "GET":
                status, body, kind = (*self._health(), JSON)
            elif path == "/metrics" and method == "GET":
                ready = self.ready
                body, status, kind = (
                    self.metrics.render(self.checkers.ages(), ready=ready),
                    200,
                    PROMETHEUS,
                )
            elif path == "/openapi.json" and method == "GET":
                body, status, kind = self._openapi, 200, JSON
            else:
                raise RequestError(404, "no such endpoint", hint="see /openapi.json")
        except RequestError as exc:
            # A query refused while it was read has not yet said whether it asked for JSON.
            wants_json = wants_json or (method == "GET" and _asks_json(scope))
            status, body, kind = self._refuse(exc.status, str(exc), wants_json=wants_json)
        except StoreError as exc:
            # The detail (a file, a lock) is for the operator, not for every client; the
            # checker itself warns once when its index grows too old.
            log.debug("a check failed closed: %s", exc)
            status, body, kind = self._refuse(503, str(unreadable()), wants_json=wants_json)
        except Exception as exc:
            # Never the message: it could quote a request's number.
            log.error("answering a request failed: %s", type(exc).__name__)
            status, body, kind = self._refuse(500, "internal error", wants_json=wants_json)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _refuse(self, status: int, message: str, *, wants_json: bool) -> tuple[int, bytes, bytes]:
        self.metrics.refused(status)
        if wants_json:
            return status, error_json(status, message), JSON
        return status, error_text(message), TEXT

    def _token(self, scope: Scope) -> Token | None:
        if self.tokens is None:
            return None
        return self.tokens.find(_header(scope, b"authorization"))

    def _controller(self, token: Token | None, named: str | None) -> str:
        """The controller key a request asks about, after the token's say (403/400)."""
        if named is not None and not named.strip():
            raise bad("controller is empty", "send controller=NAME, or leave it out")
        if named is None:
            only = DEFAULT_CONTROLLER if token is None else token.only()
            if only is None:
                raise bad(
                    "controller is missing and this token has several",
                    "send controller=NAME",
                )
            return only
        key = controller_key(named)
        if token is not None and not token.allows(key):
            raise forbidden(key)
        return key

    async def _checker_of(self, controller: str) -> Checker:
        checker = self.checkers.ready(controller)
        if checker is not None:
            return checker
        if not self.ready:
            raise RequestError(
                503,
                "the dial index is being built" if self._failure is None else self._failure,
                hint="retry when /healthz says ok",
            )
        return await asyncio.to_thread(self.checkers.get, controller)

    def _decide(self, checker: Checker, controller: str, number: str | None, ask: Ask) -> Decision:
        began = time.perf_counter()
        if ask.campaign:
            decision: Decision = checker.check(
                number, at=ask.at, call_type=ask.call_type, **dict(ask.campaign)
            )
        else:
            decision = checker.check(number, at=ask.at, call_type=ask.call_type)
        self.metrics.checked(controller, decision.reason, time.perf_counter() - began)
        return decision

    async def _check(
        self, token: Token | None, values: dict[str, str], ask: Ask, *, wants_json: bool
    ) -> bytes:
        controller = self._controller(token, ask.controller)
        checker = self.checkers.ready(controller) or await self._checker_of(controller)
        number = values.get("number")
        if not wants_json:
            return text_line(self._decide(checker, controller, number, ask))
        at = ask.when()
        timed = Ask(ask.controller, ask.call_type, at, ask.campaign)
        decision = self._decide(checker, controller, number, timed)
        answer = result(
            decision,
            number=number,
            controller=controller,
            call_type=ask.call_type,
            at=at,
            ref=values.get("ref"),
        )
        return json.dumps(answer).encode()

    async def _batch(self, token: Token | None, batch: Batch) -> bytes:
        ask = batch.ask
        controller = self._controller(token, ask.controller)
        checker = await self._checker_of(controller)
        at = ask.when()
        timed = Ask(ask.controller, ask.call_type, at, ask.campaign)
        results = [
            result(
                self._decide(checker, controller, number, timed),
                number=number,
                controller=controller,
                call_type=ask.call_type,
                at=at,
                ref=ref,
            )
            for number, ref in zip(batch.numbers, batch.refs, strict=True)
        ]
        return json.dumps({"results": results}).encode()

    async def _objection(self, scope: Scope, receive: Receive) -> bytes:
        token = self._token(scope)
        asked = parse_objection(await _body(scope, receive))
        controller = None if asked.controller is None else controller_key(asked.controller)
        if controller is not None and not controller:
            raise bad("controller is empty", "send a controller name, or null for every one")
        if token is not None and (
            not token.objections or (controller is not None and not token.allows(controller))
        ):
            raise forbidden(None)
        e164 = normalize_one(asked.number, self._region).e164
        if e164 is None:
            raise bad("number is not a valid phone number", "send it as +420601234567")
        objection_id = asked.objection_id or generated_objection_id(
            int(e164[1:]), controller, asked.at
        )
        await asyncio.to_thread(
            self._record, e164, controller, asked.at, asked.source, asked.objection_id
        )
        self.metrics.objected(controller)
        return json.dumps({"objection_id": objection_id, "e164": e164}).encode()

    def _record(
        self,
        e164: str,
        controller: str | None,
        at: datetime,
        source: str | None,
        oid: str | None,
    ) -> None:
        self.checkers.store.record_objection(
            e164, controller=controller, at=at, source=source, objection_id=oid
        )

    def _health(self) -> tuple[int, bytes]:
        if not self.ready:
            status = "starting" if self._failure is None else "error"
            answer: dict[str, Any] = {"status": status}
            if self._failure is not None:
                answer["detail"] = self._failure
            return 503, json.dumps(answer).encode()
        ages = self.checkers.ages()
        age = max(ages.values(), default=0.0)
        stale = age > self.checkers.max_index_age
        answer = {
            "status": "stale" if stale else "ok",
            "index_age_s": round(age, 3),
            "max_index_age_s": self.checkers.max_index_age,
            "controllers": list(self.checkers.controllers),
        }
        return (503 if stale else 200), json.dumps(answer).encode()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _accepts_json(scope: Scope) -> bool:
    accept = _header(scope, b"accept")
    return accept is not None and "application/json" in accept


def _asks_json(scope: Scope) -> bool:
    """Whether a GET asks for JSON (Accept or `format=json`), its query unread."""
    return _accepts_json(scope) or b"format=json" in scope["query_string"].split(b"&")


async def _body(scope: Scope, receive: Receive) -> bytes:
    """The request body, refusing (413) one larger than `MAX_BODY` before reading it all."""
    length = _header(scope, b"content-length")
    if length is not None and length.strip().isdigit() and int(length) > MAX_BODY:
        raise _too_large()
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise bad("the client went away", "send the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _too_large() -> RequestError:
    return RequestError(
        413,
        f"the body is larger than {MAX_BODY} bytes",
        hint=f"send at most {MAX_NUMBERS} numbers per request",
    )

"""The gate service: `optin-gate serve`, one HTTP endpoint any dialler can ask before a dial.

`App` is the raw ASGI application (`app.py`); it answers from `Checkers`, the dial checkers
of the controllers it serves (`checkers.py`); `server` runs it on uvicorn (`runner.py`).
Tokens (`tokens.py`), the metrics (`metrics.py`) and the OpenAPI document (`openapi.py`)
each have their module. docs/design.md, "The gate service", is the contract.
"""

from __future__ import annotations

from optin_gate.service.app import App
from optin_gate.service.checkers import Checkers
from optin_gate.service.runner import LOOPBACK, is_loopback, server
from optin_gate.service.tokens import Tokens, load_tokens

__all__ = ["LOOPBACK", "App", "Checkers", "Tokens", "is_loopback", "load_tokens", "server"]

"""Bearer tokens with controller scopes, read from a TOML file of SHA-256 hashes.

The file never holds a token, only its hash, so a copy of it (a backup, a config repository)
gives nobody access. A request's token is hashed and looked up; the scopes say which
controllers it may ask about and whether it may record objections for them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from optin_gate.errors import InputError, RequestError
from optin_gate.store.controllers import controller_key

__all__ = ["ANY", "Token", "Tokens", "forbidden", "load_tokens"]

ANY = "*"
_HEX = re.compile(r"[0-9a-f]{64}")
_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclasses.dataclass(frozen=True)
class Token:
    """What one token may do.

    Attributes:
        controllers: The controller keys it may ask about; None for every controller.
        objections: Whether it may record objections for those controllers (and for all).
    """

    controllers: frozenset[str] | None
    objections: bool = False

    def allows(self, controller: str) -> bool:
        """Whether this token may ask about `controller` (a key)."""
        return self.controllers is None or controller in self.controllers

    def only(self) -> str | None:
        """The token's one controller, when it has exactly one."""
        if self.controllers is not None and len(self.controllers) == 1:
            return next(iter(self.controllers))
        return None


@dataclasses.dataclass(frozen=True)
class Tokens:
    """The known tokens, by the hex SHA-256 of the token."""

    by_hash: dict[str, Token]

    def controllers(self) -> tuple[str, ...]:
        """Every controller some token names (not those a `*` token may ask about)."""
        return tuple(sorted({c for t in self.by_hash.values() for c in t.controllers or ()}))

    def find(self, authorization: str | None) -> Token:
        """The token of an `Authorization: Bearer ...` header.

        Raises:
            RequestError: 401, no token or an unknown one.
        """
        scheme, _, secret = (authorization or "").strip().partition(" ")
        token = None
        if scheme.lower() == "bearer" and secret.strip():
            token = self.by_hash.get(hashlib.sha256(secret.strip().encode()).hexdigest())
        if token is None:
            raise RequestError(
                401,
                "no known bearer token",
                hint="send Authorization: Bearer <token> with a token from the tokens file",
            )
        return token


def load_tokens(path: str | Path) -> Tokens:
    """Read a tokens file (TOML, `[[token]]` tables; docs/operations.md).

    Raises:
        InputError: The file cannot be read or a table is wrong (file, line, the fix).
    """
    name = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(
            f"cannot read the tokens file ({exc.strerror})",
            file=name,
            hint="check the --tokens path and its permissions",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        found = _POSITION.search(str(exc))
        where = f" at column {found.group(2)}" if found else ""
        raise InputError(
            f"not valid TOML{where} ({_POSITION.sub('', str(exc)).strip()})",
            file=name,
            line=int(found.group(1)) if found else None,
            hint='write [[token]] tables with sha256 = "<hex>" and controllers = ["name"]',
        ) from None
    tables = data.get("token")
    if not isinstance(tables, list) or not tables:
        raise InputError(
            "no [[token]] table",
            file=name,
            hint='add [[token]] with sha256 = "<hex sha256 of the token>" and controllers',
        )
    by_hash: dict[str, Token] = {}
    for number, table in enumerate(tables, start=1):
        digest, token = _token(table, name, number)
        if digest in by_hash:
            # One table would silently win over the other, widening or narrowing its scopes.
            raise InputError(
                f"[[token]] number {number}: the same sha256 as an earlier [[token]]",
                file=name,
                hint="give each token one table, listing all its controllers there",
            )
        by_hash[digest] = token
    return Tokens(by_hash)


def _token(table: Any, name: str, number: int) -> tuple[str, Token]:
    def wrong(what: str, hint: str) -> InputError:
        return InputError(f"[[token]] number {number}: {what}", file=name, hint=hint)

    if not isinstance(table, dict):
        raise wrong("is not a table", 'write [[token]] followed by sha256 = "..." lines')
    unknown = sorted(set(table) - {"sha256", "controllers", "objections"})
    if unknown:
        raise wrong(f"unknown keys {unknown}", "use only sha256, controllers and objections")
    digest = table.get("sha256")
    if not isinstance(digest, str) or not _HEX.fullmatch(digest.strip().lower()):
        raise wrong(
            "sha256 is not 64 hex digits",
            "put the hash there, never the token: printf %s TOKEN | sha256sum",
        )
    names = table.get("controllers")
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and n.strip() for n in names)
    ):
        raise wrong("controllers is not a list of names", 'write controllers = ["acme"] or ["*"]')
    objections = table.get("objections", False)
    if not isinstance(objections, bool):
        raise wrong("objections is not true or false", "write objections = true or leave it out")
    keys = frozenset(controller_key(n) for n in names)
    return digest.strip().lower(), Token(None if ANY in keys else keys, objections)


def forbidden(controller: str | None) -> RequestError:
    """403 for a controller (None: objections) the token may not use."""
    what = "record objections" if controller is None else "ask about this controller"
    return RequestError(
        403, f"this token may not {what}", hint="use a token whose scopes include it"
    )

r"""Compile phonenumbers' number-plan regexes into one DFA over the ten ASCII digits.

The fast paths never run a regex per pattern per number. For a country they compile all its
patterns (the general description and every number type) into one deterministic automaton whose
states remember which patterns still match. One walk over a national number then says, for
every pattern at once, whether `pattern.fullmatch(number)` holds: the batch path walks it for a
million numbers with numpy, the scalar path with a dict lookup per digit.

Exactness: the metadata patterns are regular expressions built only from literals, character
classes, alternation, groups and bounded or unbounded greedy repeats (checked here: anything else
raises `UnsupportedPattern` and the country stays on the phonenumbers fallback). For those
constructs `re.fullmatch` succeeds exactly when the string is in the pattern's language, and the
Thompson construction plus subset construction below accepts exactly that language. Inputs are
ASCII digits only, so a class or `\d` is reduced to the digits it contains.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre_c  # type: ignore[import-not-found]  # the parser re itself uses
import re._parser as sre_p  # type: ignore[import-not-found]
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Dfa", "UnsupportedPattern", "compile_patterns"]

DIGITS = "0123456789"
ALL_DIGITS = (1 << 10) - 1
MAX_STATES = 50_000


class UnsupportedPattern(ValueError):  # noqa: N818 - an internal signal, not a user error
    """A pattern uses a construct the compiler does not model; the caller falls back."""


class _Nfa:
    """A Thompson NFA over digits: epsilon edges and (digit-set bitmask, target) edges."""

    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.moves: list[list[tuple[int, int]]] = []
        self.accept: dict[int, int] = {}  # state -> bit of the pattern it accepts

    def state(self) -> int:
        self.eps.append([])
        self.moves.append([])
        return len(self.eps) - 1

    def seq(self, items: Any, start: int) -> int:
        """Wire the parsed items after `start`; return the end state."""
        cur = start
        for op, av in items:
            cur = self.item(op, av, cur)
        return cur

    def item(self, op: Any, av: Any, cur: int) -> int:
        if op in (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.IN, sre_c.ANY):
            end = self.state()
            digits = _digit_set(op, av)
            if digits:
                self.moves[cur].append((digits, end))
            return end
        if op is sre_c.SUBPATTERN:
            return self.seq(av[3], cur)
        if op is sre_c.BRANCH:
            end = self.state()
            for alternative in av[1]:
                start = self.state()
                self.eps[cur].append(start)
                self.eps[self.seq(alternative, start)].append(end)
            return end
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            low, high, sub = av
            for _ in range(low):
                cur = self.seq(sub, cur)
            if high == sre_c.MAXREPEAT:
                loop = self.state()
                self.eps[cur].append(loop)
                self.eps[self.seq(sub, loop)].append(loop)
                return loop
            end = self.state()
            for _ in range(high - low):
                self.eps[cur].append(end)
                cur = self.seq(sub, cur)
            self.eps[cur].append(end)
            return end
        raise UnsupportedPattern(f"regex construct {op} is not modelled")

    def closure(self, states: set[int]) -> frozenset[int]:
        stack = list(states)
        seen = set(states)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        # Only states that move on a digit or accept matter for identity.
        return frozenset(s for s in seen if self.moves[s] or s in self.accept)


def _digit_set(op: Any, av: Any) -> int:
    """The digits (as a 10-bit mask) one character item matches."""
    if op is sre_c.ANY:
        return ALL_DIGITS
    if op is sre_c.LITERAL:
        return _literal(av)
    if op is sre_c.NOT_LITERAL:
        return ALL_DIGITS & ~_literal(av)
    mask, negate = 0, False
    for sub_op, sub_av in av:
        if sub_op is sre_c.NEGATE:
            negate = True
        elif sub_op is sre_c.LITERAL:
            mask |= _literal(sub_av)
        elif sub_op is sre_c.RANGE:
            mask |= sum(1 << d for d in range(10) if sub_av[0] <= ord(DIGITS[d]) <= sub_av[1])
        elif sub_op is sre_c.CATEGORY and sub_av in _CATEGORIES:
            mask |= _CATEGORIES[sub_av]
        else:
            raise UnsupportedPattern(f"character class item {sub_op} is not modelled")
    return ALL_DIGITS & ~mask if negate else mask


def _literal(code: int) -> int:
    char = chr(code)
    return 1 << int(char) if char in DIGITS else 0


# What each category matches among the ASCII digits.
_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: ALL_DIGITS,
    sre_c.CATEGORY_NOT_DIGIT: 0,
    sre_c.CATEGORY_WORD: ALL_DIGITS,
    sre_c.CATEGORY_NOT_WORD: 0,
    sre_c.CATEGORY_SPACE: 0,
    sre_c.CATEGORY_NOT_SPACE: ALL_DIGITS,
}


@dataclass(frozen=True)
class Dfa:
    """A DFA over digits; state 0 is dead, state 1 the start.

    Attributes:
        table: int32 array [states, 10]: next state per digit.
        accepts: int64 array [states]: bit i set when pattern i fully matches the input read.
        rows: the same transitions as one dict per state, keyed by the digit character, for
            the scalar path.
    """

    table: np.ndarray[Any, np.dtype[np.int32]]
    accepts: np.ndarray[Any, np.dtype[np.int64]]
    rows: tuple[dict[str, int], ...]

    @functools.cached_property
    def wide(self) -> np.ndarray[Any, np.dtype[np.int32]]:
        """[states, 256]: next state per input byte, for the batch path.

        ASCII digits move; every other byte (the batch path pads with byte 0) keeps the state.
        """
        wide = np.repeat(np.arange(len(self.table), dtype=np.int32)[:, None], 256, axis=1)
        wide[:, ord("0") : ord("9") + 1] = self.table[:, :10]
        return wide

    def walk(self, digits: str) -> int:
        """The state after reading `digits` (ASCII digits only)."""
        state = 1
        rows = self.rows
        for char in digits:
            state = rows[state][char]
        return state


def compile_patterns(patterns: list[str | None]) -> Dfa:
    """One DFA for several patterns; bit i of a state's accept mask is pattern i's fullmatch.

    Raises:
        UnsupportedPattern: a pattern uses a construct outside the modelled subset, or the
            automaton grows past MAX_STATES.
    """
    nfa = _Nfa()
    starts: set[int] = set()
    for bit, pattern in enumerate(patterns):
        if not pattern:
            continue  # an empty or missing pattern never matches (as in phonenumbers)
        try:
            parsed = sre_p.parse(pattern)
        except re.error as exc:  # pragma: no cover - phonenumbers' own patterns compile
            raise UnsupportedPattern(str(exc)) from exc
        start = nfa.state()
        starts.add(start)
        end = nfa.seq(parsed, start)
        nfa.accept[end] = nfa.accept.get(end, 0) | (1 << bit)
    dead: frozenset[int] = frozenset()
    first = nfa.closure(starts)
    order = [dead, first]  # the start is state 1 even when no pattern can match
    index: dict[frozenset[int], int] = {first: 1, dead: 0}
    table: list[list[int]] = [[0] * 10]
    cursor = 1
    while cursor < len(order):
        current = order[cursor]
        row = []
        for digit in range(10):
            bit = 1 << digit
            target = nfa.closure({t for s in current for mask, t in nfa.moves[s] if mask & bit})
            if target not in index:
                if len(order) >= MAX_STATES:
                    raise UnsupportedPattern("automaton too large")
                index[target] = len(order)
                order.append(target)
            row.append(index[target])
        table.append(row)
        cursor += 1
    accepts = [0] * len(order)
    for number, states in enumerate(order):
        for state in states:
            accepts[number] |= nfa.accept.get(state, 0)
    array = np.array(table, dtype=np.int32)
    rows = tuple({DIGITS[d]: int(array[s, d]) for d in range(10)} for s in range(len(order)))
    return Dfa(array, np.array(accepts, dtype=np.int64), rows)

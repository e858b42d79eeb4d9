"""Imports flow one way through the stages (docs/design.md, "Data flow, one direction").

Every import in the package is read from the source, wherever it stands: at the top of a
module, under `if TYPE_CHECKING:` or inside a function. A lazy import still ties the stages
together, so it counts like any other.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import optin_gate

PACKAGE = Path(optin_gate.__file__).parent
ROOT = "optin_gate"

# Each stage's place in the chain io -> numbers -> store -> rules -> engine | dial -> audit
# -> cli. A stage may import its own modules and those of lower places. Stages that share a
# place are siblings and import neither each other: the batch engine and the dial index
# decide the same law independently. Below io sit the plain values every stage shares (the
# errors, the policy) and the private top-level helpers (`_time`, `_resources`), which take
# `PRIVATE_PLACE` unless placed here: `_jit` caches compiled code in io's scratch folder for
# numbers, engine and dial. `context` is the frozen value `gate` hands down, so it sits
# above what it holds (the store, the policy) and below every stage that takes it. `gate`
# is the facade over engine, dial and audit. `service` (the HTTP gate) sits beside `cli`
# but below it: it imports nothing the command line does not, and `optin-gate serve` runs it.
PLACES: dict[str, int] = {
    "errors": 0,
    "policy": 10,
    "io": 20,
    "_jit": 25,
    "numbers": 30,
    # `_isotime` parses times in compiled code (`_jit`) on io's definition of Prague time,
    # reading Arrow through numbers' buffer helpers; the audit's read uses it, and it
    # belongs to no stage of its own.
    "_isotime": 35,
    "store": 40,
    "rules": 50,
    "context": 60,
    "engine": 70,
    "dial": 70,
    "audit": 80,
    "gate": 90,
    "service": 95,
    "cli": 100,
}
PRIVATE_PLACE = 10

# Who may hold the facade: the command line builds one, the package exports it.
GATE_USERS = {ROOT, "cli"}

# Names of the package root that any module may read: set before any submodule is imported.
ROOT_CONSTANTS = {"__name__", "__version__"}


@dataclasses.dataclass(frozen=True)
class Edge:
    """One import: `source` (a module) imports `target` (a module, or the package root)."""

    source: str
    target: str
    names: tuple[str, ...]  # the names taken by `from target import ...`; () for `import`
    line: int

    def __str__(self) -> str:
        taken = f" ({', '.join(self.names)})" if self.names else ""
        return f"{self.source}:{self.line} imports {self.target}{taken}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).is_dir() or (PACKAGE / relative).with_suffix(".py").is_file()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _edges_in(text: str, module: str, *, is_package: bool) -> Iterator[Edge]:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(module, alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            names = tuple(alias.name for alias in node.names)
            # `from optin_gate.x import y` imports the module `optin_gate.x.y` when there is one.
            submodules = [n for n in names if _is_module(f"{target}.{n}")]
            for name in submodules:
                yield Edge(module, f"{target}.{name}", (), node.lineno)
            rest = tuple(n for n in names if n not in submodules)
            if rest:
                yield Edge(module, target, rest, node.lineno)


@cache
def edges() -> tuple[Edge, ...]:
    """Every import statement of every module of the package."""
    return tuple(
        edge
        for path in sorted(PACKAGE.rglob("*.py"))
        for edge in _edges_in(
            path.read_text(encoding="utf-8"),
            _module_name(path),
            is_package=path.name == "__init__.py",
        )
    )


def ours() -> list[Edge]:
    """The imports of one module of the package by another."""
    return [e for e in edges() if e.target == ROOT or e.target.startswith(ROOT + ".")]


def stage(module: str) -> str:
    """The stage a module belongs to: its top-level name under the package ("" for the root)."""
    return module.split(".")[1] if "." in module else ""


def place(module: str) -> int | None:
    """The stage's place in the chain; None for the package root or an unplaced stage."""
    name = stage(module)
    return PLACES.get(name, PRIVATE_PLACE if name.startswith("_") else None)


SAMPLE = """
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from optin_gate.store import EvidenceStore

def run():
    import duckdb
    from optin_gate.gate import Gate
    from . import held
    from ..audit.report import AuditReport
"""


def test_the_reader_sees_lazy_type_checking_and_relative_imports() -> None:
    found = {
        (e.target, e.names) for e in _edges_in(SAMPLE, "optin_gate.engine.stream", is_package=False)
    }
    assert found == {
        ("typing", ("TYPE_CHECKING",)),
        ("optin_gate.store", ("EvidenceStore",)),
        ("duckdb", ()),
        ("optin_gate.gate", ("Gate",)),
        ("optin_gate.engine.held", ()),
        ("optin_gate.audit.report", ("AuditReport",)),
    }


def test_every_stage_has_a_place() -> None:
    stages = {stage(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {""}
    unplaced = sorted(s for s in stages if not s.startswith("_") and s not in PLACES)
    assert not unplaced, f"give these stages a place in PLACES: {unplaced}"


def test_no_stage_imports_a_later_or_sibling_stage() -> None:
    wrong = []
    for edge in ours():
        source, target = stage(edge.source), stage(edge.target)
        if "" in (source, target) or source == target:
            continue  # the package root, or a stage's own module
        here, there = place(edge.source), place(edge.target)
        if here is None or there is None or there >= here:
            wrong.append(str(edge))
    listing = "\n".join(wrong)
    assert not wrong, f"imports against the chain (or place the stage in PLACES):\n{listing}"


def test_only_the_command_line_and_the_package_hold_the_gate() -> None:
    wrong = [
        str(e)
        for e in ours()
        if stage(e.target) == "gate" and (stage(e.source) or ROOT) not in {*GATE_USERS, "gate"}
    ]
    assert not wrong, "pass an optin_gate.context.Context down instead:\n" + "\n".join(wrong)


def test_the_package_root_is_read_only_for_its_constants() -> None:
    wrong = [
        str(e)
        for e in ours()
        if e.target == ROOT and e.source != ROOT and not set(e.names) <= ROOT_CONSTANTS
    ]
    assert not wrong, "the package root imports every stage; import the stage itself:\n" + (
        "\n".join(wrong)
    )


def test_the_rules_run_no_duckdb() -> None:
    wrong = [
        str(e) for e in edges() if stage(e.source) == "rules" and e.target.split(".")[0] == "duckdb"
    ]
    assert not wrong, "the rules stage must not run SQL:\n" + "\n".join(wrong)


def _public_names(package: str) -> set[str]:
    init = PACKAGE / Path(*package.split(".")[1:]) / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(elt) for elt in node.value.elts}  # type: ignore[attr-defined]
    return set()


def test_the_audit_uses_only_the_engines_public_names() -> None:
    public = _public_names("optin_gate.engine")
    wrong = [
        str(e)
        for e in ours()
        if stage(e.source) == "audit"
        and stage(e.target) == "engine"
        and (e.target != "optin_gate.engine" or not set(e.names) <= public)
    ]
    assert not wrong, "import these from optin_gate.engine (its __all__):\n" + "\n".join(wrong)

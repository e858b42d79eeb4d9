"""The public surface is a contract (docs/design.md): these names, and nothing heavy on import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import optin_gate as og

EXPECTED = {
    "AuditReport",
    "Decision",
    "EvidenceStore",
    "FilterResult",
    "Gate",
    "InputError",
    "LoadReport",
    "OptinGateError",
    "Policy",
    "PolicyError",
    "Reason",
    "StoreError",
    "StoreVersionError",
    "__version__",
    "normalize",
    "normalize_one",
}


def test_exports_are_exactly_the_contract() -> None:
    assert set(og.__all__) == EXPECTED
    for name in og.__all__:
        assert hasattr(og, name), name


def test_errors_share_one_root_and_the_matching_builtin() -> None:
    assert issubclass(og.InputError, og.OptinGateError)
    assert issubclass(og.InputError, ValueError)
    assert issubclass(og.PolicyError, ValueError)
    assert issubclass(og.StoreError, RuntimeError)
    assert issubclass(og.StoreVersionError, og.StoreError)
    err = og.InputError("no phone column", hint="pass --phone-column", file="a.csv", line=3)
    assert str(err) == "a.csv, line 3: no phone column. Hint: pass --phone-column"


def test_import_does_not_load_pandas() -> None:
    code = "import sys, optin_gate; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_reason_values_are_their_names() -> None:
    assert og.Reason.CONSENT == "CONSENT"
    assert {r.value for r in og.Reason} == {r.name for r in og.Reason}
    allowing = {r for r in og.Reason if r.allowed}
    assert allowing == {
        og.Reason.CONSENT,
        og.Reason.EXISTING_CUSTOMER,
        og.Reason.DIRECTORY_OPT_IN,
        og.Reason.NO_OPT_OUT,
    }


def test_every_export_has_one_home() -> None:
    # A lazily exported name must be the very object its module defines.
    import importlib

    for name in EXPECTED - {"__version__"}:
        module = importlib.import_module(og._HOMES[name])
        assert getattr(og, name) is getattr(module, name), name


def test_import_loads_neither_duckdb_nor_the_compiler() -> None:
    # The command line starts reading a workbook while these load.
    code = "import sys, optin_gate; print(sorted({'duckdb', 'numba'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_filtering_a_file_does_not_load_pandas(tmp_path: Path) -> None:
    # pyarrow loads pandas (most of a second) to combine a column of no chunks, which is what
    # DuckDB returns for evidence a store does not hold (here: no Slovak list, no contracts).
    store = tmp_path / "store.duckdb"
    consents = tmp_path / "consents.csv"
    consents.write_text(
        "consent_id,phone,granted_at\nC-1,+420601234567,2026-01-02\n", encoding="utf-8"
    )
    listing = tmp_path / "list.csv"
    listing.write_text("telefon\n601234567\n602345678\n", encoding="utf-8")
    code = (
        "import sys, optin_gate as og\n"
        "from optin_gate.engine import filter_file\n"
        f"store = og.EvidenceStore({str(store)!r})\n"
        f"store.load('consents', {str(consents)!r})\n"
        f"filter_file(og.Gate(store).context, {str(listing)!r}, as_of='2026-03-01T10:00',"
        f" out={str(tmp_path / 'out.csv')!r})\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"

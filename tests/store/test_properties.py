"""Properties of every load: nothing lost, every reject on the right line, times exact."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optin_gate._time import to_utc
from optin_gate.numbers import normalize_one
from optin_gate.store import EvidenceStore, StrictLoadError
from tests.store._helpers import rows, write_csv
from tests.strategies import czech_text, iso_text, local_times

PHONES = ("601234567", "+420 601 234 568", "00420601234569", "12", "", "abc", "+421 905 123 456")


@st.composite
def consent_rows(draw: st.DrawFn) -> tuple[list[str], datetime | None, str]:
    """(row, the moment its time means or None if unusable, a multi-line note)."""
    moment = draw(local_times)
    form = draw(st.sampled_from(["iso", "czech", "czech_spaced", "blank", "garbage"]))
    text = {
        "iso": iso_text(moment),
        "czech": czech_text(moment),
        "czech_spaced": czech_text(moment, spaced=True),
        "blank": "",
        "garbage": "soon",
    }[form]
    note = draw(st.text("ab;\n ", max_size=5))
    phone = draw(st.sampled_from(PHONES))
    return [phone, text, note], moment if form in ("iso", "czech", "czech_spaced") else None, phone


@settings(max_examples=25, deadline=None)
@given(
    st.lists(consent_rows(), min_size=1, max_size=15),
    st.sampled_from([(",", "utf-8"), (";", "cp1250"), ("\t", "utf-8-sig")]),
)
def test_every_row_is_loaded_or_rejected_on_its_own_line(
    data: list[tuple[list[str], datetime | None, str]], dialect: tuple[str, str]
) -> None:
    delimiter, encoding = dialect
    body = [[f"C{i}", *row] for i, (row, _, _) in enumerate(data)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(
            Path(folder) / "c.csv",
            ["consent_id", "phone", "granted_at", "poznámka"],
            body,
            delimiter=delimiter,
            encoding=encoding,
        )
        text = path.read_bytes().decode(encoding).lstrip("\ufeff")
        starts, line = [], 2
        for row in body:  # the line each row starts on, counting its quoted newlines
            starts.append(line)
            line += sum(str(v).count("\n") for v in row) + 1
        assert text.count("\n") == line - 1
        store = EvidenceStore()
        bad = {
            starts[i]
            for i, (_, moment, phone) in enumerate(data)
            if moment is None or not normalize_one(phone).valid
        }
        if len(bad) == len(data):  # nothing loadable: refused whole, every row named
            with pytest.raises(StrictLoadError) as info:
                store.load("consents", path)
            assert set(info.value.rejects.column("line").to_pylist()) == bad
            assert rows(store, "SELECT count(*) FROM consents") == [(0,)]
            return
        report = store.load("consents", path)
    assert report.rows_read == len(data) == report.rows_loaded + report.rows_rejected
    assert set(report.rejects.column("line").to_pylist()) == bad
    expected = sorted(
        (f"C{i}", to_utc(moment))
        for i, (_, moment, phone) in enumerate(data)
        if moment is not None and normalize_one(phone).valid
    )
    assert rows(store, "SELECT consent_id, granted_at FROM consents ORDER BY 1") == expected

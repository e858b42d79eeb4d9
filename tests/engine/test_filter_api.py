"""`Gate.filter` and `FilterResult` as docs/design.md promises them: any source in, every row out
once in input order with its input columns untouched, input errors stop before any output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import optin_gate as og
from tests.ways.law_world import T_IN, world

COLUMNS = ["e164", "allowed", "reason", "evidence", "rule_set"]
# (as written, reason at T_IN for controller acme; see tests/ways/law_world.py)
LIST = [
    ("+420 601 000 001", "CONSENT"),
    ("601000030", "EXISTING_CUSTOMER"),
    ("00420601000050", "DIRECTORY_OPT_IN"),
    ("601 000 020", "OBJECTION"),
    ("601-000-052", "NO_LEGAL_BASIS"),
    ("n/a", "INVALID_NUMBER"),
    ("+49 151 12345678", "UNSUPPORTED_REGION"),
    ("800 123 456", "BLOCKED_NUMBER_TYPE"),
    ("+420 601 000 001", "CONSENT"),  # a duplicate gets its own row
]
PHONES = [p for p, _ in LIST]
REASONS = [r for _, r in LIST]


@pytest.fixture(scope="module")
def gate() -> og.Gate:
    return og.Gate(world(), controller="acme")


def _listing() -> pa.Table:
    return pa.table(
        {
            "Jméno": [f"Osoba {i}" for i in range(len(PHONES))],
            "Telefonní číslo": PHONES,
            "pořadí": pa.array(range(len(PHONES)), pa.int32()),
        }
    )


def test_arrow_list_every_row_once_in_order_untouched(gate: og.Gate) -> None:
    listing = _listing()
    result = gate.filter(listing, as_of=T_IN)
    assert result.phone_column == "Telefonní číslo"  # found by its Czech name
    assert result.table.column_names == [*listing.column_names, *COLUMNS, "note"]
    assert result.table.select(listing.column_names).equals(listing)
    assert result.table.column("reason").to_pylist() == REASONS
    assert result.table.column("allowed").to_pylist() == [og.Reason(r).allowed for r in REASONS]
    assert result.permitted.column("pořadí").to_pylist() == [0, 1, 2, 8]
    assert result.denied.column("pořadí").to_pylist() == [3, 4, 5, 6, 7]
    assert result.summary == {og.Reason(r): REASONS.count(r) for r in dict.fromkeys(REASONS)}
    assert list(result.summary) == [r for r in og.Reason if r in result.summary]  # rule order
    assert len(result) == len(PHONES)


def test_pandas_csv_and_parquet_give_the_same_decisions(gate: og.Gate, tmp_path: Path) -> None:
    frame = pd.DataFrame({"tel": PHONES, "id": range(len(PHONES))})
    csv_path = tmp_path / "list.csv"
    csv_path.write_bytes(
        ("id;Telefon\r\n" + "".join(f"{i};{p}\r\n" for i, p in enumerate(PHONES))).encode("cp1250")
    )
    parquet_path = tmp_path / "list.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_path)
    for source in (frame, csv_path, str(parquet_path)):
        result = gate.filter(source, as_of=T_IN)
        assert result.table.column("reason").to_pylist() == REASONS, source
    from_pandas = gate.filter(frame, as_of=T_IN)
    assert from_pandas.to_pandas()["tel"].tolist() == PHONES


def test_numeric_phone_column_is_read_as_digits(gate: og.Gate) -> None:
    frame = pd.DataFrame({"phone": [601000001, None, 601000030]})  # floats with a gap
    result = gate.filter(frame, as_of=T_IN)
    assert result.table.column("reason").to_pylist() == [
        "CONSENT",
        "INVALID_NUMBER",
        "EXISTING_CUSTOMER",
    ]
    assert result.table.column("phone").equals(pa.Table.from_pandas(frame).column("phone"))


def test_phone_column_given_by_name(gate: og.Gate) -> None:
    listing = pa.table({"a": PHONES, "b": PHONES[::-1]})
    result = gate.filter(listing, as_of=T_IN, phone_column="b")
    assert result.phone_column == "b"
    assert result.table.column("reason").to_pylist() == REASONS[::-1]


@pytest.mark.parametrize(
    ("listing", "kwargs", "words"),
    [
        (pa.table({"x": PHONES}), {}, ["no column looks like phone numbers", "--phone-column"]),
        (
            pa.table({"tel": PHONES, "mobil": PHONES}),
            {},
            ["several columns look like phone numbers", "--phone-column 'tel'"],
        ),
        (pa.table({"tel": PHONES}), {"phone_column": "telefon"}, ["no column 'telefon'"]),
        (
            pa.table({"tel": PHONES, "reason": PHONES}),
            {},
            ["already has a column named 'reason'", "rename or drop"],
        ),
        (pa.table({"tel": PHONES}), {"call_type": "robot"}, ["not a call type", "automated"]),
        (pa.table({"tel": PHONES}), {"as_of": "last tuesday"}, ["not an ISO 8601", "2026-11-28"]),
    ],
)
def test_input_errors_name_the_fix(
    gate: og.Gate, listing: pa.Table, kwargs: dict[str, str], words: list[str]
) -> None:
    with pytest.raises(og.InputError) as info:
        gate.filter(listing, **kwargs)
    text = str(info.value)
    for word in words:
        assert word in text
    assert "Hint:" in text
    assert not any(p in text for p in PHONES if p != "n/a")  # no phone number in the message


def test_unreadable_and_missing_files(gate: og.Gate, tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(og.InputError, match=r"broken\.parquet"):
        gate.filter(broken)
    with pytest.raises(og.InputError, match=r"missing\.csv"):
        gate.filter(tmp_path / "missing.csv")


def test_write_is_atomic_and_by_extension(gate: og.Gate, tmp_path: Path) -> None:
    result = gate.filter(_listing(), as_of=T_IN)
    every = result.write(tmp_path / "all.csv")
    permitted = result.write(tmp_path / "ok.parquet", permitted_only=True)
    read = pcsv.read_csv(every, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    assert read.column("reason").to_pylist() == REASONS
    assert read.column_names == result.table.column_names
    back = pq.read_table(permitted)
    assert back.equals(result.permitted)
    with pytest.raises(og.InputError, match="extension"):
        result.write(tmp_path / "out.xlsx")
    with pytest.raises(og.InputError, match="folder"):
        result.write(tmp_path / "nope" / "out.csv")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # no temporary files left behind
    assert not (tmp_path / "out.xlsx").exists()

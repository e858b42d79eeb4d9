"""normalize keeps every row in order, reads every input kind, and refuses what it cannot read."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pytest

import optin_gate as og
import optin_gate.numbers
from optin_gate.numbers import NORMALIZED_SCHEMA, Normalized, normalize, normalize_one
from optin_gate.numbers.reference import NOT_VALID, reference_one

MIXED = [
    "+420 601 234 567",
    None,
    "601234567",
    "601 234 567",
    "garbage",
    "",
    "+421 905 123 456",
    "601234567",
    None,
    "tel:+420-212-345-678",
]


def expected(values: Sequence[str | None], region: str = "CZ") -> list[dict[str, object]]:
    return [reference_one(v, region)._asdict() for v in values]


def test_rows_keep_order_length_nulls_and_duplicates() -> None:
    table = normalize(MIXED)
    assert table.schema == NORMALIZED_SCHEMA
    assert table.to_pylist() == expected(MIXED)
    assert table.column("valid").null_count == 0
    assert table.column("valid").to_pylist()[1] is False  # a null input is not valid


def test_public_names_are_the_same_functions() -> None:
    assert og.normalize is normalize
    assert og.normalize_one is normalize_one
    assert normalize_one("+420 601 234 567") == Normalized("+420601234567", True, "mobile", "CZ")


def test_empty_input_gives_an_empty_table() -> None:
    empties: tuple[object, ...] = (
        [],
        (),
        pa.array([], pa.string()),
        pa.chunked_array([], pa.string()),
    )
    for empty in empties:
        table = normalize(empty)
        assert table.num_rows == 0
        assert table.schema == NORMALIZED_SCHEMA


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_arrow_text_types(kind: pa.DataType) -> None:
    assert normalize(pa.array(MIXED, kind)).to_pylist() == expected(MIXED)


def test_chunked_and_dictionary_arrays() -> None:
    chunked = pa.chunked_array([pa.array(MIXED[:4]), pa.array(MIXED[4:]), pa.array(MIXED[:3])])
    assert normalize(chunked).to_pylist() == expected(MIXED + MIXED[:3])
    sliced = pa.array(MIXED).slice(3, 5)
    assert normalize(sliced).to_pylist() == expected(MIXED[3:8])
    encoded = pa.array(MIXED).dictionary_encode()
    assert normalize(encoded).to_pylist() == expected(MIXED)


def test_numeric_arrow_columns_are_read_as_arrow_prints_them() -> None:
    ints = pa.array([420601234567, 601234567, None], pa.int64())
    assert normalize(ints).to_pylist() == expected(["420601234567", "601234567", None])
    floats = pa.array([420601234567.0, 601234567.0])
    as_text = pa.array([420601234567.0, 601234567.0]).cast(pa.string()).to_pylist()
    assert normalize(floats).to_pylist() == expected(as_text)


def test_pandas_series() -> None:
    pd = pytest.importorskip("pandas")
    objects = pd.Series([*MIXED[:5], float("nan"), pd.NA], dtype=object)
    assert normalize(objects).to_pylist() == expected([*MIXED[:5], None, None])
    text = pd.Series(["601234567", None, "+421905123456"], dtype="string")
    assert normalize(text).to_pylist() == expected(["601234567", None, "+421905123456"])
    categories = pd.Series(["601234567", "601234567", "x"], dtype="category")
    assert normalize(categories).to_pylist() == expected(["601234567", "601234567", "x"])
    numbers = pd.Series([420601234567, 601234567])
    assert normalize(numbers).to_pylist() == expected(["420601234567", "601234567"])


def test_very_long_and_odd_strings_are_answered_like_phonenumbers() -> None:
    values = ["6" * 10_000, "+420 " * 100, "601234567" * 30, " " * 300, "\u00a0" * 3, "+" * 5]
    values += ["(+420)", "+420 601 234 567" + "\u00a0" * 240, "\u00c2\u00a0601234567"]
    assert normalize(values).to_pylist() == expected(values)
    assert [normalize_one(v) for v in values] == [reference_one(v, "CZ") for v in values]


@pytest.mark.parametrize(
    ("values", "position"),
    [
        (["601234567", None, 601234567], 2),
        ([float("nan")], 0),
        (("601234567", b"601234567"), 1),
        (["ok", "\ud800"], 1),
    ],
)
def test_a_value_that_is_not_text_is_named_by_position(values: list[object], position: int) -> None:
    with pytest.raises(og.InputError) as caught:
        normalize(values)
    message = str(caught.value)
    assert f"position {position}" in message
    assert "Hint:" in message
    assert "601234567" not in message  # the number itself never goes into an error


def test_mixed_pandas_object_column_names_the_position() -> None:
    pd = pytest.importorskip("pandas")
    with pytest.raises(og.InputError, match="position 1"):
        normalize(pd.Series(["601234567", 601234567, None], dtype=object))


@pytest.mark.parametrize("values", ["+420 601 234 567", {"a": 1}, 42])
def test_a_single_string_or_other_object_is_refused(values: object) -> None:
    with pytest.raises(og.InputError):
        normalize(values)


@pytest.mark.parametrize("region", ["XX", "cz", "", None, 420])
def test_unknown_region_is_an_input_error(region: object) -> None:
    with pytest.raises(og.InputError, match="region"):
        normalize(["601234567"], region)  # type: ignore[arg-type]
    with pytest.raises(og.InputError, match="region"):
        normalize_one("601234567", region)  # type: ignore[arg-type]


def test_normalize_one_takes_text_or_none() -> None:
    assert normalize_one(None) == NOT_VALID
    with pytest.raises(og.InputError, match="takes text"):
        normalize_one(601234567)  # type: ignore[arg-type]


def test_neither_path_imports_pandas() -> None:
    code = (
        "import sys, pyarrow as pa\n"
        "import optin_gate.numbers as n\n"
        "n.normalize_one('+420 601 234 567'); n.normalize_one('tel:+420601234567')\n"
        "a = pa.chunked_array([n._arrow.string_array(['601 234 567', None, 'x'])])\n"
        "assert n.normalize(a).num_rows == 3\n"
        "assert n.normalize(['+421 905 123 456', None]).num_rows == 2\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def test_the_numbers_stage_imports_no_later_stage_nor_pandas_or_duckdb() -> None:
    package = Path(optin_gate.numbers.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                assert root not in {"pandas", "duckdb"}, (source.name, name)
                if root == "optin_gate":
                    below = {"_jit", "_runtime", "errors", "numbers"}  # the chain's bottom
                    assert name.split(".")[1] in below, (source.name, name)


def test_a_long_digit_heavy_value_does_not_shift_its_neighbours() -> None:
    # Over 255 digits in one cell once overflowed a packed per-string counter and misplaced
    # the digits of every later cell in the chunk (found by hypothesis).
    values = ["+420 2 12 0000 0000" * 19, "00420 2 1 200 0000", "1" * 300, "601 234 567"]
    assert normalize(values).to_pylist() == expected(values)

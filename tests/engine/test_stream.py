"""`optin-gate filter`: the file-to-file path gives the same rows as `Gate.filter`, in the list's
order, writes its outputs atomically, and on an input error writes nothing and exits 2.

Every test runs both ways through (`engine.held`, the list in Arrow; `engine.spilled`, the
list in DuckDB, for lists too large to hold), which must behave alike."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import optin_gate as og
from optin_gate.cli import main
from optin_gate.engine import filter_file, held
from tests.ways.law_world import T_IN, load_world

COLUMNS = ["e164", "allowed", "reason", "evidence", "rule_set"]
SCENARIOS = [f"601 000 {n:03d}" for n in range(1, 100)]
ODD = ["", "n/a", "+421 901 234 567", "800 123 456", "+420 601-000-001", "00420601000030"]


@pytest.fixture(autouse=True, params=["held", "spilled"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which way the list goes: held in Arrow, or by DuckDB as if it did not fit in memory.

    Through `fits`, not `filter_file(way=...)`, so that the CLI's runs go that way too.
    """
    if request.param == "spilled":
        monkeypatch.setattr(held, "fits", lambda con, src: False)
    return str(request.param)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "evidence.duckdb"
    load_world(og.EvidenceStore(path))
    return path


def _write_list(path: Path, rows: int, seed: int = 1) -> list[str]:
    """A Czech-looking list: `;`, Windows-1250, quoted fields with `;` and a line break."""
    rnd = random.Random(seed)
    phones = [rnd.choice(SCENARIOS + ODD) for _ in range(rows)]
    lines = ['"Pořadí";"Jméno";"Telefon";"Poznámka"']
    for i, p in enumerate(phones):
        note = rnd.choice(["", "volat ráno", '"a; b"', '"dva\r\nřádky"', '"řekl ""ne"""'])
        lines.append(f"{i};Žofie Nováková {i};{p};{note}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1250"))
    return phones


def _rows(path: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    fn = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    opts = "" if path.suffix == ".parquet" else ", all_varchar=true, header=true"
    return con.execute(f"SELECT * FROM {fn}('{path}'{opts})").fetchall()


def test_files_match_gate_filter_row_by_row(store_path: Path, tmp_path: Path) -> None:
    listing = tmp_path / "kampan.csv"
    phones = _write_list(listing, 3000)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    summary = filter_file(
        gate.context,
        listing,
        as_of=T_IN,
        out=tmp_path / "ok.csv",
        decisions=tmp_path / "all.parquet",
    )
    # The files keep their columns; the note is `Gate.filter`'s.
    expected = gate.filter(listing, as_of=T_IN).table.drop_columns(["note"])
    every = pq.read_table(tmp_path / "all.parquet")
    assert every.column_names == expected.column_names
    assert every.to_pylist() == expected.to_pylist()  # same rows, same order, same values
    assert every.column("Pořadí").to_pylist() == [str(i) for i in range(len(phones))]
    assert every.column("Poznámka").to_pylist() == expected.column("Poznámka").to_pylist()
    ok = _rows(tmp_path / "ok.csv")
    want = [
        tuple("true" if v is True else v for v in row.values())
        for row in expected.to_pylist()
        if row["allowed"]
    ]
    assert ok == want
    assert summary.rows == len(phones)
    assert summary.permitted == len(ok)
    assert summary.summary == gate.filter(listing, as_of=T_IN).summary


def test_order_holds_on_a_list_big_enough_to_run_in_parallel(
    store_path: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "big.csv"
    _write_list(listing, 60_000, seed=2)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    filter_file(
        gate.context, listing, as_of=T_IN, out=tmp_path / "ok.csv", decisions=tmp_path / "a.csv"
    )
    every = [int(str(r[0])) for r in _rows(tmp_path / "a.csv")]
    assert every == list(range(60_000))
    permitted = [int(str(r[0])) for r in _rows(tmp_path / "ok.csv")]
    assert permitted == sorted(permitted)
    assert len(permitted) > 1000


def _cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_prints_the_summary_and_writes_both_files(store_path: Path, tmp_path: Path) -> None:
    listing = tmp_path / "kampan.csv"
    _write_list(listing, 500)
    code, out, err = _cli(
        "filter", listing, "--store", store_path, "--controller", "acme", "--as-of", T_IN,
        "--out", tmp_path / "ok.csv", "--decisions", tmp_path / "all.csv",
    )  # fmt: skip
    assert code == 0, err
    assert "phone column 'Telefon'" in out
    assert "Rows" in out
    assert "500" in out
    for reason in ("CONSENT", "OBJECTION", "INVALID_NUMBER", "NO_LEGAL_BASIS"):
        assert reason in out
    assert og.Reason.OBJECTION.explanation.split()[0] in out
    assert len(_rows(tmp_path / "all.csv")) == 500
    assert (tmp_path / "ok.csv").exists()
    assert err == ""  # not a terminal: no progress bar


def test_cli_automated_calls_need_consent(store_path: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.csv"
    listing.write_text("phone\n601000030\n601000040\n")
    code, _, err = _cli(
        "filter", listing, "--store", store_path, "--controller", "acme", "--as-of", T_IN,
        "--call-type", "automated", "--decisions", tmp_path / "d.csv",
    )  # fmt: skip
    assert code == 0, err
    reasons = [r[3] for r in _rows(tmp_path / "d.csv")]
    assert reasons == ["AUTOMATED_NEEDS_CONSENT", "CONSENT"]


@pytest.mark.parametrize(
    ("content", "extra", "words"),
    [
        ("jmeno;mesto\nEva;Brno\n", [], ["no column looks like phone numbers", "--phone-column"]),
        ("tel;reason\n601000001;x\n", [], ["already has a column named 'reason'"]),
        ("tel;E164\n601000001;x\n", [], ["already has a column named 'E164'"]),
        ("tel\n601000001\n", ["--phone-column", "mobil"], ["no column 'mobil'"]),
        ("tel;x\n601000001;1\n601000002;1;2;3\n", [], ["line 3", "fields"]),
        ("tel\n601000001\n", ["--as-of", "včera"], ["--as-of", "ISO 8601"]),
        ("tel\n601000001\n", ["--call-type", "robot"], ["robot"]),
    ],
)
def test_cli_input_errors_exit_2_and_write_nothing(
    store_path: Path, tmp_path: Path, content: str, extra: list[str], words: list[str]
) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text(content, encoding="utf-8")
    out = tmp_path / "permitted.csv"
    out.write_text("yesterday's list\n")  # an earlier output must survive a failed run
    code, _, err = _cli(
        "filter", listing, "--store", store_path, "--out", out,
        "--decisions", tmp_path / "all.csv", *extra,
    )  # fmt: skip
    assert code == 2
    for word in words:
        assert word in err
    assert out.read_text() == "yesterday's list\n"
    assert not (tmp_path / "all.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv", "permitted.csv"]


def test_cli_missing_store_and_bad_output_name(tmp_path: Path, store_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("tel\n601000001\n")
    code, _, err = _cli("filter", listing, "--store", tmp_path / "none.duckdb")
    assert code == 2
    assert "no evidence store" in err
    assert not (tmp_path / "none.duckdb").exists()  # not created empty
    code, _, err = _cli("filter", listing, "--store", store_path, "--out", tmp_path / "x.xlsx")
    assert code == 2
    assert ".csv or .parquet" in err
    code, _, err = _cli("filter", tmp_path / "missing.csv", "--store", store_path)
    assert code == 2
    assert "missing.csv" in err


def test_cli_parquet_list_with_numeric_phones(store_path: Path, tmp_path: Path) -> None:
    import pyarrow as pa

    listing = tmp_path / "list.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "msisdn": [420601000001, None, 601000030]}), listing)
    code, _, err = _cli(
        "filter", listing, "--store", store_path, "--controller", "acme", "--as-of", T_IN,
        "--decisions", tmp_path / "d.parquet",
    )  # fmt: skip
    assert code == 0, err
    back = pq.read_table(tmp_path / "d.parquet")
    assert back.column("id").to_pylist() == [1, 2, 3]
    assert back.column("msisdn").to_pylist() == [420601000001, None, 601000030]  # untouched
    assert back.column("reason").to_pylist() == ["CONSENT", "INVALID_NUMBER", "EXISTING_CUSTOMER"]
    assert back.column("allowed").to_pylist() == [True, False, True]


def test_cli_refuses_one_file_for_both_outputs(store_path: Path, tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    listing.write_text("tel\n601000001\n")
    same = tmp_path / "out.csv"
    code, _, err = _cli(
        "filter", listing, "--store", store_path, "--out", same, "--decisions", same
    )
    assert code == 2
    assert "same file" in err
    assert not same.exists()


@pytest.mark.parametrize("where", ["Telefon", "Poznamka"])
def test_late_windows_1250_bytes_are_read_as_windows_1250(
    store_path: Path, tmp_path: Path, where: str
) -> None:
    # The first megabyte is plain ASCII, so the sniffed encoding is UTF-8 and the filter lets
    # DuckDB check the rest as it reads. A cp1250 byte far down (in the phone column, or only
    # in another column, which the first read skips) must still give the Windows-1250 text,
    # not an error and not mojibake.
    rows = [f"{i};601 000 {1 + i % 99:03d};pozn" for i in range(60_000)]
    last = "601 000 001;Říjen" if where == "Poznamka" else "601 000 0ř1;x"
    text = "Poradi;Telefon;Poznamka\n" + "\n".join(rows) + f"\n60000;{last}\n"
    listing = tmp_path / "late.csv"
    listing.write_bytes(text.encode("cp1250"))
    assert text.rindex("601 000 0") > (1 << 20)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    summary = filter_file(gate.context, listing, as_of=T_IN, decisions=tmp_path / "all.parquet")
    every = pq.read_table(tmp_path / "all.parquet")
    assert summary.rows == every.num_rows == 60_001
    assert every.column("Poradi").to_pylist() == [str(i) for i in range(60_001)]
    lastrow = every.slice(60_000).to_pylist()[0]
    if where == "Poznamka":
        assert lastrow["Poznamka"] == "Říjen"
        assert lastrow["reason"] == every.column("reason")[0].as_py()  # 601 000 001 again
    else:
        assert lastrow["Telefon"] == "601 000 0ř1"
        assert lastrow["reason"] == "INVALID_NUMBER"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_bytes_that_are_no_known_encoding_fail_on_their_line(
    store_path: Path, tmp_path: Path
) -> None:
    # Valid-looking UTF-8 start, then a NUL-free byte that cp1250 does not define (0x98):
    # the io stage's own check decides, and the error names the file; nothing is written.
    rows = "".join(f"{i};601000{i % 1000:03d}\n" for i in range(80_000))
    listing = tmp_path / "bad.csv"
    listing.write_bytes(b"id;tel\n" + rows.encode() + b"x;601\x98000001\n")
    out = tmp_path / "ok.csv"
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    with pytest.raises(og.OptinGateError, match=r"bad\.csv"):
        filter_file(gate.context, listing, as_of=T_IN, out=out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_an_output_short_of_its_decisions_is_not_written(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    # The second read must give every row the first one decided (a list rewritten between
    # the reads would not): a short output fails the run and yesterday's file stays. Only
    # the spilled way reads the list twice.
    from optin_gate.engine import spilled

    if way != "spilled":
        pytest.skip("the list held in Arrow is read once")
    listing = tmp_path / "l.csv"
    _write_list(listing, 200)
    out = tmp_path / "ok.csv"
    out.write_text("yesterday's list\n")
    real = spilled._rows_sql
    monkeypatch.setattr(spilled, "_rows_sql", lambda *a, **k: real(*a, **k) + " LIMIT 10")
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    with pytest.raises(og.OptinGateError, match="changed while it was read"):
        filter_file(gate.context, listing, as_of=T_IN, out=out, decisions=tmp_path / "all.csv")
    assert out.read_text() == "yesterday's list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.csv", "ok.csv"]


def test_permitted_alone_matches_permitted_beside_every_row(
    store_path: Path, tmp_path: Path
) -> None:
    # --out alone takes its own path (the list held in a table, only the allowed decisions
    # kept); it must write the same file, in list order, with the same summary.
    listing = tmp_path / "big.csv"
    _write_list(listing, 30_000, seed=3)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    both = filter_file(
        gate.context, listing, as_of=T_IN, out=tmp_path / "a.csv", decisions=tmp_path / "all.csv"
    )
    alone = filter_file(gate.context, listing, as_of=T_IN, out=tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert alone.summary == both.summary
    order = [int(str(r[0])) for r in _rows(tmp_path / "b.csv")]
    assert order == sorted(order)
    assert len(order) == alone.permitted > 1000


def test_a_number_the_store_lists_twice_fails_the_run_only_if_asked_about(
    tmp_path: Path,
) -> None:
    # A directory snapshot that lists a number twice cannot say which entry holds: the run
    # fails rather than pick one, but only when the list asks about that number.
    path = tmp_path / "twice.duckdb"
    load_world(og.EvidenceStore(path))
    con = duckdb.connect(str(path))
    ((phone,),) = con.execute(
        "SELECT phone FROM directory WHERE marketing = 'opt_in' AND valid_to IS NULL LIMIT 1"
    ).fetchall()
    con.execute(f"INSERT INTO directory SELECT * FROM directory WHERE phone = {phone}")
    con.close()
    gate = og.Gate(og.EvidenceStore(path), controller="acme")
    listing = tmp_path / "l.csv"
    listing.write_text(f"tel\n601000001\n+{phone}\n")
    out = tmp_path / "ok.csv"
    with pytest.raises(og.StoreError, match="answers twice"):
        filter_file(gate.context, listing, as_of=T_IN, out=out)
    assert not out.exists()
    listing.write_text("tel\n601000001\n")
    assert filter_file(gate.context, listing, as_of=T_IN, out=out).rows == 1


def test_a_column_named_like_the_internal_ones_in_other_case_stays_the_users(
    store_path: Path, tmp_path: Path
) -> None:
    # DuckDB matches column names whatever their case: the decision's own columns beside
    # the list must not take the place of the user's.
    listing = tmp_path / "l.csv"
    listing.write_text("telefon,__OG_phone,__OG_EVIDENCE\n601000001,a,x\n601000030,b,y\n")
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    filter_file(gate.context, listing, as_of=T_IN, decisions=tmp_path / "all.parquet")
    back = pq.read_table(tmp_path / "all.parquet")
    assert back.column_names == ["telefon", "__OG_phone", "__OG_EVIDENCE", *COLUMNS]
    assert back.column("__OG_phone").to_pylist() == ["a", "b"]
    assert back.column("e164").to_pylist() == ["+420601000001", "+420601000030"]
    assert (
        back.column("evidence").to_pylist()
        == gate.filter(listing, as_of=T_IN).table.column("evidence").to_pylist()
    )


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([420601000001.0, 601000030.0, None], "float64"),
        ([b"+420601000001", b"601000030", None], "binary"),
        ([420601000001, 601000030, None], "int64"),
    ],
)
def test_a_parquet_phone_column_of_any_type_reads_alike_both_ways(
    store_path: Path, tmp_path: Path, values: list[object], kind: str
) -> None:
    # Whichever way a list goes, its phone column is read as `Gate.filter` reads it:
    # floats that are whole numbers as their digits, bytes as UTF-8 text.
    import pyarrow as pa

    listing = tmp_path / "l.parquet"
    pq.write_table(pa.table({"msisdn": pa.array(values, getattr(pa, kind)())}), listing)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    filter_file(gate.context, listing, as_of=T_IN, decisions=tmp_path / "d.parquet")
    back = pq.read_table(tmp_path / "d.parquet")
    assert back.column("e164").to_pylist() == ["+420601000001", "+420601000030", None]
    assert (
        back.column("reason").to_pylist()
        == gate.filter(listing, as_of=T_IN).table.column("reason").to_pylist()
    )


def test_a_phone_column_of_dates_is_refused_both_ways(store_path: Path, tmp_path: Path) -> None:
    import datetime

    import pyarrow as pa

    listing = tmp_path / "l.parquet"
    pq.write_table(pa.table({"telefon": pa.array([datetime.date(2026, 1, 1)])}), listing)
    gate = og.Gate(og.EvidenceStore(store_path), controller="acme")
    with pytest.raises(og.InputError, match="date32"):
        filter_file(gate.context, listing, as_of=T_IN, out=tmp_path / "ok.csv")
    assert not (tmp_path / "ok.csv").exists()

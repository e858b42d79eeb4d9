# ruff: noqa: PLR0912, PLR0915, RUF005
"""How the files in data/sample/ were made (deterministic: re-run to rebuild them byte for byte).

    .venv/bin/python data/sample/build_sample.py

The campaign list comes from `benchmarks/generate.py` (names, cities, phone numbers in a mix of
written forms, some invalid, foreign, toll-free and premium-rate). The evidence is then drawn
from the list's own valid numbers, so that every `Reason` shows up in `optin-gate demo`. All
dates are written relative to ANCHOR; the demo shifts them to today when it loads them (see
manifest.json), except the 2022 directory snapshot, which shows the old opt-out regime.

Formats differ on purpose, as real files do: the campaign is Windows-1250 with `;` and Czech
headers (a Czech Excel export); consents are UTF-8 with a BOM, `;`, Czech headers and Czech
dates; contracts are plain English-header CSV with ISO dates; objections use `d. m. yyyy`.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks import generate  # noqa: E402
from optin_gate import normalize  # noqa: E402

ANCHOR = date(2026, 1, 15)
CONTROLLER = "energie-plus"
OTHER = "telco-cz"
ROWS = 3000
SEED = 2026


def _write(name: str, header: list[str], rows: list[list[str]], *, delimiter: str, encoding: str):
    with (HERE / name).open("w", encoding=encoding, newline="") as fh:
        out = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
        out.writerow(header)
        out.writerows(rows)


def _cz_time(t: datetime, spaced: bool = False) -> str:
    dot = ". " if spaced else "."
    return f"{t.day}{dot}{t.month}{dot}{t.year} {t.hour}:{t.minute:02d}"


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def main() -> None:
    """Write every sample file and manifest.json."""
    rnd = random.Random(SEED)
    at = datetime.combine(ANCHOR, datetime.min.time()).replace(hour=10)

    def before(lo: int, hi: int) -> datetime:
        """A time between `hi` and `lo` days before the anchor, in office hours."""
        day = ANCHOR - timedelta(days=rnd.randint(lo, hi))
        return datetime.combine(day, datetime.min.time()).replace(
            hour=rnd.randint(8, 17), minute=rnd.randint(0, 59)
        )

    # ---- the campaign list ---------------------------------------------------------------
    table = generate.campaign(ROWS, SEED, headers="cs", duplicate_share=0.03)
    names, phones = table.column("jmeno").to_pylist(), table.column("telefon").to_pylist()
    cities, segments = table.column("mesto").to_pylist(), table.column("segment").to_pylist()
    notes = ["", "", "", "volat odpoledne", "pozor; jen mobil", 'klient "VIP"', "nevolat v pátek"]
    slovak = _slovak_rows(random.Random(SEED + 421))
    _write(
        "kampan_leden.csv",
        ["Jméno a příjmení", "Telefonní číslo", "Město", "Segment", "Poznámka"],
        [
            [n or "", p or "", c or "", s or "", rnd.choice(notes)]
            for n, p, c, s in zip(names, phones, cities, segments, strict=True)
        ]
        + slovak,
        delimiter=";",
        encoding="cp1250",
    )

    # ---- evidence over the list's own valid Czech numbers --------------------------------
    norm = normalize(phones).to_pylist()
    people = sorted(
        {n["e164"] for n in norm if n["valid"] and n["country"] == "CZ"}
        - {n["e164"] for n in norm if n["number_type"] in ("toll_free", "premium_rate")}
    )
    rnd.shuffle(people)

    def take(share: float) -> list[str]:
        k = round(len(people) * share)
        picked, people[:] = people[:k], people[k:]
        return picked

    def written(e164: str) -> str:  # evidence files write numbers their own way, too
        n = e164[4:]
        return rnd.choice([e164, n, f"{n[:3]} {n[3:6]} {n[6:]}", f"00420{n}"])

    consents: list[list[str]] = []
    for i, p in enumerate(take(0.14)):
        granted, withdrawn, expires = before(30, 1100), None, None
        r = rnd.random()
        if r < 0.12:
            withdrawn = before(2, 25)
        elif r < 0.18:
            expires = before(1, 20)
        elif r < 0.22:
            granted = at + timedelta(days=rnd.randint(3, 20))  # a future consent: not yet
        channel = rnd.choice(["telefon"] * 6 + ["vše", "e-mail"])
        source = rnd.choice(["web", "call centrum", "e-shop", "papír"])
        consents.append(
            [
                f"S-{10000 + i}",
                written(p),
                CONTROLLER,
                _cz_time(granted),
                _cz_time(withdrawn) if withdrawn else "",
                _cz_time(expires) if expires else "",
                channel,
                source,
            ]
        )
    for i, p in enumerate(take(0.03)):  # another company's consents: no ground for ours
        consents.append([f"T-{500 + i}", written(p), OTHER, _cz_time(before(30, 900))] + [""] * 2)
        consents[-1] += ["telefon", "web"]

    contracts: list[list[str]] = []
    for i, p in enumerate(take(0.10)):
        start = before(40, 2000).date()
        r = rnd.random()
        end = None
        if r < 0.25:  # ended: no longer a customer
            end = start + timedelta(days=rnd.randint(0, (ANCHOR - start).days - 1))
        elif r < 0.40:
            end = ANCHOR + timedelta(days=rnd.randint(1, 400))
        contracts.append(
            [f"K-{70000 + i}", written(p), CONTROLLER, _iso(start), _iso(end), f"Z{4000 + i}"]
        )

    objections: list[list[str]] = []
    objected = take(0.025)
    for i, p in enumerate(objected):
        ctrl = CONTROLLER if i % 2 else ""
        objections.append([f"N-{300 + i}", written(p), _cz_time(before(2, 400), True), ctrl])
    for i, p in enumerate(objected[: len(objected) // 3]):  # some had given consent earlier
        consents.append(
            [f"S-{20000 + i}", written(p), CONTROLLER, _cz_time(before(450, 900)), "", ""]
            + ["telefon", "web"]
        )
    for i, p in enumerate(take(0.01)):  # objected, then consented again: the newer will wins
        objections.append([f"N-{600 + i}", written(p), _cz_time(before(200, 300), True), ""])
        consents.append(
            [f"S-{30000 + i}", written(p), CONTROLLER, _cz_time(before(20, 100)), "", ""]
            + ["telefon", "call centrum"]
        )

    listed = people[:]  # everyone left, and some of the above, may be in the directory
    current = {p: rnd.choices(["opt_in", "opt_out", "unmarked"], [15, 30, 55])[0] for p in listed}
    current = {p: m for p, m in current.items() if rnd.random() < 0.6}
    previous = {p: m for p, m in current.items() if rnd.random() < 0.97}
    for p in rnd.sample(sorted(previous), k=len(previous) // 20):
        previous[p] = rnd.choice(["opt_in", "opt_out", "unmarked"])
    older = {p: m for p, m in previous.items() if rnd.random() < 0.97}
    for p in rnd.sample(sorted(older), k=len(older) // 20):
        older[p] = rnd.choice(["opt_in", "opt_out", "unmarked"])
    history = {p: rnd.choices(["opt_in", "opt_out", "unmarked"], [5, 35, 60])[0] for p in listed}
    history = {p: m for p, m in history.items() if rnd.random() < 0.7}

    # Provenance, drawn without `rnd` so that every file above stays as it was: the form of
    # each consent follows its source, and every seventh has no proof on record.
    forms = {"web": "web_form", "e-shop": "web_form", "papír": "paper"}
    proofs = {"web": "formular", "e-shop": "objednavka", "papír": "sken"}
    for i, row in enumerate(consents):
        source = row[7]
        proof = "" if i % 7 == 3 else f"{proofs.get(source, 'nahravka')}-{row[0]}"
        row += ["", "direct", "souhlas-v2" if i % 5 else "", proof]
        row += [forms.get(source, "inbound_call")]
    # Two consents that do not count for an energy campaign: one bought with a list, one
    # given for insurance offers only. Their numbers have no other evidence.
    spare = [p for p in people if p not in current][:2]
    bought = at - timedelta(days=100)
    consents.append(
        ["S-40000", spare[0], CONTROLLER, _cz_time(bought), "", "", "telefon", "seznam-partner"]
        + ["", "third_party", "", "smlouva-partner-7", "other"]
    )
    consents.append(
        ["S-40001", spare[1], CONTROLLER, _cz_time(bought), "", "", "telefon", "web"]
        + ["Pojištění", "direct", "souhlas-pojisteni-v1", "formular-S-40001", "web_form"]
    )
    _write(
        "souhlasy.csv",
        ["ID souhlasu", "Telefon", "Správce", "Uděleno", "Odvoláno", "Platnost do", "Kanál"]
        + ["Zdroj", "Účel", "Získáno", "Znění", "Doklad", "Forma udělení"],
        consents,
        delimiter=";",
        encoding="utf-8-sig",
    )
    _write(
        "contracts.csv",
        ["contract_id", "phone", "controller", "start_date", "end_date", "customer_id"],
        contracts,
        delimiter=",",
        encoding="utf-8",
    )
    _write(
        "namitky.csv",
        ["Číslo námitky", "Telefon", "Datum podání", "Správce"],
        objections,
        delimiter=";",
        encoding="utf-8",
    )
    for name, marks in (
        ("seznam_aktualni.csv", current),
        ("seznam_predchozi.csv", previous),
        ("seznam_starsi.csv", older),
        ("seznam_2022-06-01.csv", history),
    ):
        rows = [[written(p), m] for p, m in sorted(marks.items())]
        _write(name, ["telefon", "marketing"], rows, delimiter=";", encoding="utf-8")

    # ---- a call log of the weeks before the anchor (for `optin-gate audit`) --------------
    calls = []
    times = sorted(before(1, 60) for _ in range(1500))
    for i, t in enumerate(times):
        p = rnd.choice(phones) or ""
        when = t.isoformat(timespec="minutes") if rnd.random() < 0.6 else _cz_time(t)
        calls.append(
            [
                f"H-{900000 + i}",
                p,
                when,
                CONTROLLER,
                rnd.choice(["zima-2026", "leden-retence"]),
                rnd.choice(["eva.k", "petr.n", "jana.s", "ivr"]),
                "automated" if rnd.random() < 0.08 else "live",
            ]
        )
    _write(
        "hovory.csv",
        ["call_id", "phone", "called_at", "controller", "campaign", "agent", "call_type"],
        calls,
        delimiter=",",
        encoding="utf-8",
    )

    manifest = {
        "anchor": ANCHOR.isoformat(),
        "controller": CONTROLLER,
        "campaign": {"file": "kampan_leden.csv"},
        "evidence": [
            {"kind": "consents", "file": "souhlasy.csv", "dates": ["Uděleno", "Odvoláno"]
             + ["Platnost do"]},
            {"kind": "contracts", "file": "contracts.csv", "dates": ["start_date", "end_date"]},
            {"kind": "objections", "file": "namitky.csv", "dates": ["Datum podání"]},
            {"kind": "directory", "file": "seznam_2022-06-01.csv", "snapshot_date": "2022-06-01",
             "shift": False},
            {"kind": "directory", "file": "seznam_starsi.csv", "snapshot_days": -65},
            {"kind": "directory", "file": "seznam_predchozi.csv", "snapshot_days": -35},
            {"kind": "directory", "file": "seznam_aktualni.csv", "snapshot_days": -5},
            {"kind": "consents", "file": "suhlasy_sk.csv", "dates": ["granted_at"]},
            {"kind": "contracts", "file": "zmluvy_sk.csv", "dates": ["start_date", "end_date"]},
            {"kind": "sk_register", "file": "zoznam_predosly.csv", "release_back": 1},
            {"kind": "sk_register", "file": "zoznam_aktualny.csv", "release_back": 0},
        ],
        "sk_campaign": {"sector": "energie", "caller_id": "+421 888 100 200"},
        "calls": {"file": "hovory.csv", "dates": ["called_at"]},
    }  # fmt: skip
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


SK_ROWS = 400
SK_FIRST = ["Ján", "Peter", "Mária", "Zuzana", "Ľubomír", "Katarína", "Juraj", "Eva", "Tomáš"]
SK_LAST = ["Horváth", "Kováč", "Varga", "Tóth", "Nagy", "Baláž", "Szabó", "Molnár", "Lukáč"]
SK_CITIES = ["Bratislava", "Košice", "Žilina", "Nitra", "Prešov", "Trnava", "Banská Bystrica"]


def _slovak_rows(rnd: random.Random) -> list[list[str]]:
    """The campaign's Slovak part (its own random stream: the Czech part stays as it was),
    and the Slovak evidence: consents, contracts and two releases of the regulator's list.

    The list's releases are named by how many releases before the demo's day they are
    (manifest `release_back`): release dates are the 1st and 16th, not a fixed offset.
    """
    drawn = [f"+421{k}" for k in rnd.sample(range(900_000_000, 950_000_000), SK_ROWS * 3)]
    valid = [n["valid"] and n["number_type"] == "mobile" for n in normalize(drawn).to_pylist()]
    e164s = [e for e, ok in zip(drawn, valid, strict=True) if ok][:SK_ROWS]
    rows = []
    for e164 in e164s:
        n = e164[4:]
        written = rnd.choice([e164, f"00421{n}", f"+421 {n[:3]} {n[3:6]} {n[6:]}"])
        name = f"{rnd.choice(SK_FIRST)} {rnd.choice(SK_LAST)}"
        rows.append([name, written, rnd.choice(SK_CITIES), "standard", "SK"])
    people = e164s[:]
    rnd.shuffle(people)
    consented, people = people[:32], people[32:]
    customers, people = people[:24], people[24:]
    consents = [
        [f"SK-S-{100 + i}", p, CONTROLLER, (ANCHOR - timedelta(days=rnd.randint(40, 600)))
         .isoformat() + "T10:00", "telefon"]
        for i, p in enumerate(consented)
    ]  # fmt: skip
    contracts = []
    for i, p in enumerate(customers):
        start = ANCHOR - timedelta(days=rnd.randint(400, 1500))
        # ended within the one-year window, ended before it, or open
        end = rnd.choice([ANCHOR - timedelta(days=rnd.randint(1, 364)),
                          ANCHOR - timedelta(days=rnd.randint(366, 399)), None])  # fmt: skip
        contracts.append([f"SK-K-{200 + i}", p, CONTROLLER, _iso(start), _iso(end)])
    everyone = consented + customers + people
    checked = [p for p in everyone if rnd.random() < 0.8]  # the rest were never checked
    sectors = ["*", "energie", "telekom", "energie;financie"]
    current, previous = [], []
    for p in checked:
        registered = rnd.random() < 0.2
        entry = [p, "ano" if registered else "nie", rnd.choice(sectors) if registered else ""]
        if rnd.random() < 0.9:
            current.append(entry)
        if rnd.random() < 0.6:
            previous.append(entry if rnd.random() < 0.9 else [p, "nie", ""])
    _write("suhlasy_sk.csv", ["consent_id", "phone", "controller", "granted_at", "channel"],
           consents, delimiter=",", encoding="utf-8")  # fmt: skip
    _write("zmluvy_sk.csv", ["contract_id", "phone", "controller", "start_date", "end_date"],
           contracts, delimiter=",", encoding="utf-8")  # fmt: skip
    for name, entries in (("zoznam_aktualny.csv", current), ("zoznam_predosly.csv", previous)):
        _write(name, ["telefon", "registrovane", "sektory"], entries, delimiter=";",
               encoding="utf-8")  # fmt: skip
    return rows


if __name__ == "__main__":
    main()

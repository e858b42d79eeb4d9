"""The HTML report: one self-contained file a manager reads at a glance, offline.

No scripts, no external CSS, fonts or images: the charts are inline SVG from `charts`, the
styles one `<style>` block, and a Content-Security-Policy forbids the page any fetch at all.
Every string that came from the user's files (campaigns, agents, ids, column names, file
names) is escaped. Phone numbers are partly masked (see `labels`).
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from optin_gate.audit import charts
from optin_gate.audit.charts import Bar
from optin_gate.audit.labels import (
    czk,
    mask_e164,
    mask_raw,
    percent,
    prague_time,
    reason_label,
)
from optin_gate.errors import sheet_place

__all__ = ["HTML_VIOLATIONS", "render_html"]

HTML_VIOLATIONS = 200  # violations listed in the table at the end
TOP_GROUPS = 12  # bars per campaign / agent chart
REPEAT_SHOWN = 15  # numbers called after an objection, most-called first

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"

STYLE = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e3e6ea; --red:#c0392b; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 4px; }
p.lead, p.sub { color: var(--muted); margin: 0 0 14px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:18px 20px;
  margin: 16px 0; overflow-x: auto; }
.cards { display:grid; grid-template-columns: repeat(3, 1fr); gap:12px; margin: 18px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
.card .v { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing:.03em; }
.card .d { color: var(--muted); font-size: 13px; }
.card.bad .v { color: var(--red); }
.card.ok .v { color: #1e7b4f; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.nw { white-space: nowrap; }
.hash { display:block; color: var(--muted); font-size: 11px; }
tr:nth-child(even) td { background: #fafbfc; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12.5px; overflow-wrap: anywhere; }
dl { display:grid; grid-template-columns: 220px 1fr; gap: 4px 14px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 13px; }
.exposure { font-size: 22px; font-weight: 650; color: var(--red); }
svg.chart { max-width: 100%; height: auto; display: block; }
@media print { body { background:#fff; } section { break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _num(n: int) -> str:
    return f"{n:,}"


def _section(title: str, sub: str, body: str, ident: str) -> str:
    sub_html = f'<p class="sub">{sub}</p>' if sub else ""
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{sub_html}{body}</section>'


def _table(
    head: list[str],
    rows: list[list[str]],
    numeric: set[int] | None = None,
    wrap: set[int] | None = None,
) -> str:
    """A table; `numeric` columns are right-aligned, only `wrap` columns may wrap."""
    numeric, wrap = numeric or set(), wrap or set()

    def cls(i: int) -> str:
        names = ("n" if i in numeric else "") + ("" if i in wrap else " nw")
        return f' class="{names.strip()}"'

    th = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _card(key: str, value: str, detail: str = "", tone: str = "") -> str:
    return (
        f'<div class="card {tone}"><div class="k">{escape(key)}</div>'
        f'<div class="v">{escape(value)}</div><div class="d">{escape(detail)}</div></div>'
    )


def _number(row: dict[str, Any]) -> str:
    if row.get("e164"):
        return _e(mask_e164(row["e164"]))
    return _e(mask_raw(row.get("phone"))) + ' <span class="note">(invalid)</span>'


def _headline(s: dict[str, Any]) -> str:
    rep = s["repeat_objection"]
    exp = s["exposure"]
    cards = [
        _card("Calls audited", _num(s["calls"]), f"{_num(s['distinct_numbers'])} numbers called"),
        _card(
            "Violations",
            _num(s["violations"]),
            f"{percent(s['violations'], s['calls'])} of calls had no legal basis",
            "bad" if s["violations"] else "ok",
        ),
        _card(
            "Permitted calls",
            _num(s["permitted"]),
            f"{percent(s['permitted'], s['calls'])} of calls",
        ),
        _card(
            "Calls after an objection",
            _num(rep["calls"]),
            f"to {_num(rep['numbers'])} numbers; {_num(rep['numbers_called_more_than_once'])} "
            "of them called more than once",
            "bad" if rep["calls"] else "ok",
        ),
        _card(
            "Rows not audited",
            _num(s["unusable_rows"]),
            "unreadable time or missing number; listed below" if s["unusable_rows"] else "",
            "bad" if s["unusable_rows"] else "",
        ),
        _card(
            "Statutory maximum fine",
            czk(exp["statutory_maximum_czk"]) if exp["applies"] else "none",
            "the legal ceiling, not a forecast" if exp["applies"] else "no violations",
            "bad" if exp["applies"] else "ok",
        ),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _weeks(s: dict[str, Any]) -> str:
    weeks = [
        (date.fromisoformat(w["week_start"]), w["violations"], w["calls"]) for w in s["by_week"]
    ]
    opt_in = date.fromisoformat(s["method"]["policy"]["opt_in_from"])
    svg = charts.week_columns(
        weeks,
        label="Violations per week",
        marker=(opt_in, f"opt-in regime from {opt_in.day} {opt_in:%b %Y}"),
    )
    return _section(
        "Violations per week",
        "Each column is one week (Monday to Sunday, Prague time). Hover a column for its figures.",
        svg,
        "weeks",
    )


def _by_reason(s: dict[str, Any]) -> str:
    rows = s["violations_by_reason"]
    bars = [
        Bar(reason_label(r["reason"]), r["violations"], percent(r["violations"], s["violations"]))
        for r in rows
    ]
    svg = charts.hbars(bars, label="Violations by reason", unit="calls")
    legend = _table(
        ["Reason", "Calls", "What it means"],
        [
            [_e(reason_label(r["reason"])), _num(r["violations"]), _e(r["explanation"])]
            for r in rows
        ],
        {1},
        {0, 2},
    )
    return _section(
        "Why calls were violations",
        "Violating calls by the first rule of the decision order that refused them.",
        svg + legend if rows else "<p>No violations.</p>",
        "reasons",
    )


def _groups(s: dict[str, Any], key: str, title: str, sub: str, empty: str) -> str:
    rows = [r for r in s[key] if r["violations"]]
    if all(r["name"] is None for r in s[key]):
        return _section(title, "", f'<p class="note">{escape(empty)}</p>', key)
    shown = rows[:TOP_GROUPS]
    bars = [
        Bar(
            "(none given)" if r["name"] is None else str(r["name"]),
            r["violations"],
            f"{percent(r['violations'], r['calls'])} of {_num(r['calls'])} calls",
        )
        for r in shown
    ]
    more = len(rows) - len(shown)
    extra = f'<p class="note">and {_num(more)} more (see the JSON report).</p>' if more else ""
    body = charts.hbars(bars, label=title, unit="violations") + extra if rows else ""
    return _section(title, sub, body or "<p>No violations.</p>", key)


def _controllers(s: dict[str, Any]) -> str:
    return _groups(
        s,
        "by_controller",
        "Violations by calling company",
        "The company (controller) each call was made for, as the call log names it; its "
        "consents and contracts are the ones that count.",
        "",
    )


def _repeat(s: dict[str, Any]) -> str:
    rep = s["repeat_objection"]
    if not rep["calls"]:
        return _section(
            "Calls to people who had objected",
            "",
            "<p>None: no call went to a number after its objection.</p>",
            "objections",
        )
    rows = [
        [
            _number(r),
            _num(r["calls"]),
            _e(prague_time(r["first_call"])),
            _e(prague_time(r["last_call"])),
            f"<code>{_e(r['objection'])}</code>",
            _e(", ".join(r["campaigns"])),
        ]
        for r in rep["worst"][:REPEAT_SHOWN]
    ]
    table = _table(
        ["Number", "Calls", "First call", "Last call", "Objection", "Campaigns"], rows, {1}, {5}
    )
    return _section(
        "Calls to people who had objected",
        f"The worst kind: {_num(rep['calls'])} calls to {_num(rep['numbers'])} numbers whose "
        f"owners had told you (or everyone) not to call; "
        f"{_num(rep['numbers_called_more_than_once'])} numbers were called more than once. "
        f"Most-called numbers first (up to {REPEAT_SHOWN}; the JSON report lists "
        f"{len(rep['worst'])}).",
        table,
        "objections",
    )


def _exposure(s: dict[str, Any]) -> str:
    exp = s["exposure"]
    if not exp["applies"]:
        body = "<p>No violations, so no fine under § 96 ZEK is in view.</p>"
    else:
        turnover = (
            f"; 10 % of the net turnover you gave ({czk(exp['turnover_czk'])}) is "
            f"{czk(exp['turnover_cap_czk'])}"
            if exp["turnover_czk"] is not None
            else "; give the net turnover (--turnover) to see the turnover-based cap"
        )
        body = (
            f'<p class="exposure">up to {czk(exp["statutory_maximum_czk"])}</p>'
            f"<p>{escape(exp['basis'])}{escape(turnover)}.</p>"
            f'<p class="note">{escape(exp["note"])}</p>'
        )
    return _section("Statutory exposure", "", body, "exposure")


def _line(doc: dict[str, Any], row: dict[str, Any]) -> object:
    """A row's place in the call log: its line, or `Sheet!row` in a workbook."""
    sheet = doc["summary"]["method"]["call_log"].get("sheet")
    line = row.get("line")
    return sheet_place(sheet, line) if sheet is not None and line is not None else line


def _violations(doc: dict[str, Any]) -> str:
    v = doc["violations"]
    rows = [
        [
            _e(prague_time(r["called_at"])),
            _number(r),
            _e(r.get("campaign")),
            _e(r.get("agent")),
            _e(reason_label(r["reason"])),
            f"<code>{_e(r.get('evidence'))}</code>",
            _e(r.get("call_id")),
            _e(_line(doc, r)),
        ]
        for r in v["rows"][:HTML_VIOLATIONS]
    ]
    shown = len(rows)
    table = _table(
        ["Called (Prague)", "Number", "Campaign", "Agent", "Reason", "Evidence", "Call id", "Line"],
        rows,
        {7},
        {2, 3, 4},
    )
    return _section(
        "Violations, earliest first",
        f"The first {_num(shown)} of {_num(v['total'])} violating calls. The violations file "
        "(--violations) and the JSON report hold the full numbers; evidence names the record "
        "the decision rests on (objection id, directory snapshot date).",
        table if rows else "<p>No violations.</p>",
        "violations",
    )


def _consent_quality(s: dict[str, Any]) -> str:
    q = s["consent_quality"]
    if not q["consent_calls"] and not q["not_counted_calls"]:
        return ""
    share = q["proven_calls"] / q["consent_calls"] if q["consent_calls"] else 1.0
    cards = (
        '<div class="cards">'
        + _card("Calls on consent", _num(q["consent_calls"]))
        + _card(
            "With wording and proof",
            _num(q["proven_calls"]),
            f"{share:.0%} of the calls on consent",
            "" if q["proven_calls"] == q["consent_calls"] else "bad",
        )
        + _card(
            "Consent held, not counted",
            _num(q["not_counted_calls"]),
            "calls; see below",
            "bad" if q["not_counted_calls"] else "",
        )
        + "</div>"
    )
    unproven = [
        [
            f"<code>{_e(r['consent_id'])}</code>",
            _e(r["controller"]),
            _num(r["calls"]),
            "yes" if r["wording"] else "<b>missing</b>",
            "yes" if r["proof"] else "<b>missing</b>",
        ]
        for r in q["unproven"]
    ]
    noted = [
        [
            _e(prague_time(r["called_at"])),
            _number(r),
            _e(reason_label(r["reason"])),
            f"<code>{_e(r['note'])}</code>",
            _e(r.get("line")),
        ]
        for r in q["noted"]
    ]
    body = cards
    if unproven:
        body += (
            f"<h3>Consents without wording or proof ({_num(q['unproven_consents'])})</h3>"
            + _table(["Consent", "Controller", "Calls", "Wording", "Proof"], unproven, {2})
        )
    if noted:
        body += (
            f"<h3>Calls whose consents did not count ({_num(q['not_counted_calls'])})</h3>"
            + _table(["Called (Prague)", "Number", "Decision", "Note", "Line"], noted, {4}, {3})
        )
    return _section(
        "Consent quality",
        "A consent must be provable: the regulator asks for the text the person agreed to "
        "(wording) and the record that proves it (proof). A consent obtained from a third "
        "party, given for other purposes or channels, withdrawn or expired does not count.",
        body,
        "consent-quality",
    )


def _unusable(doc: dict[str, Any]) -> str:
    u = doc["unusable"]
    if not u["total"]:
        return ""
    rows = [
        [_e(_line(doc, r)), f"<code>{_e(r.get('column'))}</code>", _e(r["problem"])]
        for r in u["rows"][:HTML_VIOLATIONS]
    ]
    return _section(
        "Rows that could not be audited",
        f"{_num(u['total'])} rows of the call log could not be judged (first "
        f"{_num(len(rows))} shown). Fix them and audit again: a call that cannot be read is "
        "not proven lawful.",
        _table(["Line", "Column", "Problem"], rows, {0}, {2}),
        "unusable",
    )


def _setting(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _method(s: dict[str, Any]) -> str:
    m = s["method"]
    log = m["call_log"]
    ev = m["evidence"]
    snaps = ev["directory_snapshots"]
    facts = [
        ("Audit ran at", prague_time(m["audit_ran_at"], seconds=True) + " (Prague)"),
        ("optin_gate version", m["optin_gate_version"]),
        ("Controller", m["controller"] + " (for calls whose log names none)"),
        ("Rule sets applied", ", ".join(m["rule_sets_applied"]) or "none"),
        ("Call log", f"{log['source']}: {_num(log['rows_read'])} rows"),
        ("Call log SHA-256", log["sha256"] + f" (of the {log['sha256_of']})"),
        ("Evidence store", ev["store"]),
        (
            "Directory snapshots",
            f"{snaps['count']} from {snaps['first']} to {snaps['last']}"
            if snaps["count"]
            else "none loaded",
        ),
        ("Times without a zone", m["time_zone"]),
    ]
    dl = "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts) + "</dl>"
    policy = _table(
        ["Policy setting", "Value"],
        [[f"<code>{_e(k)}</code>", _e(_setting(v))] for k, v in m["policy"].items()],
        wrap={1},
    )
    order = _table(
        ["#", "Rule set", "Reason", "Allows", "Source"],
        [
            [
                str(i + 1),
                _e(r["rule_set"]),
                _e(r["reason"]),
                "yes" if r["allowed"] else "no",
                _e(r["note"]),
            ]
            for i, r in enumerate(m["decision_order"])
        ],
        {0},
        {4},
    )
    loads = _table(
        ["Load", "Kind", "File and its SHA-256", "Rows", "Loaded", "Snapshot"],
        [
            [
                _e(r["load_id"]),
                _e(r["kind"]),
                f'{_e(r["file_name"])}<code class="hash">{_e(r["sha256"])}</code>',
                _e(r["rows_loaded"]),
                _e(prague_time(r["loaded_at"])),
                _e(r["snapshot_date"]),
            ]
            for r in ev["loads"]
        ],
        {0, 3},
    )
    cols = ", ".join(f"{k} = {v}" for k, v in log["columns"].items() if v)
    return _section(
        "Method: how to reproduce this audit",
        "Every call was judged as of its own time by the same rules and evidence query as "
        "<code>optin-gate filter</code>: consents valid at that instant, contracts active that "
        "day, objections recorded before it, the newest directory snapshot on that day and its "
        "age, and the regime in force on that date.",
        dl
        + f'<p class="note">Columns used: {_e(cols)}</p>'
        + "<h3>Evidence loads the decisions rest on</h3>"
        + (loads if ev["loads"] else "<p>No loads recorded.</p>")
        + "<h3>Policy</h3>"
        + policy
        + "<h3>Decision order (first match decides)</h3>"
        + order,
        "method",
    )


def render_html(doc: dict[str, Any]) -> str:
    """The report page for an audit document (the same dict the JSON report holds)."""
    s = doc["summary"]
    m = s["method"]
    period = (
        f"Calls from {prague_time(s['first_call'])} to {prague_time(s['last_call'])} (Prague time)"
        if s["calls"]
        else "No calls could be audited"
    )
    controllers = sorted(str(g["name"]) for g in s["by_controller"] if g["name"] is not None)
    if len(controllers) > 1:
        title = f"Marketing call audit: {len(controllers)} companies"
        period += " for " + ", ".join(controllers)
    else:
        title = f"Marketing call audit: {controllers[0] if controllers else m['controller']}"
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="lead">{escape(period)}, each judged as of the moment it was made. '
        f"Generated {escape(prague_time(m['audit_ran_at']))} by optin_gate "
        f"{escape(m['optin_gate_version'])} from <code>{_e(m['call_log']['source'])}</code>."
        "</p>",
        _headline(s),
        _weeks(s),
        _by_reason(s),
        _groups(
            s,
            "by_campaign",
            "Violations by campaign",
            "Campaigns with the most violating calls first; the share is of that campaign's calls.",
            "The call log has no campaign column.",
        ),
        _controllers(s) if len(controllers) > 1 else "",
        _groups(
            s,
            "by_agent",
            "Agents with the most violations",
            f"Top {TOP_GROUPS} agents by violating calls; the share is of that agent's calls.",
            "The call log has no agent column.",
        ),
        _repeat(s),
        _exposure(s),
        _consent_quality(s),
        _violations(doc),
        _unusable(doc),
        _method(s),
        '<p class="note">Phone numbers are partly masked (+420 601 *** 567) because this '
        "report is meant for managers; the JSON report and the violations file hold them in "
        "full.</p>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        "<body><main>" + "".join(parts) + "</main></body></html>\n"
    )

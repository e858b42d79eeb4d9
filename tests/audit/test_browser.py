"""The HTML report in a real browser: headless Chromium draws the charts, runs into no error and
fetches nothing from the network.

Skipped where Chromium is missing, except in CI (the environment variable CI is set), where
`.ci/run` installs it and a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from optin_gate import Gate
from optin_gate.audit import AuditReport, run_audit
from optin_gate.audit.html import CSP
from tests.audit._data import campaign_history, oracle_store

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
]

# Injected into a copy of the page (allowed by a nonce added to the page's own policy): it
# collects errors, console errors, blocked fetches and every resource the page loaded, and
# writes them into the DOM, which --dump-dom then prints.
PROBE = """<script nonce="ogtest">
window.__og = {errors: [], blocked: []};
window.addEventListener('error', e => __og.errors.push('error: ' + e.message));
window.addEventListener('unhandledrejection', e => __og.errors.push('rejection: ' + e.reason));
document.addEventListener('securitypolicyviolation',
  e => __og.blocked.push(e.violatedDirective + ' ' + e.blockedURI));
for (const level of ['error', 'warn']) {
  const orig = console[level];
  console[level] = (...args) => { __og.errors.push(level + ': ' + args.join(' ')); orig(...args); };
}
window.addEventListener('load', () => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => ({
    label: svg.getAttribute('aria-label'),
    rects: svg.querySelectorAll('rect').length,
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
  }));
  const out = document.createElement('pre');
  out.id = 'og-probe';
  out.textContent = JSON.stringify({
    errors: __og.errors, blocked: __og.blocked, charts: charts,
    resources: performance.getEntriesByType('resource').map(r => r.name),
  });
  document.body.appendChild(out);
});
</script>"""


def _chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ev, calls = campaign_history()
    report: AuditReport = run_audit(Gate(oracle_store(ev), controller="acme").context, calls)
    return report.to_html(tmp_path_factory.mktemp("html") / "audit.html")


def test_charts_are_drawn_without_errors_or_network(page: Path, tmp_path: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert CSP in html
    probed = tmp_path / "probed.html"
    probed.write_text(
        html.replace(CSP, CSP + "; script-src 'nonce-ogtest'").replace("<head>", "<head>" + PROBE),
        encoding="utf-8",
    )
    done = _run(["--virtual-time-budget=5000", "--dump-dom", probed.as_uri()], tmp_path / "p")
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="og-probe">(.*?)</pre>', done.stdout, re.S)
    assert match, "the probe did not run: " + done.stdout[:500]
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == []
    assert probe["blocked"] == []
    assert probe["resources"] == []  # not one fetch: no fonts, images, styles or scripts
    charts = {c["label"]: c for c in probe["charts"]}
    assert set(charts) >= {
        "Violations per week",
        "Violations by reason",
        "Violations by campaign",
        "Agents with the most violations",
    }
    for chart in charts.values():
        assert chart["rects"] >= 3, chart  # bars drawn
        assert chart["width"] > 300, chart  # laid out at a readable size
        assert chart["height"] > 40, chart
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == []


def test_report_renders_as_is_and_is_screenshot(page: Path, tmp_path: Path) -> None:
    dom = _run(["--dump-dom", page.as_uri()], tmp_path / "d")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 4
    assert re.search(r"<svg[^>]*>.*?<rect", dom.stdout, re.S)
    assert "Refused to" not in dom.stderr
    assert "Uncaught" not in dom.stderr
    shot = tmp_path / "audit-report.png"
    done = _run(["--window-size=1280,2200", f"--screenshot={shot}", page.as_uri()], tmp_path / "s")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2200)
    assert len(data) > 50_000  # a drawn page, not a blank one
    keep = os.environ.get("OPTIN_GATE_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)

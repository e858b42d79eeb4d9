"""`/metrics`: the server's counters in Prometheus's text exposition format, by hand.

Written out here rather than with prometheus_client: a check adds one to a dict entry and a
histogram bucket on the event loop's one thread, with no lock and no dependency, and the few
families below are a page of text. `promtool check metrics` checks the output in the tests.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping

__all__ = ["BUCKETS", "Metrics"]

# Check latency bounds in seconds: a check takes microseconds, a rebuild must not show here.
BUCKETS = (5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 2.5e-2, 0.1, 1.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counts kept by the event loop's thread (no locks: one writer)."""

    def __init__(self) -> None:
        self.checks: dict[tuple[str, str], int] = {}
        self.objections: dict[str, int] = {}
        self.errors: dict[int, int] = {}
        self._buckets = [0] * (len(BUCKETS) + 1)
        self._sum = 0.0
        self._count = 0

    def checked(self, controller: str, reason: str, seconds: float) -> None:
        """One number decided for `controller`, taking `seconds`."""
        key = (controller, reason)
        self.checks[key] = self.checks.get(key, 0) + 1
        self._buckets[bisect_left(BUCKETS, seconds)] += 1
        self._sum += seconds
        self._count += 1

    def objected(self, controller: str | None) -> None:
        """One objection recorded (controller None: for every controller)."""
        key = "*" if controller is None else controller
        self.objections[key] = self.objections.get(key, 0) + 1

    def refused(self, status: int) -> None:
        """One request answered with an error status."""
        self.errors[status] = self.errors.get(status, 0) + 1

    def render(self, ages: Mapping[str, float], *, ready: bool) -> bytes:
        """The exposition text; `ages` are the index ages by controller."""
        out = [
            "# HELP optin_gate_checks_total Numbers decided, by controller and reason.",
            "# TYPE optin_gate_checks_total counter",
        ]
        for (controller, reason), n in sorted(self.checks.items()):
            out.append(
                f'optin_gate_checks_total{{controller="{_label(controller)}",'
                f'reason="{_label(reason)}"}} {n}'
            )
        out += [
            "# HELP optin_gate_check_seconds Time to decide one number.",
            "# TYPE optin_gate_check_seconds histogram",
        ]
        running = 0
        for bound, n in zip((*BUCKETS, float("inf")), self._buckets, strict=True):
            running += n
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'optin_gate_check_seconds_bucket{{le="{le}"}} {running}')
        out += [
            f"optin_gate_check_seconds_sum {self._sum!r}",
            f"optin_gate_check_seconds_count {self._count}",
            "# HELP optin_gate_index_age_seconds Seconds since the controller's dial index "
            "last matched the store.",
            "# TYPE optin_gate_index_age_seconds gauge",
        ]
        out += [
            f'optin_gate_index_age_seconds{{controller="{_label(c)}"}} {age:.3f}'
            for c, age in sorted(ages.items())
        ]
        out += [
            "# HELP optin_gate_objections_recorded_total Objections recorded through this "
            'server, by controller ("*": every controller).',
            "# TYPE optin_gate_objections_recorded_total counter",
        ]
        out += [
            f'optin_gate_objections_recorded_total{{controller="{_label(c)}"}} {n}'
            for c, n in sorted(self.objections.items())
        ]
        out += [
            "# HELP optin_gate_request_errors_total Requests refused, by HTTP status.",
            "# TYPE optin_gate_request_errors_total counter",
        ]
        out += [
            f'optin_gate_request_errors_total{{status="{s}"}} {n}'
            for s, n in sorted(self.errors.items())
        ]
        out += [
            "# HELP optin_gate_ready Whether the server answers checks (indexes built).",
            "# TYPE optin_gate_ready gauge",
            f"optin_gate_ready {int(ready)}",
        ]
        return ("\n".join(out) + "\n").encode()

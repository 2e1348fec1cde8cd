"""The grid interval checks run on (bamon/units/phase.py): calendar forms systemd parses to the
same instants `bamon status` computes, and phases that spread many checks evenly."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime

import pytest

from bamon.units.phase import Grid, grid


@pytest.mark.parametrize(("interval", "phase", "calendar"), [
    (1, 7, "*-*-* *:*:00.7/1 UTC"),
    (30, 89, "*-*-* *:*:08.9/30 UTC"),
    (60, 540, "*-*-* *:*:54 UTC"),
    (120, 723, "*-*-* *:01/2:12.3 UTC"),
    (3600, 16367, "*-*-* *:27:16.7 UTC"),
    (7200, 62439, "*-*-* 01/2:44:03.9 UTC"),
    (86400, 287436, "*-*-* 07:59:03.6 UTC"),
])
def test_calendar_forms(interval: int, phase: int, calendar: str) -> None:
    assert Grid(interval, phase).calendar() == calendar


@pytest.mark.parametrize("interval", [7, 45, 90, 420, 5400, 172800, 0, None])
def test_intervals_without_a_calendar_form_have_no_grid(interval: int | None) -> None:
    assert grid("web", interval) is None


def test_next_at_is_the_first_grid_point_not_before_now() -> None:
    g = Grid(300, 1234)  # 123.4 s into every 5 minutes
    assert g.next_at(1_800_000_123.4) == pytest.approx(1_800_000_123.4)  # exactly on a point
    assert g.next_at(1_800_000_123.5) == pytest.approx(1_800_000_423.4)
    assert g.next_at(1_800_000_000) == pytest.approx(1_800_000_123.4)


def test_a_thousand_checks_a_minute_are_spread_evenly() -> None:
    """Phases from the names: ~17 checks a second, a few per tenth, never a crowd."""
    phases = [g.phase for g in (grid(f"check-{i}", 60) for i in range(1000)) if g]
    assert len(phases) == 1000 and phases == [g.phase for g in (grid(f"check-{i}", 60) for i in range(1000)) if g]
    per_second = Counter(p // 10 for p in phases)
    assert len(per_second) == 60 and max(per_second.values()) <= 30
    assert max(Counter(phases).values()) <= 10  # at one instant: within daemon.max_concurrent's default


@pytest.mark.parametrize("interval", [1, 2, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 10800, 43200, 86400])
def test_systemd_reads_each_calendar_as_the_same_grid(interval: int) -> None:
    """systemd-analyze calendar: the next two elapses are the grid points next_at gives."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (package systemd) is needed by this test"
    g = grid(f"check-{interval}", interval)
    assert g is not None
    out = subprocess.run([analyze, "calendar", "--iterations=2", g.calendar()], capture_output=True, text=True,
                         check=True, env={"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}).stdout
    start = datetime.now(UTC).timestamp()
    elapses = [datetime.strptime(line.split(": ", 1)[1].strip(), "%a %Y-%m-%d %H:%M:%S %Z").replace(tzinfo=UTC)
               for line in out.splitlines() if "Next elapse:" in line or "Iter. #2:" in line]
    assert len(elapses) == 2
    first = g.next_at(start)
    # systemd prints whole seconds; a second may tick between its "now" and ours
    assert int(first) in (int(elapses[0].timestamp()), int(g.next_at(start + 1)))
    assert elapses[1].timestamp() - elapses[0].timestamp() == interval

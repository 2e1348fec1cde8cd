"""Alert text: the built-in templates render for every failure reason, overrides win, evidence is complete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bamon.config.model import Config
from bamon.history.records import REASONS, RunRecord
from bamon.notify import evidence, messages

KEYS = {"check", "host", "status", "exit_code", "failure_reason", "reason_text", "duration_s", "cpu_s",
        "memory_peak_bytes", "output_tail", "episode_start", "consecutive_failures", "journalctl", "hint",
        "tags", "invocation", "unit"}


def run(result: str, status: int | None) -> RunRecord:
    return RunRecord("disk", "abc123", result, status, 1_700_000_000_000_000, 1_700_000_002_250_000, 3,
                     signal="" if status is not None else "KILL")


@pytest.mark.parametrize("reason", [r for r in REASONS if r != "success"] + ["something-new"])
def test_failure_templates_render_for_every_reason(reason: str, load_config: Callable[..., Config]) -> None:
    script = load_config("scripts: [{name: disk, command: df, hint: 'clean /var/log'}]").scripts[0]
    exit_status = 1 if reason in ("exit-code", "memory") else None
    found = evidence.collect(run(reason, exit_status), script, output=["line 1", "last line"],
                             usage={"cpu_ns": 1_500_000_000, "memory_peak": 64 * 2**20},
                             episode_start=1_700_000_000, user_mode=False)
    assert KEYS <= set(found)
    title, body, problem = messages.render("failure", {**found, "severity": "warning", "rule": "r"}, None)
    assert problem == ""
    assert title.startswith("WARNING: disk on ") and "FAILED" in title
    words = evidence.reason_text(reason)
    assert words in title and words in body
    for expected in ("CPU time:      1.500 s", "Memory peak:   64.0 MiB", "  | last line", "3 failures in a row",
                     "journalctl --no-pager INVOCATION_ID=abc123 + _SYSTEMD_INVOCATION_ID=abc123",
                     "clean /var/log", "Duration:      2.250 s"):
        assert expected in body, (expected, body)
    assert ("Exit code:     1" in body) if exit_status is not None else ("killed by SIGKILL" in body)
    assert evidence.HINTS.get(reason, "see the run's journal") in found["hint"]


def test_recovery_template_and_missing_numbers(load_config: Callable[..., Config]) -> None:
    found = evidence.collect(run("success", 0), None, output=[], usage={}, episode_start=1_700_000_000,
                             user_mode=True)
    assert found["journalctl"].startswith("journalctl --user --no-pager USER_INVOCATION_ID=abc123")
    title, body, _ = messages.render("recovery", {**found, "episode_failures": 4}, None)
    assert title.startswith("RECOVERED: disk on ")
    assert "4 failed runs" in body and "Recovered at:" in body
    failed = evidence.collect(run("timeout", None), None, output=[], usage={}, episode_start=0, user_mode=False)
    _, body, _ = messages.render("failure", failed, None)
    assert "CPU time" not in body and "The run printed nothing." in body and "Failing since: unknown" in body


def test_operator_override_wins(tmp_path: Path) -> None:
    (tmp_path / "failure.title.j2").write_text("[{{ host }}] {{ check }} broke: {{ reason_text }}")
    found = evidence.collect(run("timeout", None), None, output=[], usage={}, episode_start=0, user_mode=False)
    title, body, problem = messages.render("failure", found, tmp_path)
    assert title.endswith("] disk broke: timeout") and problem == ""
    assert "Check disk on" in body  # the body was not overridden: the built-in one

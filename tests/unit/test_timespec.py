"""config/timespec.py: spans ("30s", "1h 30min"), their formatting, and cron → OnCalendar."""

from __future__ import annotations

import pytest

from bamon.config.timespec import (
    check_schedule,
    cron_to_oncalendar,
    format_span,
    looks_like_cron,
    parse_span,
    to_oncalendar,
)

# --- parse_span --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [
    (1, 1),
    (90, 90),
    ("90", 90),
    ("30s", 30),
    ("30 sec", 30),
    ("5min", 300),
    ("5m", 300),
    ("5 minutes", 300),
    ("1h", 3600),
    ("2hours", 7200),
    ("1h 30min", 5400),
    ("1h30min", 5400),
    ("1d", 86400),
    ("1w", 604800),
    ("  2MIN ", 120),
    ("1h 0min", 3600),
])
def test_parse_span_accepts(value: int | str, seconds: int) -> None:
    assert parse_span(value) == seconds


@pytest.mark.parametrize("value", [
    0, -5, "0", "0s", "", "   ", "5 parsecs", "abc", "1.5h", "-1", "5min later", "h", True, False,
])
def test_parse_span_rejects(value: int | str) -> None:
    with pytest.raises(ValueError):
        parse_span(value)


def test_parse_span_error_names_the_unit() -> None:
    with pytest.raises(ValueError, match="parsecs"):
        parse_span("5 parsecs")


# --- format_span -------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"),
    (45, "45s"),
    (59.4, "59s"),
    (60, "1min"),
    (90, "1min 30s"),
    (300, "5min"),
    (3600, "1h"),
    (5400, "1h 30min"),
    (2 * 86400 + 3 * 3600 + 59, "2d 3h"),  # two parts at most
])
def test_format_span(seconds: float, text: str) -> None:
    assert format_span(seconds) == text


@pytest.mark.parametrize("seconds", [1, 59, 60, 61, 3599, 3600, 5400, 86400])
def test_format_span_reads_back_when_exact(seconds: int) -> None:
    if len(format_span(seconds).split()) <= 2:
        assert parse_span(format_span(seconds)) == seconds


# --- cron --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cron", "calendar"), [
    ("* * * * *", "*-*-* *:*:00"),
    ("*/15 * * * *", "*-*-* *:00/15:00"),
    ("*/1 * * * *", "*-*-* *:*:00"),
    ("0 */2 * * *", "*-*-* 00/2:00:00"),
    ("0 0 */10 * *", "*-*-01/10 00:00:00"),
    ("5 * * * *", "*-*-* *:05:00"),
    ("0 2 * * *", "*-*-* 02:00:00"),
    ("0 9-11 * * *", "*-*-* 09,10,11:00:00"),
    ("0 0-12/6 * * *", "*-*-* 00,06,12:00:00"),
    ("30 1 1,15 * *", "*-*-01,15 01:30:00"),
    ("0 0 1 jan *", "*-01-01 00:00:00"),
    ("0 0 1 Jan-Mar *", "*-01,02,03-01 00:00:00"),
    ("0 0 * */6 *", "*-01/6-* 00:00:00"),
    ("0 8 * * mon-fri", "Mon,Tue,Wed,Thu,Fri *-*-* 08:00:00"),
    ("0 8 * * 1-5", "Mon,Tue,Wed,Thu,Fri *-*-* 08:00:00"),
    ("0 0 * * 0", "Sun *-*-* 00:00:00"),
    ("0 0 * * 7", "Sun *-*-* 00:00:00"),
    ("0 0 * * 0,7", "Sun *-*-* 00:00:00"),
    ("0 0 * * 5-7", "Sun,Fri,Sat *-*-* 00:00:00"),
    ("0 0 * * SAT,sun", "Sun,Sat *-*-* 00:00:00"),
    ("10/20 * * * *", "*-*-* *:10/20:00"),
])
def test_cron_to_oncalendar(cron: str, calendar: str) -> None:
    assert cron_to_oncalendar(cron) == calendar


@pytest.mark.parametrize(("nickname", "calendar"), [
    ("@yearly", "yearly"), ("@annually", "yearly"), ("@monthly", "monthly"), ("@weekly", "weekly"),
    ("@daily", "daily"), ("@midnight", "daily"), ("@hourly", "hourly"), ("@DAILY", "daily"),
])
def test_cron_nicknames(nickname: str, calendar: str) -> None:
    assert looks_like_cron(nickname)
    assert cron_to_oncalendar(nickname) == calendar


@pytest.mark.parametrize("cron", [
    "0 0 1 * mon",  # cron: day of month OR day of week; OnCalendar cannot say "or"
    "0 0 */2 * 1-5",
])
def test_cron_rejects_day_of_month_with_day_of_week(cron: str) -> None:
    with pytest.raises(ValueError, match="both day of month and day of week"):
        cron_to_oncalendar(cron)


@pytest.mark.parametrize("cron", [
    "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * 0 *",
    "* * * * 8", "5-1 * * * *", "*/0 * * * *", "*/x * * * *", "jan * * * *", "1,,2 * * * *",
    "* * * * funday",
])
def test_cron_rejects_bad_fields(cron: str) -> None:
    with pytest.raises(ValueError):
        cron_to_oncalendar(cron)


@pytest.mark.parametrize("text", ["*/5 * * * *", "0 2 * * mon-fri", "@daily", "@hourly", "0 0 1 jan *"])
def test_looks_like_cron(text: str) -> None:
    assert looks_like_cron(text)


@pytest.mark.parametrize("text", [
    "Mon..Fri *-*-* 02:00", "*-*-* 02:00:00", "daily", "hourly", "weekly", "*:0/5",
    "Mon *-*-* 1:2:3", "2024-01-01 00:00:00 UTC", "* * * *", "* * * * * *",
])
def test_oncalendar_text_is_not_cron(text: str) -> None:
    assert not looks_like_cron(text)
    assert to_oncalendar(text) == text.strip()


def test_to_oncalendar_translates_cron() -> None:
    assert to_oncalendar("*/30 * * * *") == "*-*-* *:00/30:00"


@pytest.mark.parametrize("text", ["", "  ", "daily\nhourly", "*-*-*\t02:00", "50% of days", "60 * * * *"])
def test_check_schedule_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        check_schedule(text)


def test_check_schedule_returns_oncalendar() -> None:
    assert check_schedule(" Mon..Fri *-*-* 02:00 ") == "Mon..Fri *-*-* 02:00"
    assert check_schedule("0 3 * * *") == "*-*-* 03:00:00"

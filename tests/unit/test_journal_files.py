"""The fast paths of history and status read the same as the plain ones: journal readers open
only the files whose span meets the time asked for (bamon/journal.py), run records are parsed
from one regex match, run times are written from cached parts (bamon/history/), and history's
rows are built and aligned as before (bamon/cli/history.py, bamon/cli/output.py)."""

from __future__ import annotations

import gc
import random
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bamon import journal as journal_module
from bamon.cli import history as history_cli
from bamon.cli.output import table
from bamon.history.records import RunRecord, _parse_fields, parse_record, record_message
from bamon.history.runs import iso_us, no_cycle_collection
from bamon.journal import Journal, Readers, journal_spans

MACHINE = "0123456789abcdef0123456789abcdef"
DAY_US = 86_400_000_000
T0 = 1_790_000_000_000_000  # µs, 2026-09


def write_journal(path: Path, first_us: int, last_us: int, signature: bytes = b"LPKSHHRH") -> None:
    """A file that starts like a journal file: the signature, and the first and last entry's
    realtime at offset 184 (systemd's docs/JOURNAL_FILE_FORMAT.md)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(signature + bytes(176) + struct.pack("<QQ", first_us, last_us) + bytes(64))


class FakeSystemdJournal:
    """The python-systemd module at its seam: which readers were opened on what."""

    LOCAL_ONLY = 1

    def __init__(self) -> None:
        self.opened: list[tuple[str, ...] | str] = []

    def Reader(self, flags: int = 0, files: list[str] | None = None) -> Any:  # python-systemd spells it so
        self.opened.append(tuple(files) if files is not None else "all")
        return object()


@pytest.fixture
def journal_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    persistent, volatile = tmp_path / "var" / "log" / "journal", tmp_path / "run" / "log" / "journal"
    (tmp_path / "machine-id").write_text(MACHINE + "\n")
    monkeypatch.setattr(journal_module, "JOURNAL_DIRS", (persistent, volatile))
    monkeypatch.setattr(journal_module, "MACHINE_ID", tmp_path / "machine-id")
    return persistent / MACHINE, volatile / MACHINE


def test_files_are_the_ones_sd_journal_reads_with_the_span_each_holds(journal_dirs: tuple[Path, Path]) -> None:
    persistent, volatile = journal_dirs
    write_journal(persistent / "system@a-1-1.journal", T0, T0 + DAY_US)
    write_journal(persistent / "system.journal", T0 + DAY_US, T0 + 2 * DAY_US)
    write_journal(persistent / "system@b-2-2.journal~", T0, T0 + 5)  # set aside as damaged: still read
    write_journal(volatile / "system.journal", T0 + 3 * DAY_US, T0 + 4 * DAY_US)
    write_journal(persistent.parent / "top.journal", T0, T0 + 1)  # straight in the directory: read too
    write_journal(persistent.parent / ("f" * 32) / "system.journal", T0, T0 + 1)  # another machine's: not
    (persistent / "notes.txt").write_text("not a journal")
    assert journal_spans(journal_module.journal_paths()) == {
        str(persistent / "system@a-1-1.journal"): (T0, T0 + DAY_US),
        str(persistent / "system.journal"): (T0 + DAY_US, T0 + 2 * DAY_US),
        str(persistent / "system@b-2-2.journal~"): (T0, T0 + 5),
        str(volatile / "system.journal"): (T0 + 3 * DAY_US, T0 + 4 * DAY_US),
        str(persistent.parent / "top.journal"): (T0, T0 + 1)}


def test_a_file_whose_header_cannot_be_read_counts_as_holding_any_time(journal_dirs: tuple[Path, Path]) -> None:
    persistent, _ = journal_dirs
    write_journal(persistent / "odd.journal", T0, T0 + 1, signature=b"NOTAJRNL")
    write_journal(persistent / "empty.journal", 0, 0)  # no entry yet
    (persistent / "short.journal").write_bytes(b"LPKSHHRH")
    assert set(journal_spans(journal_module.journal_paths()).values()) == {(0, 2**64 - 1)}


def test_a_reader_opens_only_the_files_that_meet_the_span(journal_dirs: tuple[Path, Path]) -> None:
    persistent, _ = journal_dirs
    old, mid, new = (persistent / f"system@{n}.journal" for n in "abc")
    write_journal(old, T0, T0 + DAY_US)
    write_journal(mid, T0 + DAY_US + 1, T0 + 2 * DAY_US)
    write_journal(new, T0 + 2 * DAY_US + 1, T0 + 3 * DAY_US)
    module = FakeSystemdJournal()
    readers = Readers(module)
    readers.covering(T0 + 2 * DAY_US + 10, T0 + 2 * DAY_US + 20)  # the last runs: the newest file
    readers.covering(T0 + DAY_US + 5, None)  # a week of history: from there on
    readers.covering(T0 + 10, T0 + DAY_US + 10)  # a span across a rotation: both files
    readers.covering(T0 + 2 * DAY_US + 11, T0 + 2 * DAY_US + 12)  # the same files again: the same reader
    readers.covering(T0 - 10, None)  # every file: sd-journal's own choice, as without this
    readers.covering(T0 + 4 * DAY_US, None)  # no file holds it: every file (the reader above)
    assert module.opened == [(str(new),), (str(mid), str(new)), (str(old), str(mid)), "all"]


def test_a_rotation_between_listing_and_opening_reads_every_file(journal_dirs: tuple[Path, Path]) -> None:
    persistent, _ = journal_dirs
    write_journal(persistent / "system@a.journal", T0, T0 + DAY_US)
    write_journal(persistent / "system.journal", T0 + DAY_US + 1, T0 + 2 * DAY_US)
    module = FakeSystemdJournal()
    readers = Readers(module)
    (persistent / "system.journal").rename(persistent / "system@b.journal")  # journald rotates
    write_journal(persistent / "system.journal", T0 + 2 * DAY_US, T0 + 2 * DAY_US + 1)
    readers.covering(T0 + DAY_US + 10, None)
    assert module.opened == [(str(persistent / "system.journal"),), "all"]


def test_readers_in_turn_are_runs_of_overlapping_files_in_time_order(journal_dirs: tuple[Path, Path]) -> None:
    persistent, volatile = journal_dirs
    first, second, third = (persistent / f"system@{n}.journal" for n in "abc")
    write_journal(third, T0 + 2 * DAY_US, T0 + 3 * DAY_US)
    write_journal(first, T0, T0 + DAY_US)
    write_journal(second, T0 + DAY_US + 1, T0 + 2 * DAY_US - 1)
    write_journal(volatile / "system.journal", T0 + 2 * DAY_US + 5, T0 + 4 * DAY_US)  # overlaps the third
    module = FakeSystemdJournal()
    readers = Readers(module)
    assert len(readers.in_turn(T0 + 10, None)) == 3
    last_run = tuple(sorted((str(third), str(volatile / "system.journal"))))
    assert module.opened == [(str(first),), (str(second),), last_run]
    module.opened.clear()
    readers.in_turn(T0 + 2 * DAY_US + 10, None)  # one run of files: the reader covering them
    assert module.opened == []  # (the same files: the same reader)


def test_readers_in_turn_fall_back_to_one_reader_of_every_file(journal_dirs: tuple[Path, Path]) -> None:
    persistent, _ = journal_dirs
    write_journal(persistent / "system@a.journal", T0, T0 + DAY_US)
    write_journal(persistent / "system@b.journal", T0 + DAY_US + 1, T0 + 2 * DAY_US)
    write_journal(persistent / "odd.journal", T0, T0 + 1, signature=b"NOTAJRNL")  # its span unknown: any time
    module = FakeSystemdJournal()
    assert len(Readers(module).in_turn(T0 + 10, None)) == 1 and module.opened == ["all"]
    (persistent / "odd.journal").unlink()
    module = FakeSystemdJournal()
    readers = Readers(module)
    write_journal(persistent / "system.journal", T0 + 2 * DAY_US + 1, T0 + 2 * DAY_US + 2)  # journald rotated
    assert len(readers.in_turn(T0 + 10, None)) == 1  # never some files twice: every file, once
    assert module.opened == [(str(persistent / "system@a.journal"),), (str(persistent / "system@b.journal"),), "all"]


def test_user_journals_and_hosts_without_python_systemd_use_journalctl(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Journal(user_mode=True)._reader() is None
    monkeypatch.setitem(sys.modules, "systemd", None)  # the import fails, as where it is not installed
    assert Journal()._reader() is None


def _records() -> list[RunRecord]:
    rng = random.Random(9)
    found = []
    for i in range(100):
        result = rng.choice(["success", "exit-code", "timeout", "signal", "skipped"])
        killed = result in ("timeout", "signal")
        found.append(RunRecord(
            f"c{i}", f"{rng.getrandbits(128):032x}", result, None if killed else rng.choice([0, 1, 2, 255]),
            T0 + i * 60_000_000, T0 + i * 60_000_000 + rng.randrange(0, 10**7), rng.randrange(5),
            signal="TERM" if killed else "", attempt=rng.randrange(1, 3), attempts=rng.randrange(1, 4),
            skip=rng.choice(["", "dependency:db", "load:9.1/4"])))
    return found


@pytest.mark.parametrize("record", _records())
def test_the_one_match_parse_reads_what_the_field_by_field_parse_reads(record: RunRecord) -> None:
    message = record_message(record)
    fields = dict(part.split("=", 1) for part in message.removeprefix("bamon-run ").split())
    assert parse_record(record.check, message) == _parse_fields(record.check, fields) == record
    with_cpu = f"{message} cpu_usec=4200"  # run-check's own line ends with its `times` figure
    assert parse_record(record.check, with_cpu) == _parse_fields(record.check, {**fields, "cpu_usec": "4200"})
    # the older line, without attempt/attempts/skip, and an empty cpu figure
    short = message.split(" attempt=")[0] + f" invocation={record.invocation} cpu_usec="
    fields_short = {k: v for k, v in fields.items() if k not in ("attempt", "attempts", "skip")}
    assert parse_record(record.check, short) == _parse_fields(record.check, {**fields_short, "cpu_usec": ""})


@pytest.mark.parametrize("message", [
    "bamon-run result=success exit_code=exited exit_status=x start_usec=1 end_usec=2 duration_usec=1 "
    "consecutive_failures=0 invocation=i",  # a status that is no number
    "bamon-run invocation=i result=success start_usec=1 end_usec=2",  # another order: field by field
    "bamon-run result=success",  # fields missing
    "some output"])
def test_records_out_of_the_usual_shape_parse_as_before(message: str) -> None:
    fields = dict(part.split("=", 1) for part in message.removeprefix("bamon-run ").split() if "=" in part)
    expected = _parse_fields("c", fields) if message.startswith("bamon-run ") else None
    assert parse_record("c", message) == expected


def test_times_by_arithmetic_are_the_isoformat_of_before() -> None:
    rng = random.Random(5)
    moments = [0, 999, 1000, 86_399_999_999, 86_400_000_000, 951_782_400_000_000,  # 2000-02-29
               4_102_444_799_999_999, T0] + [rng.randrange(0, 4_102_444_800_000_000) for _ in range(5000)]
    for us in moments:
        before = datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert iso_us(us) == before, us


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe"])
def test_local_start_times_are_what_datetime_wrote(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        rng = random.Random(7)  # moments around the year, both DST changes among them
        for us in [T0, T0 + 999_999] + [T0 + rng.randrange(0, 400 * DAY_US) for _ in range(3000)]:
            expected = datetime.fromtimestamp(us / 1e6, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
            assert history_cli._local(us) == expected, (zone, us)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_table_aligns_coloured_and_plain_cells_and_cuts_the_squeezed_column(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    green, red = "\033[32mOK\033[0m", "\033[31mFAILED\033[0m"
    rows = [("a", green, "  two\tspaced   words "), ("bb", "SKIPPED", "x"), ("c", red, "y" * 60)]
    assert table(("N", "STATUS", "OUT"), rows, squeeze="OUT").splitlines() == [
        "N   STATUS   OUT",
        f"a   {green}       two spaced words",
        "bb  SKIPPED  x",
        f"c   {red}   {'y' * 26}…",
    ]
    assert table(("A", "B"), []) == "A  B"
    with pytest.raises(ValueError):
        table(("A", "B"), [("only one",)])


def test_no_cycle_collection_puts_the_collector_back_as_it_was() -> None:
    for was_on in (True, False):
        gc.enable() if was_on else gc.disable()
        with no_cycle_collection():
            assert not gc.isenabled()
        assert gc.isenabled() is was_on
    gc.enable()

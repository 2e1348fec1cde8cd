"""history/retention.py: journald's settings read as journald reads them, against the days asked for."""

from __future__ import annotations

from pathlib import Path

from bamon.history.retention import journald_settings, retention_notes


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_persistent_journal_without_limits_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "var/log/journal").mkdir(parents=True)
    assert retention_notes(30, tmp_path) == []


def test_volatile_journal(tmp_path: Path) -> None:
    (notes,) = retention_notes(30, tmp_path)  # Storage=auto and no /var/log/journal
    assert "in memory only" in notes and "no /var/log/journal" in notes
    write(tmp_path, "etc/systemd/journald.conf", "[Journal]\nStorage=volatile\n")
    assert "Storage=volatile" in retention_notes(30, tmp_path)[0]


def test_max_retention_shorter_than_asked(tmp_path: Path) -> None:
    (tmp_path / "var/log/journal").mkdir(parents=True)
    write(tmp_path, "etc/systemd/journald.conf", "[Journal]\n#MaxRetentionSec=\nMaxRetentionSec=1week\n")
    (note,) = retention_notes(30, tmp_path)
    assert "7 day(s)" in note and "MaxRetentionSec=1week" in note
    assert retention_notes(7, tmp_path) == []
    write(tmp_path, "etc/systemd/journald.conf", "[Journal]\nMaxRetentionSec=2month\n")
    assert retention_notes(30, tmp_path) == []


def test_drop_ins_win_and_etc_overrides_usr_lib(tmp_path: Path) -> None:
    write(tmp_path, "etc/systemd/journald.conf", "[Journal]\nMaxRetentionSec=90d\n")
    write(tmp_path, "usr/lib/systemd/journald.conf.d/50-vendor.conf", "[Journal]\nMaxRetentionSec=1d\n")
    write(tmp_path, "etc/systemd/journald.conf.d/50-vendor.conf", "[Journal]\nMaxRetentionSec=3d\n")
    write(tmp_path, "run/systemd/journald.conf.d/60-other.conf", "[Other]\nMaxRetentionSec=1s\n")
    assert journald_settings(tmp_path) == {"MaxRetentionSec": "3d"}

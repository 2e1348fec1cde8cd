"""Does journald keep as much history as `daemon.history_retention_days` asks for?

bamon deletes nothing from the journal (it is shared with everything else on the machine):
the retention setting bounds how far back history and analytics look, and journald's own
settings decide what is kept. This module reads those settings the way journald does
(journald.conf(5): /etc, /run, /usr/lib drop-ins in journald.conf.d, later files win) and
says when journald would keep less than the configured days.
"""

from __future__ import annotations

import re
from pathlib import Path

from bamon.config.timespec import parse_span

_DIRS = ("usr/lib/systemd", "run/systemd", "etc/systemd")  # lowest precedence first
_SETTING = re.compile(r"^\s*(Storage|MaxRetentionSec)\s*=\s*(.*?)\s*$")


def journald_settings(root: Path = Path("/")) -> dict[str, str]:
    """Storage= and MaxRetentionSec= as journald would use them."""
    files = [root / "etc/systemd/journald.conf"]
    drop_ins: dict[str, Path] = {}
    for base in _DIRS:
        for path in sorted((root / base / "journald.conf.d").glob("*.conf")):
            drop_ins[path.name] = path  # same name: the higher-precedence directory wins
    files += [drop_ins[name] for name in sorted(drop_ins)]
    found: dict[str, str] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        section = ""
        for line in text.splitlines():
            if line.strip().startswith("["):
                section = line.strip()
            elif section == "[Journal]" and (match := _SETTING.match(line)):
                found[match[1]] = match[2]
    return found


def _seconds(text: str) -> int | None:
    """journald's time spans ("1month", "2weeks", "10d", plain seconds); None for 0/unknown."""
    months = re.fullmatch(r"\s*(\d+)\s*(?:M|month|months)\s*", text)
    years = re.fullmatch(r"\s*(\d+)\s*(?:y|year|years)\s*", text)
    if months:
        return int(months[1]) * 2_629_800
    if years:
        return int(years[1]) * 31_557_600
    try:
        return parse_span(int(text) if text.strip().isdigit() else text) if text.strip() not in ("", "0") else None
    except ValueError:
        return None


def retention_notes(days: int, root: Path = Path("/")) -> list[str]:
    """One sentence per way journald would keep less run history than `days`."""
    settings = journald_settings(root)
    notes = []
    storage = settings.get("Storage", "auto")
    if storage in ("volatile", "none") or (storage == "auto" and not (root / "var/log/journal").is_dir()):
        notes.append(f"journald keeps its journal in memory only (Storage={storage}"
                     f"{'' if storage != 'auto' else ', no /var/log/journal'}): run history is lost at "
                     "every reboot, whatever history_retention_days says")
    limit = _seconds(settings.get("MaxRetentionSec", ""))
    if limit is not None and limit < days * 86400:
        notes.append(f"journald keeps entries for {limit / 86400:g} day(s) (MaxRetentionSec="
                     f"{settings['MaxRetentionSec']}), less than history_retention_days: {days}")
    return notes

"""The only module that reads or writes journald.

Writing goes through an injectable sink (python-systemd's journal.send by default): it silently
succeeds when journald is absent, so unit tests pass their own sink instead of trusting it.
Reading runs `journalctl -o json`, which works the same for the system and the user journal
and for every reader (CLI, notifier, later the web service).

A Journal can also read a directory of journal files instead (`directory`): what
systemd-journal-remote writes on a central log host, every host's entries in it. `host` then
narrows every query to one machine's entries (_HOSTNAME=), so history and log read a central
journal exactly as they read the local one (docs/fleet.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import struct
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bamon.errors import BamonError
from bamon.paths import JOURNAL_DIRS, MACHINE_ID

# MESSAGE_ID of the audit records (journalctl MESSAGE_ID=…): one per change to the config.
AUDIT_ID = "f84e75758ce842fcaa04acb843d014d6"

Sink = Callable[..., None]


def _journald_sink(**fields: str) -> None:
    try:
        from systemd import journal
    except ImportError:  # pip install without python-systemd: logger speaks the same protocol
        text = "".join(f"{k}={' '.join(str(v).splitlines())}\n" for k, v in fields.items())
        subprocess.run(["logger", "--journald"], input=text, text=True, check=False)
        return
    journal.send(**fields)


class Journal:
    def __init__(self, user_mode: bool = False, sink: Sink = _journald_sink, *, directory: Path | None = None,
                 host: str | None = None) -> None:
        self.user_mode = user_mode and directory is None  # a directory holds what it holds
        self._sink = sink
        self.directory = directory
        self.host = host

    def _group(self, matches: Sequence[str]) -> list[str]:
        """One group of FIELD=value matches, narrowed to `host` when one is asked for."""
        return [*matches, *([f"_HOSTNAME={self.host}"] if self.host else [])]

    def send(self, message: str, **fields: object) -> None:
        """One structured entry; field names are upper-case journald fields."""
        self._sink(MESSAGE=message, **{k: str(v) for k, v in fields.items() if v is not None})

    def base_command(self) -> list[str]:
        source = [f"--directory={self.directory}"] if self.directory else ["--user"] if self.user_mode else []
        return ["journalctl", *source, "--no-pager"]

    def entries(self, matches: Sequence[str], *, lines: int | None = None, since: str | None = None,
                until: str | None = None, reverse: bool = False, grep: str | None = None,
                fields: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Entries matching all FIELD=value matches (same field repeated: any of them)."""
        argv = self.base_command() + ["-o", "json", "-q"]
        argv += [f"--lines={lines}"] if lines is not None else []
        argv += [f"--since={since}"] if since else []
        argv += [f"--until={until}"] if until else []
        argv += ["--reverse"] if reverse else []
        argv += [f"--grep={grep}", "--case-sensitive=yes"] if grep else []
        argv += [f"--output-fields={','.join(fields)}"] if fields else []
        result = subprocess.run(argv + _narrowed(list(matches), self._group), capture_output=True, text=True,
                                check=False)
        out = []
        for line in result.stdout.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def stream(self, args: Sequence[str]) -> Iterator[dict[str, Any]]:
        """journalctl -o json with `args`, entry by entry as it prints them (so --follow works).

        A journalctl error (a bad --since, say) becomes a BamonError with its own words.
        """
        argv = self.base_command() + ["-q", *args, "-o", "json", *self._group([])]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace") as proc:
            assert proc.stdout is not None and proc.stderr is not None
            done = False
            try:
                for line in proc.stdout:
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue
                done = True
            finally:
                if not done:  # the reader stopped early (`bamon log -f | head`, Ctrl-C): so does journalctl
                    proc.terminate()
            problem = proc.stderr.read().strip()
        if proc.returncode not in (0, None) and problem:
            raise BamonError(f"journalctl: {problem.splitlines()[0]}",
                             "times are written 1h, 2d, yesterday or '2026-01-31 12:00'; see man journalctl")

    def messages(self, queries: Sequence[tuple[Sequence[str], int, int]]) -> list[list[str]]:
        """For each (matches, since_us, until_us): the MESSAGE of every matching entry, in order.

        In-process with python-systemd, each query on a reader of the few files that hold its
        span (`bamon status` asks this for 1,000 checks); one journalctl per query without it.
        """
        readers = self._reader()
        if readers is None:
            return [[field(e, "MESSAGE") for e in self.entries(
                matches, since=f"@{since / 1e6:.6f}", until=f"@{until / 1e6:.6f}", fields=("MESSAGE",))]
                for matches, since, until in queries]
        found = []
        for matches, since, until in queries:
            reader = readers.covering(since, until)
            reader.flush_matches()
            for match in self._group(matches):
                reader.add_match(match)
            found.append([e["MESSAGE"] for e in _read(reader, ("MESSAGE",), since, until)])
        return found

    def scan(self, groups: Sequence[Sequence[str]], fields: Sequence[str], *, since_us: int | None = None,
             until_us: int | None = None) -> list[dict[str, str]]:
        """Entries matching any group of FIELD=value matches, oldest first, with only `fields`.

        Within a group the same field repeated is OR, different fields AND (journalctl's rules).
        In-process with python-systemd, reading single fields (~1.5 µs an entry: 86,000 entries in
        0.12 s where `journalctl -o json` takes 0.9 s); journalctl where it is missing, and for
        user journals.
        """
        readers = self._reader()
        if readers is None:
            matches = [m for i, group in enumerate(groups) for m in ([] if i == 0 else ["+"]) + list(group)]
            return [{f: field(e, f) for f in fields if f in e} for e in self.entries(
                matches, since=f"@{since_us / 1e6:.6f}" if since_us else None,
                until=f"@{until_us / 1e6:.6f}" if until_us else None, fields=fields)]
        reader = readers.covering(since_us, until_us)
        for i, group in enumerate(groups):
            if i:
                reader.add_disjunction()
            for match in self._group(group):
                reader.add_match(match)
        return _read(reader, fields, since_us, until_us)

    def scan_each(self, name: str, values: Sequence[str], fields: Sequence[str], *, since_us: int | None = None,
                  until_us: int | None = None) -> dict[str, list[dict[str, str]]]:
        """{value: its entries, oldest first} for the entries whose field `name` has each value.

        One pass per value: journald's index follows a single match directly, while 100 OR-ed
        values cost 5× more per entry (403,000 entries: 1.0 s against 5.2 s).
        """
        readers = self._reader()
        if readers is None:
            found: dict[str, list[dict[str, str]]] = {v: [] for v in values}
            for entry in self.scan([[f"{name}={v}" for v in values]], [name, *fields], since_us=since_us,
                                   until_us=until_us):
                found.get(entry.get(name, ""), []).append(entry)
            return found
        result: dict[str, list[dict[str, str]]] = {value: [] for value in values}
        for reader in readers.in_turn(since_us, until_us):  # all values in each run of files
            for value in values:
                reader.flush_matches()
                for match in self._group([f"{name}={value}"]):
                    reader.add_match(match)
                result[value] += _read(reader, fields, since_us, until_us)
        return result

    def starting_with(self, prefix: str, fields: Sequence[str], *, since_us: int,
                      after: str | None = None) -> tuple[list[dict[str, str]], str | None]:
        """Entries since `since_us` whose MESSAGE starts with `prefix`, oldest first, with MESSAGE
        and `fields`: the run records among everything logged in a window; and the cursor of the
        last entry read, for the next call's `after` (None where there is none to give).

        `after` (a cursor this returned before) starts the read just past that entry instead:
        a reader that asks every few seconds reads only what was logged since, not the whole
        window again. When that entry is gone (vacuumed, or a cursor of another journal), the
        read starts at `since_us` as without it.

        In-process with python-systemd: every entry of the window read for its MESSAGE alone, the
        rest only for the records (~1.5 µs an entry, where `journalctl --grep -o json` and its
        JSON cost ~50 µs a record: 20,000 records took 1 s of CPU that way). journalctl --grep
        where python-systemd is missing, and for user journals (from `since_us`, no cursor).
        """
        readers = self._reader()
        if readers is None:
            found = self.entries([], since=f"@{since_us / 1e6:.6f}", grep=f"^{re.escape(prefix)}",
                                 fields=("MESSAGE", *fields))
            return [{f: field(e, f) for f in ("MESSAGE", *fields) if f in e} for e in found], None
        reader = readers.covering(since_us, None)
        for match in self._group([]):  # the host of a central journal, if one was named
            reader.add_match(match)
        if after is None or not _seek_past(reader, after):
            reader.seek_realtime(since_us)
            after = None
        wanted, records, read = prefix.encode(), [], False
        while reader._next():  # single-field reads: Reader.get_next() would convert every field
            read = True
            try:
                message = reader._get("MESSAGE")
            except (KeyError, OSError):
                continue
            if message.startswith(wanted):
                entry = {"MESSAGE": message.decode("utf-8", "replace")}
                for name in fields:
                    try:
                        entry[name] = reader._get(name).decode("utf-8", "replace")
                    except (KeyError, OSError):
                        continue
                records.append(entry)
        if read:  # at the end the reader stays on the last entry it read
            with contextlib.suppress(OSError):
                after = reader._get_cursor()
        return records, after

    # --- Forward Secure Sealing (journald's tamper evidence; `bamon audit seal|verify`) ------------
    def _journalctl(self, args: Sequence[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
        argv = ["journalctl", *args]  # the system journal: user managers cannot seal
        try:
            return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, timeout=3600)
        except FileNotFoundError:
            raise BamonError("journalctl not found: bamon needs systemd's journal", "install systemd") from None

    def setup_keys(self, interval: str, force: bool) -> str:
        """`journalctl --setup-keys`: a new sealing key for journald; returns the verification key.

        journald keeps the sealing key and evolves it every `interval`; the verification key
        it prints once is the only way to check the seals later and must leave the host.
        """
        done = self._journalctl(["--setup-keys", f"--interval={interval}", *(["--force"] if force else [])])
        key = done.stdout.strip().splitlines()
        if done.returncode != 0 or not key:
            problem = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            raise BamonError(f"journalctl --setup-keys: {problem}", "run as root, with a persistent journal "
                             "(mkdir -p /var/log/journal; systemctl restart systemd-journald)")
        self._journalctl(["--rotate"])  # journald seals from the next journal file on: start it now
        return key[-1]

    def verify(self, key: str | None) -> tuple[bool, list[str]]:
        """`journalctl --verify` (with the verification key: the seals too): (all passed, its report)."""
        done = self._journalctl(["--verify", *([f"--verify-key={key}"] if key else [])])
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        return done.returncode == 0, lines

    def _reader(self) -> Readers | None:
        """python-systemd readers of the system journal or of `directory`; None without
        python-systemd, or for user journals (which journalctl finds for the user)."""
        try:
            from systemd import journal
        except ImportError:
            return None
        if self.directory is not None:
            return Readers(journal, self.directory)
        return None if self.user_mode else Readers(journal)

    def oldest_us(self) -> int | None:
        """When the oldest entry the journal still holds was written (µs); None if unknown.

        Older history is gone: journald's retention, a vacuum, or a journal kept in memory.
        """
        try:
            from systemd import journal
        except ImportError:
            return None
        try:
            reader = journal.Reader(path=str(self.directory)) if self.directory is not None else \
                journal.Reader(flags=journal.CURRENT_USER if self.user_mode else journal.LOCAL_ONLY)
            for match in self._group([]):
                reader.add_match(match)
            reader.seek_head()
            entry = reader.get_next()
        except OSError:
            return None
        moment = entry.get("__REALTIME_TIMESTAMP") if entry else None
        return int(moment.timestamp() * 1e6) if moment is not None else None


# The start of a journal file's header (systemd's docs/JOURNAL_FILE_FORMAT.md, stable since the
# format began): its signature, and at offset 184 the realtime stamps of the file's first and
# last entry, which journald keeps current as it appends.
_HEADER = struct.Struct("<8s176xQQ")
_SIGNATURE = b"LPKSHHRH"
_ANY_TIME = (0, 2**64 - 1)


def journal_paths() -> set[str]:
    """The files sd_journal_open(SD_JOURNAL_LOCAL_ONLY) reads: *.journal and *.journal~ (files
    journald set aside as damaged) in journald's directories and in this machine's own
    subdirectory of each."""
    try:
        machine = MACHINE_ID.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        machine = ""
    found: set[str] = set()
    for root in JOURNAL_DIRS:
        for directory in (root, root / machine) if machine else (root,):
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            found.update(f"{directory}/{n}" for n in names if n.endswith((".journal", ".journal~")))
    return found


def journal_spans(paths: set[str]) -> dict[str, tuple[int, int]]:
    """{file: (its first, its last entry's realtime in µs)} of journal files.

    A file this user cannot open is left out, as sd-journal leaves it out; one whose header
    is not as expected (or that holds no entry yet) counts as holding any time.
    """
    spans = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                head = handle.read(_HEADER.size)
        except OSError:
            continue
        if len(head) < _HEADER.size:
            spans[path] = _ANY_TIME
            continue
        signature, first, last = _HEADER.unpack(head)
        spans[path] = (first, last) if signature == _SIGNATURE and 0 < first <= last else _ANY_TIME
    return spans


class Readers:
    """python-systemd readers of the system journal, each on the files that hold a span of time.

    sd-journal looks into every file it has open at each step of a reader, and a host that
    keeps a week of 1,000 checks has some 70 files (a step of a matched read took 5 ms with
    all of them open, 10 µs with the two that hold the last runs). A file's header says which
    span it holds; a reader opens only the files whose span meets the one asked for, and all
    of them (as before) when that is every file or none. Entries stamped out of order (the
    clock set back) can fall outside their file's span: sd-journal's own seek by time
    (bisection in each file) misses those too. A central journal's `directory` is read whole,
    as sd-journal finds its files.
    """

    def __init__(self, module: Any, directory: Path | None = None) -> None:
        self._module = module
        self._directory = directory
        self._paths = journal_paths() if directory is None else set()
        self._spans = journal_spans(self._paths)
        self._open: dict[tuple[str, ...], Any] = {}

    def covering(self, since_us: int | None, until_us: int | None) -> Any:
        """A reader of every file that may hold entries stamped in [since, until] (None: open)."""
        chosen = self._meeting(since_us, until_us)
        if 0 < len(chosen) < len(self._spans):
            reader = self._of(tuple(sorted(chosen)))
            if reader is not None:
                return reader
        return self._everything()

    def in_turn(self, since_us: int | None, until_us: int | None) -> list[Any]:
        """Readers that together cover [since, until], to be read one after the other.

        Each holds a run of files whose spans overlap; the runs follow one another in time, so
        their entries, read in turn, come in the journal's order. A reader with few files keeps
        sd-journal's maps of them warm across many passes (analytics: 100 checks over a week in
        70 files, 4.5 s of CPU with one reader of all, 1.5 s file by file).
        """
        clusters: list[list[str]] = []
        end = -1
        for path in sorted(self._meeting(since_us, until_us), key=lambda p: self._spans[p]):
            first, last = self._spans[path]
            if clusters and first <= end:
                clusters[-1].append(path)
            else:
                clusters.append([path])
            end = max(end, last)
        if len(clusters) < 2:
            return [self.covering(since_us, until_us)]
        readers = [self._of(tuple(sorted(cluster))) for cluster in clusters]
        return [self.covering(since_us, until_us)] if None in readers else readers

    def _meeting(self, since_us: int | None, until_us: int | None) -> list[str]:
        return [path for path, (first, last) in self._spans.items()
                if (until_us is None or first <= until_us) and (since_us is None or last >= since_us)]

    def _of(self, files: tuple[str, ...]) -> Any:
        """A reader of exactly these files; None when one went away, or journald rotated since
        they were listed (the entries of a file now under another name would be missed)."""
        if files not in self._open:
            try:
                reader = self._module.Reader(files=list(files))
            except OSError:
                reader = None
            self._open[files] = reader if reader is not None and journal_paths() == self._paths else None
        return self._open[files]

    def _everything(self) -> Any:
        """A reader of every file, as sd-journal finds them (the central `directory` or this machine's)."""
        if () not in self._open:
            journal = self._module
            self._open[()] = (journal.Reader(path=str(self._directory)) if self._directory is not None
                              else journal.Reader(flags=journal.LOCAL_ONLY))
        return self._open[()]


def _read(reader: Any, fields: Sequence[str], since_us: int | None, until_us: int | None) -> list[dict[str, str]]:
    """The reader's matching entries in [since, until], with only `fields` (absent ones left out)."""
    if since_us:
        reader.seek_realtime(since_us)
    else:
        reader.seek_head()
    found: list[dict[str, str]] = []
    # single-field reads: Reader.get_next() would convert every field; the methods looked up
    # once (history of a 1-minute check over 30 days reads 86,400 entries)
    step, get, stamp, add = reader._next, reader._get, reader._get_realtime, found.append
    while step():
        if until_us and stamp() > until_us:
            break
        entry = {}
        for name in fields:
            try:
                entry[name] = get(name).decode("utf-8", "replace")
            except (KeyError, OSError):  # this entry lacks the field
                continue
        add(entry)
    return found


def _seek_past(reader: Any, cursor: str) -> bool:
    """Put the reader on the entry of `cursor` (the next step reads the one after it); False
    when that entry is not there any more (sd-journal would stop at the nearest one instead)."""
    try:
        reader.seek_cursor(cursor)
        return bool(reader._next()) and bool(reader.test_cursor(cursor))
    except OSError:  # not a cursor sd-journal can read
        return False


def _narrowed(matches: list[str], group: Callable[[Sequence[str]], list[str]]) -> list[str]:
    """journalctl matches with every "+"-separated group passed through `group`."""
    groups: list[list[str]] = [[]]
    for match in matches:
        if match == "+":
            groups.append([])
        else:
            groups[-1].append(match)
    return [m for i, g in enumerate(groups) for m in ([] if i == 0 else ["+"]) + group(g)]


def field(entry: dict[str, Any], name: str, default: str = "") -> str:
    """A field as text: journalctl gives lists for repeated fields and byte arrays for binary."""
    value = entry.get(name, default)
    if isinstance(value, list):
        binary = all(isinstance(v, int) for v in value)
        value = bytes(value).decode("utf-8", "replace") if binary else value[-1]
    return str(value) if value is not None else default

"""The only module that reads or writes journald.

Writing goes through an injectable sink (python-systemd's journal.send by default): it silently
succeeds when journald is absent, so unit tests pass their own sink instead of trusting it.
Reading runs `journalctl -o json`, which works the same for the system and the user journal
and for every reader (CLI, notifier, later the web service).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bamon.errors import BamonError

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
    def __init__(self, user_mode: bool = False, sink: Sink = _journald_sink) -> None:
        self.user_mode = user_mode
        self._sink = sink

    def send(self, message: str, **fields: object) -> None:
        """One structured entry; field names are upper-case journald fields."""
        self._sink(MESSAGE=message, **{k: str(v) for k, v in fields.items() if v is not None})

    def base_command(self) -> list[str]:
        return ["journalctl", *(["--user"] if self.user_mode else []), "--no-pager"]

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
        result = subprocess.run(argv + list(matches), capture_output=True, text=True, check=False)
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
        argv = self.base_command() + ["-q", *args, "-o", "json"]
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

    def lines_of_runs(self, invocations: Sequence[str]) -> dict[str, list[str]]:
        """{invocation id: its stdout/stderr lines} for the given runs of units.

        In-process seeks by invocation id (~50 µs each with python-systemd): journalctl with
        1,000 OR-ed matches takes ~0.5 s, the whole `bamon status` budget.
        """
        try:
            from systemd import journal
        except ImportError:  # pip install without python-systemd: one journalctl query
            matches = [f"_SYSTEMD_INVOCATION_ID={i}" for i in invocations] + ["_TRANSPORT=stdout"]
            found: dict[str, list[str]] = {}
            for entry in self.entries(matches, fields=("MESSAGE", "_SYSTEMD_INVOCATION_ID")) if invocations else ():
                found.setdefault(field(entry, "_SYSTEMD_INVOCATION_ID"), []).append(field(entry, "MESSAGE"))
            return found
        reader = journal.Reader()
        result = {}
        for invocation in invocations:
            reader.flush_matches()
            reader.add_match(_SYSTEMD_INVOCATION_ID=invocation, _TRANSPORT="stdout")
            reader.seek_head()
            lines = [_text(entry.get("MESSAGE", "")) for entry in reader]
            if lines:
                result[invocation] = lines
        return result


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def field(entry: dict[str, Any], name: str, default: str = "") -> str:
    """A field as text: journalctl gives lists for repeated fields and byte arrays for binary."""
    value = entry.get(name, default)
    if isinstance(value, list):
        binary = all(isinstance(v, int) for v in value)
        value = bytes(value).decode("utf-8", "replace") if binary else value[-1]
    return str(value) if value is not None else default

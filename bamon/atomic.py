"""Replacing a file so that readers see the old or the new content, never half of it.

Used for the config (locked writers), units written by `bamon apply` (a concurrent
daemon-reload may read them) and the notifier's `last` records (`bamon status` may read them).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str | bytes, *, durable: bool = True, mode: int = 0o644) -> None:
    """Write `text` to `path` through a temporary file and a rename; keep the file's mode
    (`mode` for a new file).

    `durable` also fsyncs before the rename: wanted for the operator's config, not for files
    that are regenerated anyway (units written by `bamon apply`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text  # bytes: restored exactly (rollback)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

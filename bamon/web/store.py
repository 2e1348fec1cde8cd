"""The web service's own small state files (users, tokens, sessions, layouts): JSON, locked,
replaced atomically, owned by whoever owns the directory.

The CLI (`bamon user add`, as root) and the service (an unprivileged dynamic user) both write
them; keeping the directory's owner on every file means neither locks the other out.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bamon.atomic import atomic_write


class JsonStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """The current content, to change in place; written back when the block ends cleanly."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(f".{self.path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self.read()
            yield data
            self._write(data)
            _keep_owner(lock)
        finally:
            os.close(fd)

    def _write(self, data: dict[str, Any]) -> None:
        existed = self.path.exists()
        atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n", durable=False)
        if not existed:
            os.chmod(self.path, 0o600)  # password hashes and token digests: owner only
        _keep_owner(self.path)


def _keep_owner(path: Path) -> None:
    parent = path.parent.stat()
    if os.geteuid() == 0 and (path.stat().st_uid, path.stat().st_gid) != (parent.st_uid, parent.st_gid):
        os.chown(path, parent.st_uid, parent.st_gid)

"""Secrets for channel settings: `${secret:NAME}` and `${env:NAME}`, resolved only at send time.

System mode stores each secret as /etc/bamon/credentials/NAME.cred, encrypted by
`systemd-creds encrypt` (the host key, plus TPM2 where present); a generated drop-in gives it to
bamon.notify@.service and bamon.outbox.service with LoadCredentialEncrypted=, and they read the
plain text from $CREDENTIALS_DIRECTORY. User mode on systemd 252 cannot do that (user managers
there have no access to the host key), so a secret is a 0600 file in
~/.config/bamon/credentials. The value travels on stdin/stdout pipes only, never in argv.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bamon.errors import BamonError
from bamon.paths import Paths

REFERENCE = re.compile(r"\$\{(secret|env):([A-Za-z0-9_.-]+)\}")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
SUFFIX = ".cred"  # system mode: encrypted; user mode: the plain file has no suffix
# The units that send alerts, hence need the credentials. (Escalation steps run as transient
# units, which no drop-in reaches: running as root, they decrypt with systemd-creds instead.)
CONSUMERS = ("bamon.notify@.service", "bamon.recovered@.service", "bamon.outbox.service")
DROPIN = "bamon-secrets.conf"

Decrypt = Callable[[Path, str], str]  # (credential file, name) -> value


class SecretError(BamonError):
    """A reference that cannot be resolved (the message names it, never a value)."""


def references(value: Any) -> Iterator[tuple[str, str]]:
    """(kind, name) of every ${…} reference inside a setting, nested lists/mappings included."""
    if isinstance(value, str):
        yield from ((m.group(1), m.group(2)) for m in REFERENCE.finditer(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from references(item)


def stored(paths: Paths) -> list[str]:
    """Names of the stored secrets."""
    directory = paths.credentials_dir
    try:
        files = sorted(directory.iterdir())
    except OSError:
        return []
    suffix = "" if paths.user_mode else SUFFIX
    return [f.name.removesuffix(suffix) for f in files
            if f.is_file() and f.name.endswith(suffix) and NAME.match(f.name.removesuffix(suffix))]


def _file(paths: Paths, name: str) -> Path:
    return paths.credentials_dir / (name if paths.user_mode else name + SUFFIX)


class Resolver:
    """Turns references into values, in the process that sends (notifier, outbox, alert test)."""

    def __init__(self, paths: Paths, decrypt: Decrypt | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.paths = paths
        self.decrypt = decrypt
        self.environ = os.environ if environ is None else environ

    def secret(self, name: str) -> str:
        # In a unit with LoadCredentialEncrypted=, systemd has decrypted it for us already.
        directory = self.environ.get("CREDENTIALS_DIRECTORY")
        if directory and (Path(directory) / name).is_file():
            return (Path(directory) / name).read_text(encoding="utf-8").rstrip("\n")
        path = _file(self.paths, name)
        if not path.is_file():
            raise SecretError(f"secret {name!r} is not stored", f"store it with `bamon secret set {name}`")
        if self.paths.user_mode:
            return path.read_text(encoding="utf-8").rstrip("\n")
        if self.decrypt is None:
            raise SecretError(f"secret {name!r} cannot be decrypted here", "run as root")
        return self.decrypt(path, name)

    def env(self, name: str) -> str:
        if name not in self.environ:
            raise SecretError(f"environment variable {name!r} is not set",
                              "set it for the notifier, e.g. Environment= in a drop-in")
        return self.environ[name]

    def value(self, value: Any) -> Any:
        """`value` with every reference replaced; nested lists and mappings too."""
        if isinstance(value, str):
            return REFERENCE.sub(lambda m: getattr(self, m.group(1))(m.group(2)), value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


def store(paths: Paths, name: str, value: str, encrypt: Callable[[str, str, Path], None]) -> Path:
    """Write the secret (encrypted in system mode) and return its file."""
    if not NAME.match(name):
        raise BamonError(f"invalid secret name {name!r}", "use 1 to 64 of A-Z a-z 0-9 _ . -")
    paths.credentials_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _file(paths, name)
    if paths.user_mode:
        fd = os.open(f"{path}.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        os.replace(f"{path}.tmp", path)
    else:
        encrypt(name, value, path)
    return path


def remove(paths: Paths, name: str) -> bool:
    path = _file(paths, name)
    if not path.is_file():
        return False
    path.unlink()
    return True


def dropin(paths: Paths) -> str:
    """The drop-in that hands every stored secret to the alert-sending units."""
    lines = ["# Generated by bamon secret set/remove: the stored secrets, as credentials.", "[Service]"]
    lines += [f"LoadCredentialEncrypted={n}:{_file(paths, n)}" for n in stored(paths)]
    return "\n".join(lines) + "\n"


def write_dropins(paths: Paths) -> list[Path]:
    """Regenerate the drop-ins (system mode); caller reloads systemd."""
    from bamon.atomic import atomic_write

    written = []
    for unit in CONSUMERS:
        path = paths.unit_dir / f"{unit}.d" / DROPIN
        atomic_write(path, dropin(paths))
        written.append(path)
    return written

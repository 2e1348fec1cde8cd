"""Config versions: every state of the config files, kept in a git repository. The only module that runs git.

Why git, and why the git program rather than GitPython: git is the store built for exactly this
(content-addressed snapshots, who/when/what, diffs, byte-exact restore), operators know it and
can inspect the repository with their own tools, and GitPython would run the same git program
underneath while adding a dependency and ~100 ms of imports. So git is a package dependency.

The repository lives in the state directory (paths.versions_dir) with the config directory as
its work tree; only the files bamon reads are tracked: config.yaml, scripts.d/*.yaml and
templates.d/*.yaml (never credentials/, the lock or editor leftovers). Each commit's author is
the user behind the change; trailers say what it was (Bamon-Action, Bamon-Check, Bamon-Via).
Version numbers count commits from 1, oldest first.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bamon.errors import BamonError

_TRAILERS = {"Bamon-Action": "action", "Bamon-Check": "check", "Bamon-Via": "via"}
_FIELD, _RECORD = "\x1f", "\x1e"
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree: the "before" of version 1


@dataclass(frozen=True)
class Version:
    number: int
    commit: str
    when: datetime
    user: str
    action: str
    check: str | None
    via: str
    files: tuple[str, ...]  # the files this version changed, relative to the config directory
    summary: str = ""  # the commit's subject: "add web by root", "rollback to version 3 by alice via web"

    def as_dict(self) -> dict[str, object]:
        return {"version": self.number, "commit": self.commit, "time": self.when.isoformat(), "user": self.user,
                "action": self.action, "check": self.check, "via": self.via, "files": list(self.files),
                "summary": self.summary}


class Store:
    """The versions of one config directory."""

    def __init__(self, git_dir: Path, work_tree: Path, config_name: str) -> None:
        self.git_dir = git_dir
        self.work_tree = work_tree
        self.config_name = config_name

    # --- running git ---------------------------------------------------------------------------
    def _git(self, *args: str, check: bool = True, user: str = "bamon") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIT_DIR": str(self.git_dir), "GIT_WORK_TREE": str(self.work_tree),
               # the operator's own git settings (autocrlf, hooks, signing) must not change what is kept
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
               "GIT_AUTHOR_NAME": user, "GIT_AUTHOR_EMAIL": f"{user}@bamon", "GIT_COMMITTER_NAME": user,
               "GIT_COMMITTER_EMAIL": f"{user}@bamon", "LC_ALL": "C"}
        # safe.directory: a user reading root's repository (bamon config history) is fine;
        # --no-optional-locks: a reader (diff, status) never holds the index lock a writer needs
        argv = ["git", "-c", "safe.directory=*", "-c", "core.autocrlf=false", "-c", "core.quotePath=false",
                "--no-optional-locks", *args]
        try:
            result = subprocess.run(argv, cwd=self.work_tree, env=env, capture_output=True, text=True, check=False,
                                    timeout=120, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise BamonError("git not found: config versions need it", "install git (apt-get install git)") from None
        if check and result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise BamonError(f"git {args[0]}: {lines[-1] if lines else result.returncode}",
                             f"the versions are kept in {self.git_dir}")
        return result

    def exists(self) -> bool:
        return (self.git_dir / "HEAD").is_file()

    def _init(self) -> None:
        self.git_dir.parent.mkdir(parents=True, exist_ok=True)
        self._git("init", "--quiet")
        # What is tracked: everything else in the config directory is ignored (credentials/,
        # the lock, alert templates, editor leftovers such as x.yaml~ and hidden .#x.yaml).
        (self.git_dir / "info").mkdir(exist_ok=True)
        (self.git_dir / "info" / "exclude").write_text(
            f"/*\n!/{self.config_name}\n!/scripts.d/\n/scripts.d/*\n!/scripts.d/*.yaml\n"
            "!/templates.d/\n/templates.d/*\n!/templates.d/*.yaml\n.*\n", encoding="utf-8")

    # --- writing -----------------------------------------------------------------------------------
    def record(self, action: str, check: str | None, user: str, via: str, detail: str = "") -> bool:
        """Commit the tracked files as they are now; False when nothing changed since the last version."""
        if not self.exists():
            self._init()
        self._git("add", "--all")
        trailers = [f"Bamon-Action: {action}", f"Bamon-Via: {via}", *([f"Bamon-Check: {check}"] if check else [])]
        what = " ".join(w for w in (action, check, detail) if w)
        subject = f"{what} by {user}{'' if via == 'cli' else f' via {via}'}"
        done = self._git("commit", "--quiet", "--no-verify", "--allow-empty-message", "-m", subject,
                         "-m", "\n".join(trailers), check=False, user=user)
        if done.returncode != 0:
            if "nothing to commit" in done.stdout + done.stderr or "nothing added" in done.stdout + done.stderr:
                return False
            self._git("commit", "--quiet", "--no-verify", "-m", subject, user=user)  # raises with git's reason
        return True

    def pending(self) -> bool:
        """Do the files differ from the last version (a hand edit not yet recorded)?"""
        if not self.exists():
            return True
        status = self._git("status", "--porcelain", "--untracked-files=all")
        return bool(status.stdout.strip())

    # --- reading ------------------------------------------------------------------------------------
    def history(self, paths: Sequence[str] = (), grep: str | None = None, pickaxe: str | None = None) -> list[Version]:
        """Every version, oldest first; with `paths`, `grep` (a regular expression matched
        against each line of the message) or `pickaxe` (against added or removed lines), only
        the versions that match."""
        if not self.exists():
            return []
        numbers = {c: i + 1 for i, c in enumerate(self._git("rev-list", "--reverse", "HEAD").stdout.split())}
        fmt = _FIELD.join(("%H", "%an", "%at", "%B")) + _FIELD
        args = ["log", "--reverse", f"--format={_RECORD}{fmt}", "--name-only", "--no-renames"]
        if grep:
            args += ["--extended-regexp", f"--grep={grep}"]
        if pickaxe:
            args += ["-G", pickaxe]
        out = self._git(*args, "HEAD", "--", *(paths or ())).stdout
        return [self._parse(block, numbers) for block in out.split(_RECORD) if block.strip()]

    @staticmethod
    def _parse(block: str, numbers: dict[str, int]) -> Version:
        commit, user, stamp, body, names = block.split(_FIELD, 4)
        fields = {"action": "", "check": None, "via": ""}
        for line in body.splitlines():
            key, _, value = line.partition(": ")
            if key in _TRAILERS:
                fields[_TRAILERS[key]] = value.strip()
        return Version(numbers[commit], commit, datetime.fromtimestamp(int(stamp), tz=UTC), user,
                       str(fields["action"]), fields["check"], str(fields["via"]),
                       tuple(n for n in names.splitlines() if n.strip()), body.splitlines()[0] if body else "")

    def of_check(self, name: str) -> list[Version]:
        """The versions that changed check `name`: made for it (add, update, …), or that touched
        its scripts.d file or an entry with its name in config.yaml (hand edits)."""
        ere = name.replace(".", "\\.")  # check names are [A-Za-z0-9_.-]: only the dot is special
        found = {v.number: v for v in self.history(grep=f"^Bamon-Check: {ere}$")}
        found.update({v.number: v for v in self.history(paths=[f"scripts.d/{name}.yaml"])})
        entry = f"name:[ '\"]*{ere}['\"]*([ ,}}]|$)"
        found.update({v.number: v for v in self.history(paths=[self.config_name], pickaxe=entry)})
        return [found[n] for n in sorted(found)]

    def resolve(self, spec: str) -> Version:
        """A version by number (3), or by commit id (a prefix of at least 4 hex digits)."""
        versions = self.history()
        if spec.isdigit() and 1 <= int(spec) <= len(versions):
            return versions[int(spec) - 1]
        matches = [v for v in versions if len(spec) >= 4 and v.commit.startswith(spec.lower())]
        if len(matches) == 1:
            return matches[0]
        newest = f"1 to {len(versions)}" if versions else "none yet"
        raise BamonError(f"no config version {spec!r}", f"versions are numbered {newest}: see `bamon config history`",
                         code="not_found")

    def diff(self, old: Version | None, new: Version | None) -> str:
        """The unified diff from `old` (None: before the first version) to `new` (None: the files now)."""
        args = ["diff", "--no-color", "--no-renames", old.commit if old else _EMPTY_TREE]
        if new is not None:
            args.append(new.commit)
        return self._git(*args).stdout

    def files_at(self, version: Version) -> dict[str, bytes]:
        """{relative path: content} of every tracked file in `version`, byte for byte (one git call)."""
        import io
        import tarfile

        argv = ["git", "-c", "safe.directory=*", "--git-dir", str(self.git_dir), "archive", "--format=tar",
                version.commit]
        archive = subprocess.run(argv, capture_output=True, check=False, timeout=120, stdin=subprocess.DEVNULL)
        if archive.returncode != 0:
            raise BamonError(f"git archive: {archive.stderr.decode(errors='replace').strip()}",
                             f"the versions are kept in {self.git_dir}")
        result = {}
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    result[member.name] = handle.read()
        return result

    def tracked_now(self) -> list[str]:
        """The tracked files in the work tree now (relative paths), as `record` would take them."""
        out = self._git("ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout
        return sorted({n for n in out.split("\0") if n and (self.work_tree / n).exists()})

"""The generated completions load in bash, zsh and fish and complete commands and check names."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from packaging_support import need

HERE = Path(__file__).resolve().parent


def _env(bamon_bin: Path) -> dict[str, str]:
    return {"PATH": f"{bamon_bin / 'bin'}:/usr/bin:/bin", "HOME": str(bamon_bin), "TERM": "dumb",
            "BAMON_CONFIG": str(bamon_bin / "config.yaml"), "LANG": "C.UTF-8"}


def bash_complete(extras: Path, bamon_bin: Path, *words: str) -> set[str]:
    script = (f"source {extras / 'completions' / 'bamon.bash'}; "
              f"COMP_WORDS=(bamon {' '.join(repr(w) for w in words)}); COMP_CWORD={len(words)}; "
              '_bamon; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run([need("bash"), "--norc", "-c", script], capture_output=True, text=True, check=True,
                         env=_env(bamon_bin))
    return set(out.stdout.split())


@pytest.mark.parametrize(("words", "want"), [
    (("remove", ""), {"web_frontend", "disk_root"}),
    (("status", "--name", "w"), {"web_frontend"}),
    (("--config", "/nonexistent.yaml", "history", ""), set()),  # names come from the config typed
    (("config", ""), {"show", "validate", "edit", "reset", "history", "diff", "rollback", "reload"}),
    (("status", "--sort", ""), {"duration", "name", "status"}),
    (("completions", ""), {"bash", "zsh", "fish"}),
    (("add", ""), set()),  # a new check's name is not offered from the config
    (("secret", "set", ""), set()),  # nor for a secret's name
    (("silence", "add", ""), {"web_frontend", "disk_root"}),
])
def test_bash(extras: Path, bamon_bin: Path, words: tuple[str, ...], want: set[str]) -> None:
    assert bash_complete(extras, bamon_bin, *words) == want


def test_zsh(extras: Path, bamon_bin: Path, tmp_path: Path) -> None:
    fpath = tmp_path / "zfunc"
    fpath.mkdir()
    (fpath / "_bamon").write_text((extras / "completions" / "_bamon").read_text())

    def complete(line: str) -> set[str]:
        out = subprocess.run([need("zsh"), "-f", str(HERE / "zsh-complete.zsh"), str(fpath), line],
                             capture_output=True, text=True, check=True, timeout=60, env=_env(bamon_bin))
        return set(out.stdout.split())

    assert complete("bamon remove ") == {"web_frontend", "disk_root"}
    assert {"--name", "--json", "--sort"} <= complete("bamon status --")
    assert {"show", "validate", "edit", "reset"} <= complete("bamon config ")


def test_fish(extras: Path, bamon_bin: Path) -> None:
    script = (f"source {extras / 'completions' / 'bamon.fish'}; "
              "complete -C 'bamon history '; complete -C 'bamon config '")
    out = subprocess.run([need("fish"), "--no-config", "-c", script], capture_output=True, text=True,
                         check=True, env={**_env(bamon_bin), "XDG_CONFIG_HOME": str(bamon_bin)})
    offered = {line.split("\t")[0] for line in out.stdout.splitlines()}
    assert {"web_frontend", "disk_root", "show", "validate"} <= offered


def test_scripts_are_valid_syntax(extras: Path) -> None:
    for shell, name in (("bash", "bamon.bash"), ("zsh", "_bamon"), ("fish", "bamon.fish")):
        subprocess.run([need(shell), "-n", str(extras / "completions" / name)], check=True, env=dict(os.environ))

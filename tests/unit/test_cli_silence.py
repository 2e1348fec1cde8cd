"""bamon silence add|list|remove, as an operator types them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CliResult, JournalSink, WriteConfig

Cli = Callable[..., "CliResult"]


def test_silence_add_list_remove(cli: Cli, write_config: WriteConfig, sink: JournalSink) -> None:
    config = str(write_config("scripts: [{name: web, command: 'true', tags: [prod]}]"))
    base = ("--user", "--config", config, "silence")
    added = cli(*base, "add", "web", "--for", "2h", "--reason", "deploy")
    assert added.code == 0 and added.out.startswith("silenced web for 2h")
    assert cli(*base, "add", "--tag", "prod", "--for", "30min").code == 0
    listed = json.loads(cli(*base, "list", "--json").out)["silences"]
    assert [(s["check"], s["tag"], s["reason"]) for s in listed] == [("web", None, "deploy"), (None, "prod", "")]
    table = cli(*base, "list").out
    assert "tag:prod" in table and "deploy" in table and "ENDS IN" in table
    assert cli(*base, "remove", listed[0]["id"]).code == 0
    assert [s["tag"] for s in json.loads(cli(*base, "list", "--json").out)["silences"]] == ["prod"]
    assert [e["BAMON_AUDIT_ACTION"] for e in sink.entries] == ["silence", "silence", "unsilence"]


def test_silence_mistakes_are_one_line_errors(cli: Cli, write_config: WriteConfig) -> None:
    config = str(write_config("scripts: [{name: web, command: 'true'}]"))
    base = ("--user", "--config", config, "silence")
    typo = cli(*base, "add", "wbe", "--for", "1h")
    assert typo.code == 1 and "no script named 'wbe'" in typo.err and "did you mean 'web'?" in typo.err
    bad = cli(*base, "add", "web", "--for", "soon")
    assert bad.code == 1 and "--for 'soon'" in bad.err
    assert cli(*base, "remove", "nope").code == 1
    assert cli(*base, "add", "--for", "1h").code == 2  # neither NAME nor --tag
    assert cli(*base, "list").out.strip() == "no silences"

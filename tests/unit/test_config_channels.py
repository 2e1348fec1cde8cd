"""alerts.channels in `bamon config validate`: every problem with file, line, key path and hint;
a broken channel is left out and the others stay."""

from __future__ import annotations

from pathlib import Path

from conftest import LoadConfig

from bamon.config.channels import ChannelSpec

CONFIG = """\
scripts:
  - {name: web, command: "true"}
alerts:
  channels:
    - {type: webhook, url: "https://example.com/hook"}
    - {name: mail, type: email, smtp_server: smtp.example.com, port: "submission", to: ops@example.com}
    - {type: carrier-pigeon}
    - {name: webhook, type: webhook, url: "https://example.com/other"}
    - {name: chat, type: slack, webhook_url: "${secret:no_such_secret}"}
    - {name: pd, type: pagerduty}
    - {name: typo, type: webhook, url: "https://example.com/x", methd: PUT}
    - {name: ok2, type: ntfy, topic: alerts}
"""


def test_each_channel_problem_is_located_and_hinted(load_config: LoadConfig) -> None:
    config = load_config(CONFIG)
    found = {(i.line, i.path): (i.message, i.hint) for i in config.errors}
    assert Path(config.errors[0].file).name == "config.yaml"
    assert found[(6, "alerts.channels[1].port")][0] == "'submission' is not a whole number"
    assert "587" in found[(6, "alerts.channels[1].port")][1]
    assert "is not one of: email, slack" in found[(7, "alerts.channels[2].type")][0]
    assert found[(8, "alerts.channels[3].name")][0].startswith("a channel named 'webhook' already exists")
    assert found[(9, "alerts.channels[4].webhook_url")] == (
        "secret 'no_such_secret' does not exist",
        "store it with `bamon secret set no_such_secret` (see `bamon secret list`)")
    assert found[(10, "alerts.channels[5]")][0] == "missing required key 'routing_key'"
    assert found[(11, "alerts.channels[6].methd")] == ("unknown key 'methd'", "did you mean 'method'?")
    # the broken ones are left out; the good ones and the check stay
    assert [s.name for s in config.scripts] == ["web"]
    assert config.channels == (
        ChannelSpec("webhook", "webhook", {"url": "https://example.com/hook", "timeout": 10, "retries": 2,
                                           "method": "POST", "headers": {}, "signature_header": "X-Bamon-Signature",
                                           "content_type": "application/json"}),
        ChannelSpec("ok2", "ntfy", {"topic": "alerts", "server": "https://ntfy.sh", "timeout": 10, "retries": 2}),
    )


def test_no_alerts_section_means_no_channels(load_config: LoadConfig) -> None:
    config = load_config("scripts: []\n")
    assert config.channels == () and not config.errors

"""Alert channels: one module per type, all behind bamon.notify.alert.Channel, found through
the one table below (type name → factory). Adding a channel is a module plus a line here plus
its settings under $defs/channel in bamon/config/schema.yaml.

A factory gets the channel's name and its settings, already validated by the schema and with
${secret:…}/${env:…} resolved; it raises SettingsError for what the schema cannot say.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Channel


class SettingsError(ValueError):
    """The channel cannot be built from its settings: a permanent delivery failure."""


# type → module in this package; each module has `build(name, settings) -> Channel`.
# Imported on use: the notifier of a webhook-only config never imports smtplib or apprise.
TABLE: Mapping[str, str] = {
    "email": "email",
    "slack": "slack",
    "teams": "teams",
    "discord": "discord",
    "webhook": "webhook",
    "pagerduty": "pagerduty",
    "ntfy": "ntfy",
    "apprise": "apprise_channel",
    "alertmanager": "alertmanager",
    "datadog": "datadog",
    "newrelic": "newrelic",
    "jira": "jira",
    "servicenow": "servicenow",
    "cloudwatch": "cloudwatch",
    "azure_monitor": "azure_monitor",
    "gcp_monitoring": "gcp_monitoring",
}


def build(type_: str, name: str, settings: Mapping[str, Any]) -> Channel:
    """The channel of `type_` named `name`; SettingsError when it cannot be built."""
    if type_ not in TABLE:
        raise SettingsError(f"unknown channel type {type_!r} (known: {', '.join(sorted(TABLE))})")
    module = importlib.import_module(f"{__name__}.{TABLE[type_]}")
    channel: Channel = module.build(name, settings)
    return channel

"""apprise: any of the services apprise knows (Telegram, Matrix, Pushover, mailto, …) by URL.

Library: https://github.com/caronc/apprise (Apprise.add / Apprise.notify; URL forms in its wiki,
https://github.com/caronc/apprise/wiki). It is on PyPI but not packaged in Debian 12, so this
channel exists only where it is installed; `bamon config validate` says so otherwise. apprise
answers only yes or no, so every failure counts as transient and is retried from the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert, Delivery, Kind, Outcome
from bamon.notify.channels import SettingsError
from bamon.notify.channels.http import Retry, retrying


def _library() -> Any:
    try:
        import apprise
    except ImportError:
        raise SettingsError("the apprise library is not installed (pip install apprise)") from None
    return apprise


class Apprise:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.lib = _library()
        urls = settings["urls"]
        self.urls = [str(urls)] if isinstance(urls, str) else [str(u) for u in urls]
        self.retry = Retry.of(settings)
        self.client = self.lib.Apprise()
        for index, url in enumerate(self.urls):
            if not self.client.add(url):
                # The URL holds the credentials: name its position, never its text.
                raise SettingsError(f"apprise does not understand URL number {index + 1}")

    def _type(self, alert: Alert) -> Any:
        types = self.lib.NotifyType
        return {Kind.RECOVERY: types.SUCCESS, Kind.TEST: types.INFO}.get(
            alert.kind, types.FAILURE if alert.severity == "critical" else types.WARNING)

    def _once(self, alert: Alert) -> tuple[Outcome, str, float | None]:
        try:
            sent = self.client.notify(body=alert.body or alert.title, title=alert.title,
                                      notify_type=self._type(alert))
        except Exception as exc:  # noqa: BLE001 - a plugin may raise anything; never let it out
            return Outcome.TRANSIENT, f"apprise failed ({type(exc).__name__})", None
        if sent:
            return Outcome.DELIVERED, f"apprise: sent to {len(self.urls)} service(s)", None
        return Outcome.TRANSIENT, "apprise: not delivered to every service (apprise does not say why)", None

    def send(self, alert: Alert) -> Delivery:
        return retrying(self.name, lambda: self._once(alert), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> Apprise:
    return Apprise(name, settings)

"""Sending one alert to its channels: the entry point the notifier and the outbox drain call.

Each channel is built from its spec (secrets resolved here, in the sending process, and never
kept), sent in a bounded pool of threads so one slow receiver does not hold up the others, and
reported as one `alert.delivery` journald record. A channel that cannot be built is a PERMANENT
Delivery like any other: it never stops the rest. TRANSIENT ones go to the outbox.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bamon.config.channels import ChannelSpec
from bamon.errors import BamonError
from bamon.journal import Journal
from bamon.notify import events
from bamon.notify.alert import Alert, Channel, Delivery, Outcome
from bamon.notify.channels import SettingsError, build
from bamon.notify.outbox import Outbox
from bamon.paths import Paths
from bamon.secrets import Resolver

MAX_THREADS = 4  # a notifier is short-lived; a handful of receivers in parallel is plenty


def default_resolver(paths: Paths) -> Resolver:
    from bamon.systemd import Systemd

    return Resolver(paths, decrypt=Systemd(paths.user_mode).decrypt_credential, environ=os.environ)


def prepare(spec: ChannelSpec, resolver: Resolver) -> Channel | Delivery:
    """The channel, or the PERMANENT Delivery that says why it cannot be built."""
    try:
        return build(spec.type, spec.name, resolver.value(dict(spec.settings)))
    except (SettingsError, BamonError) as exc:
        # BamonError.message names the secret or variable, never its value.
        text = getattr(exc, "message", None) or str(exc)
        return Delivery(spec.name, Outcome.PERMANENT, f"cannot send: {text}", attempts=0)


def _send(alert: Alert, channel: Channel | Delivery) -> Delivery:
    if isinstance(channel, Delivery):
        return channel
    try:
        return channel.send(alert)
    except Exception as exc:  # noqa: BLE001 - the Channel contract says never raises; hold it to that
        return Delivery(channel.name, Outcome.TRANSIENT, f"channel failed: {type(exc).__name__}")


def send_one(alert: Alert, spec: ChannelSpec, resolver: Resolver) -> Delivery:
    """Build the channel and send; every failure becomes a Delivery."""
    return _send(alert, prepare(spec, resolver))


def record(journal: Journal, alert: Alert, delivery: Delivery, event: str = "alert.delivery",
           **extra: object) -> None:
    level = "info" if delivery.outcome is Outcome.DELIVERED else "warning"
    log = events.logger(journal, bamon_check=alert.check)
    # rule and severity ride along so that each record says on its own why it was sent (the
    # delivery history in `bamon alerts` and the web API reads these records alone)
    getattr(log, level)(event, alert_id=alert.id, kind=alert.kind.value, rule=alert.rule or None,
                        severity=alert.severity, channel=delivery.channel,
                        outcome=delivery.outcome.value, detail=delivery.detail, attempts=delivery.attempts,
                        retry_after=delivery.retry_after, **extra)


def send_all(alert: Alert, specs: Sequence[ChannelSpec], resolver: Resolver) -> list[Delivery]:
    if not specs:
        return []
    # Built here, in this thread: building imports the channel modules (and requests, smtplib…),
    # and first imports racing in several threads were seen to hang the notifier for good.
    channels = [prepare(spec, resolver) for spec in specs]
    with ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(specs))) as pool:
        return list(pool.map(lambda channel: _send(alert, channel), channels))


def deliver(alert: Alert, specs: Sequence[ChannelSpec], *, paths: Paths, journal: Journal,
            resolver: Callable[[Paths], Resolver] = default_resolver) -> list[Delivery]:
    """Send `alert` to every spec; record each result; spool the transient ones."""
    deliveries = send_all(alert, specs, resolver(paths))
    outbox = Outbox(paths.outbox_dir)
    for delivery in deliveries:
        spooled = delivery.outcome is Outcome.TRANSIENT
        record(journal, alert, delivery, spooled="outbox" if spooled else None)
        if spooled:
            outbox.spool(alert, delivery)
    return deliveries

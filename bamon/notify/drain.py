"""bamon-outbox: bamon.outbox.service's program — retry what waits in the outbox, then exit.

Started by bamon.outbox.path when a new item lands, and by bamon.outbox.timer while items wait
for their backoff (the drain re-arms that timer; with nothing left it stays elapsed, so an empty
outbox costs no process at all). Each item is sent again with the channel's current settings
(a secret changed meanwhile is picked up), until delivered, refused for good, or expired; each
step is a journald record (alert.delivery, alert.outbox).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bamon.config.channels import ChannelSpec
from bamon.config.model import load
from bamon.journal import Journal
from bamon.notify import events
from bamon.notify.alert import Outcome
from bamon.notify.deliver import default_resolver, record, send_one
from bamon.notify.outbox import EXPIRY, Item, Outbox
from bamon.paths import resolve
from bamon.secrets import Resolver
from bamon.systemd import Systemd

TIMER = "bamon.outbox.timer"


@dataclass(frozen=True)
class Summary:
    delivered: int = 0
    given_up: int = 0  # expired, refused for good, or its channel is gone
    waiting: int = 0


def _outbox_event(journal: Journal, item: Item, what: str, detail: str, **extra: object) -> None:
    alert = item.to_alert()
    events.logger(journal, bamon_check=alert.check).warning(
        "alert.outbox", alert_id=alert.id, channel=item.channel, action=what, detail=detail,
        attempts=item.attempts, **extra)


def drain(outbox: Outbox, specs: Mapping[str, ChannelSpec], resolver: Resolver, journal: Journal,
          now: float | None = None, expiry: float = EXPIRY) -> Summary:
    """One pass over the outbox: send what is due, give up what expired. Never raises for an item."""
    delivered = given_up = waiting = 0
    with outbox.locked():
        for path, item in outbox.items():
            moment = time.time() if now is None else now
            spec = specs.get(item.channel)
            if moment - item.first > expiry or spec is None:
                why = "expired" if spec is not None else "dropped"
                detail = (f"undelivered after {int(moment - item.first)} s; last answer: {item.detail}"
                          if spec is not None else "the channel is no longer configured")
                _outbox_event(journal, item, why, detail)
                outbox.settle(path)
                given_up += 1
                continue
            if item.due > moment:
                outbox.park(path, item)
                waiting += 1
                continue
            alert = item.to_alert()
            delivery = send_one(alert, spec, resolver)
            record(journal, alert, delivery, source="outbox")
            if delivery.outcome is Outcome.TRANSIENT:
                later = outbox.reschedule(path, item, delivery, moment)
                _outbox_event(journal, later, "retry", delivery.detail, due=int(later.due))
                waiting += 1
            else:
                outbox.settle(path)
                delivered += delivery.outcome is Outcome.DELIVERED
                given_up += delivery.outcome is Outcome.PERMANENT
    return Summary(delivered, given_up, waiting)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    user_mode = "--user" in args or "MANAGERPID" in os.environ
    paths = resolve(user_mode)
    journal, systemd = Journal(user_mode), Systemd(user_mode)
    # A config with errors still has its good channels: deliver to those.
    config = load(paths.config_file, paths.scripts_dir)
    specs = {spec.name: spec for spec in config.channels}
    summary = drain(Outbox(paths.outbox_dir), specs, default_resolver(paths), journal)
    if summary.waiting:
        systemd.restart(TIMER, wait=False)  # fire again after OnActiveSec=
    print(f"outbox: {summary.delivered} delivered, {summary.given_up} given up, {summary.waiting} waiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())

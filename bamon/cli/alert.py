"""bamon alert test CHANNEL: send a test alert now and print exactly what the receiver answered."""

from __future__ import annotations

import argparse
import difflib
import socket
import time
import uuid
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import print_json
from bamon.config.channels import ChannelSpec, raw_channels
from bamon.config.load import load_raw
from bamon.errors import BamonError
from bamon.notify.alert import Alert, Kind, Outcome


def register(sub: Any) -> None:
    p = sub.add_parser("alert", help="alert channels: send a test alert")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    test = actions.add_parser("test", help="send a test alert to CHANNEL and show the receiver's answer")
    test.add_argument("channel", metavar="CHANNEL", help="a channel's name (alerts.channels)")
    test.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def test_alert(channel: str) -> Alert:
    host, alert_id = socket.gethostname(), str(uuid.uuid4())
    return Alert(id=alert_id, kind=Kind.TEST, check="bamon-test", host=host, status="TEST", severity="info",
                 title=f"bamon test alert from {host} to {channel}",
                 body=f"This is a test of the alert channel {channel!r}, sent by `bamon alert test`.\n"
                      "If you can read it, alerts from this host reach you.",
                 dedup_key=f"bamon/{host}/test/{alert_id}", created=time.time(),
                 evidence={"hint": "nothing to do: this is a test"})


def _spec(ctx: Context, name: str) -> ChannelSpec:
    config = ctx.config()
    spec = next((s for s in config.channels if s.name == name), None)
    if spec is not None:
        return spec
    raw = raw_channels(load_raw(ctx.paths.config_file, ctx.paths.scripts_dir))
    names = [str(c.get("name", c.get("type"))) for c in raw if isinstance(c, dict)]
    if name in names:
        raise BamonError(f"channel {name!r} is configured but invalid", "run `bamon config validate`")
    close = difflib.get_close_matches(name, names, n=1)
    raise BamonError(f"no channel named {name!r}",
                     f"did you mean {close[0]!r}?" if close else
                     f"configured channels: {', '.join(names)}" if names else "add one under alerts.channels")


def run(args: argparse.Namespace, ctx: Context) -> int:
    # Here, not at the top: every bamon command imports this module, and sending needs requests,
    # structlog and the channels (also absent where the manual is built from the CLI's parsers).
    from bamon.notify.deliver import default_resolver, record, send_one

    spec = _spec(ctx, args.channel)
    alert = test_alert(spec.name)
    delivery = send_one(alert, spec, default_resolver(ctx.paths))
    record(ctx.journal, alert, delivery)  # a test is not spooled: its answer is the point
    if args.json:
        print_json({"channel": spec.name, "type": spec.type, "outcome": delivery.outcome.value,
                    "answer": delivery.detail, "attempts": delivery.attempts, "retry_after": delivery.retry_after})
    else:
        plural = "" if delivery.attempts == 1 else "s"
        print(f"{spec.name} ({spec.type}): {delivery.outcome.value} after {delivery.attempts} attempt{plural}")
        print(f"  answer: {delivery.detail}")
    return 0 if delivery.outcome is Outcome.DELIVERED else 1

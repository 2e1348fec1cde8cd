"""bamon alerts: recent alerts with each channel's result (from journald), and the outbox."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import ago, iso, print_json, table, until
from bamon.journal import field
from bamon.notify.outbox import Item, Outbox

EVENTS = ("alert.delivery", "alert.outbox")


def register(sub: Any) -> None:
    p = sub.add_parser("alerts", help="recent alerts, what each channel answered, and the outbox")
    p.add_argument("-n", "--lines", type=int, default=20, metavar="N", help="the last N alerts (default 20)")
    p.add_argument("-s", "--since", help='e.g. "1h ago", "today"')
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def _when(entry: dict[str, Any]) -> datetime | None:
    stamp = field(entry, "__REALTIME_TIMESTAMP")
    return datetime.fromtimestamp(int(stamp) / 1e6, UTC) if stamp.isdigit() else None


def collect(entries: Sequence[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Journal records → one dict per alert (newest last), each channel's latest result."""
    alerts: dict[str, dict[str, Any]] = {}
    for entry in entries:
        alert_id = field(entry, "ALERT_ID")
        if not alert_id:
            continue
        when = _when(entry)
        alert = alerts.setdefault(alert_id, {"id": alert_id, "check": field(entry, "BAMON_CHECK"),
                                             "kind": field(entry, "KIND"), "time": iso(when), "channels": {}})
        channel = field(entry, "CHANNEL")
        state = alert["channels"].setdefault(channel, {"channel": channel, "attempts": 0})
        if field(entry, "BAMON_EVENT") == "alert.delivery":
            attempts = field(entry, "ATTEMPTS")
            state.update(outcome=field(entry, "OUTCOME"), detail=field(entry, "DETAIL"), time=iso(when),
                         attempts=state["attempts"] + (int(attempts) if attempts.isdigit() else 0),
                         via=field(entry, "SOURCE") or "notifier")
        elif field(entry, "ACTION") in ("expired", "dropped"):
            state.update(outcome=field(entry, "ACTION"), detail=field(entry, "DETAIL"), time=iso(when))
    out = list(alerts.values())[-limit:]
    for alert in out:
        alert["channels"] = list(alert["channels"].values())
    return out


def outbox_rows(items: Sequence[Item]) -> list[dict[str, Any]]:
    return [{"alert": i.alert["id"], "check": i.alert.get("check"), "channel": i.channel,
             "attempts": i.attempts, "since": iso(datetime.fromtimestamp(i.first, UTC)),
             "next_try": iso(datetime.fromtimestamp(i.due, UTC)), "last_answer": i.detail} for i in items]


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def run(args: argparse.Namespace, ctx: Context) -> int:
    matches = [f"BAMON_EVENT={e}" for e in EVENTS]
    alerts = collect(ctx.journal.entries(matches, since=args.since), args.lines)
    waiting = outbox_rows([item for _, item in Outbox(ctx.paths.outbox_dir).items()])
    if args.json:
        print_json({"alerts": alerts, "outbox": waiting})
        return 0
    rows = [(ago(_at(a["time"])), a["check"], a["kind"], c["channel"], c.get("outcome", "?"),
             str(c["attempts"]), c.get("detail", "")) for a in alerts for c in a["channels"]]
    print(table(("WHEN", "CHECK", "KIND", "CHANNEL", "RESULT", "ATTEMPTS", "ANSWER"), rows, squeeze="ANSWER")
          if rows else "no alerts recorded" + (f" since {args.since}" if args.since else ""))
    print()
    if not waiting:
        print("outbox: empty")
        return 0
    print(f"outbox: {len(waiting)} waiting")
    print(table(("ALERT", "CHECK", "CHANNEL", "ATTEMPTS", "NEXT TRY", "LAST ANSWER"),
                [(w["alert"][:8], w["check"] or "", w["channel"], str(w["attempts"]), until(_at(w["next_try"])),
                  w["last_answer"]) for w in waiting], squeeze="LAST ANSWER"))
    return 0

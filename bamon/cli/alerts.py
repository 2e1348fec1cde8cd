"""bamon alerts: recent alerts with each channel's result (from journald), and the outbox."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import ago, iso, print_json, table, until
from bamon.notify import ledger
from bamon.notify.outbox import Item, Outbox


def register(sub: Any) -> None:
    p = sub.add_parser("alerts", help="recent alerts, what each channel answered, and the outbox")
    p.add_argument("-n", "--lines", type=int, default=20, metavar="N", help="the last N alerts (default 20)")
    p.add_argument("-s", "--since", help='e.g. "1h ago", "today"')
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def collect(entries: Sequence[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Journal records → one dict per alert (newest last), each channel's latest answer."""
    alerts: dict[str, dict[str, Any]] = {}
    for one in ledger.fold(entries):
        alert = alerts.setdefault(one.alert, {"id": one.alert, "check": one.check, "kind": one.kind,
                                              "time": ledger.iso(one.first), "channels": []})
        alert["time"] = min(alert["time"], ledger.iso(one.first))
        state: dict[str, Any] = {"channel": one.channel, "attempts": one.attempts}
        if one.answer:
            state.update(outcome=one.answer, detail=one.detail, time=ledger.iso(one.updated), via=one.via)
        alert["channels"].append(state)
    return list(alerts.values())[-limit:]


def outbox_rows(items: Sequence[Item]) -> list[dict[str, Any]]:
    return [{"alert": i.alert["id"], "check": i.alert.get("check"), "channel": i.channel,
             "attempts": i.attempts, "since": iso(datetime.fromtimestamp(i.first, UTC)),
             "next_try": iso(datetime.fromtimestamp(i.due, UTC)), "last_answer": i.detail} for i in items]


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def run(args: argparse.Namespace, ctx: Context) -> int:
    alerts = collect(ctx.journal.entries(ledger.MATCHES, since=args.since), args.lines)
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

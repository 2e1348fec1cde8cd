"""bamon compliance report: security controls, pass or fail, with evidence (text, JSON or HTML)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bamon.cli.context import Context
from bamon.cli.output import print_json
from bamon.security import compliance


def register(sub: Any) -> None:
    p = sub.add_parser("compliance", help="security controls, pass or fail, mapped to CIS / ISO 27001 families")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    report = actions.add_parser("report", help="every control with its evidence (docs/compliance.schema.json)")
    report.add_argument("--format", choices=sorted(_FORMATS), default="text", help="text (default), json or html")
    p.set_defaults(run=run)


def text(doc: dict[str, Any]) -> str:
    lines = [f"bamon compliance report — {doc['host']}, {doc['generated']}",
             f"{doc['summary']['pass']} control(s) pass, {doc['summary']['fail']} fail", ""]
    for c in doc["controls"]:
        lines.append(f"[{c['status'].upper()}] {c['id']}: {c['title']}")
        lines += [f"    {e}" for e in c["evidence"]]
        if c["fix"]:
            lines.append(f"    fix: {c['fix']}")
        lines.append(f"    supports: CIS {'; '.join(c['mapping']['cis_controls_v8'])} | "
                     f"ISO 27001 {'; '.join(c['mapping']['iso27001_2022_annex_a'])}")
    lines += ["", doc["disclaimer"]]
    return "\n".join(lines)


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bamon compliance report — {{ doc.host }}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}.pass{color:#060}.fail{color:#a00}</style>
</head><body>
<h1>bamon compliance report</h1>
<p>{{ doc.host }}, {{ doc.generated }}: {{ doc.summary.pass }} control(s) pass, {{ doc.summary.fail }} fail.</p>
<table><tr><th>control</th><th>status</th><th>evidence</th><th>supports</th></tr>
{% for c in doc.controls %}<tr><td><b>{{ c.id }}</b><br>{{ c.title }}</td>
<td class="{{ c.status }}">{{ c.status | upper }}</td>
<td><ul>{% for e in c.evidence %}<li>{{ e }}</li>{% endfor %}</ul>{% if c.fix %}<p>fix: {{ c.fix }}</p>{% endif %}</td>
<td>CIS Controls v8: {{ c.mapping.cis_controls_v8 | join("; ") }}<br>
ISO/IEC 27001:2022: {{ c.mapping.iso27001_2022_annex_a | join("; ") }}</td></tr>
{% endfor %}</table>
<p><small>{{ doc.disclaimer }}</small></p>
</body></html>
"""


def html(doc: dict[str, Any]) -> str:
    import jinja2  # only for --format html

    return jinja2.Environment(autoescape=True).from_string(_HTML).render(doc=doc)


def _print_json(doc: dict[str, Any]) -> None:
    print_json(doc)


_FORMATS: dict[str, Callable[[dict[str, Any]], None]] = {
    "text": lambda doc: print(text(doc)),
    "json": _print_json,
    "html": lambda doc: print(html(doc)),
}


def run(args: argparse.Namespace, ctx: Context) -> int:
    doc = compliance.report(compliance.gather(ctx))
    _FORMATS[args.format](doc)
    # exit status 1 when a control fails: the report can gate a pipeline
    return 1 if doc["summary"]["fail"] else 0

"""Alert text from Jinja2 templates: built-in ones in the package, overridable by the operator.

An operator puts e.g. failure.body.j2 in /etc/bamon/templates/ (user mode:
~/.config/bamon/templates/) and it wins over the built-in one. A broken override must not cost
the alert: it is reported (returned as a problem for the decision record) and the built-in
template renders instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

BUILT_IN = Path(__file__).with_name("templates")


def _isotime(value: float | None) -> str:
    if not value:
        return "unknown"
    return datetime.fromtimestamp(value, tz=UTC).astimezone().isoformat(timespec="seconds")


def _environment(directories: list[Path]) -> jinja2.Environment:
    # Plain text, not HTML: no autoescape. Undefined names render empty, so an override written
    # for an older bamon keeps working.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(d) for d in directories]),
                             autoescape=False, keep_trailing_newline=False, trim_blocks=False)
    env.filters["isotime"] = _isotime
    return env


def _span(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60}min" if hours else f"{rest // 60}min {rest % 60}s" if rest >= 60 else f"{rest}s"


def render(kind: str, context: Mapping[str, Any], overrides: Path | None) -> tuple[str, str, str]:
    """(title, body, problem) for `kind` (failure | recovery); problem is "" when all went well."""
    values = dict(context)
    if values.get("episode_start"):
        values.setdefault("down_for", _span(time.time() - float(values["episode_start"])))
    problem = ""
    if overrides is not None and overrides.is_dir():
        try:
            env = _environment([overrides, BUILT_IN])
            return (env.get_template(f"{kind}.title.j2").render(values).strip(),
                    env.get_template(f"{kind}.body.j2").render(values).strip() + "\n", "")
        except (jinja2.TemplateError, OSError, ValueError, TypeError) as exc:
            problem = f"template override in {overrides} failed ({type(exc).__name__}: {exc}); used the built-in one"
    env = _environment([BUILT_IN])
    return (env.get_template(f"{kind}.title.j2").render(values).strip(),
            env.get_template(f"{kind}.body.j2").render(values).strip() + "\n", problem)

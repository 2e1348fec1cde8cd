"""Generic webhook: the alert as JSON (Alert.to_json()), or a body from a Jinja2 template.

Optional HMAC-SHA256 signature of the exact body bytes, in the style GitHub documents for its
webhooks (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
header `X-Bamon-Signature: sha256=<hex digest>`, computed with the `signing_secret`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bamon.notify.alert import Alert, Delivery, Outcome
from bamon.notify.channels import SettingsError
from bamon.notify.channels.http import Request, Retry, send


def _template(source: str) -> Any:
    # Sandboxed: the template is operator-written text, and rendering must not reach Python.
    import jinja2.sandbox

    try:
        return jinja2.sandbox.SandboxedEnvironment(autoescape=False).from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise SettingsError(f"body template: {exc.message} (line {exc.lineno})") from None


class Webhook:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.url = str(settings["url"])
        self.method = str(settings.get("method", "POST")).upper()
        self.headers = {str(k): str(v) for k, v in (settings.get("headers") or {}).items()}
        self.secret = settings.get("signing_secret")
        self.signature_header = str(settings.get("signature_header", "X-Bamon-Signature"))
        self.content_type = str(settings.get("content_type", "application/json"))
        source = settings.get("template")
        self.template = _template(str(source)) if source else None
        self.retry = Retry.of(settings)

    def body(self, alert: Alert) -> bytes:
        if self.template is None:
            return json.dumps(alert.to_json()).encode()
        data = alert.to_json()
        return str(self.template.render(alert=data, **data)).encode()

    def send(self, alert: Alert) -> Delivery:
        try:
            body = self.body(alert)
        except Exception as exc:  # noqa: BLE001 - any template failure is a settings problem
            return Delivery(self.name, Outcome.PERMANENT, f"body template failed: {type(exc).__name__}: {exc}")
        headers = {"Content-Type": self.content_type, "User-Agent": "bamon", **self.headers}
        if self.secret:
            digest = hmac.new(str(self.secret).encode(), body, hashlib.sha256).hexdigest()
            headers[self.signature_header] = f"sha256={digest}"
        return send(self.name, Request(self.method, self.url, body, headers), self.retry)


def build(name: str, settings: Mapping[str, Any]) -> Webhook:
    return Webhook(name, settings)

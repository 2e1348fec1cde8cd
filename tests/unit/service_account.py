"""Google service-account keys for the gcp_monitoring tests: a key file made here from a fresh
RSA key, shaped as Google's downloads are (https://cloud.google.com/iam/docs/keys-create-delete),
and the token endpoint's side of the flow: checking the signed JWT (RFC 7515 RS256, verified
with cryptography directly, not with the PyJWT that signed it) and its claims (RFC 7523 §3)."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

EMAIL = "bamon-writer@my-proj.iam.gserviceaccount.com"
KEY_ID = "5c1a9e0f3b7d2a46e8c0b1d9f7a3e5c2b4d6f8a0"


@cache
def private_key(which: str = "the account's") -> rsa.RSAPrivateKey:
    """An RSA key per name, made once per test run (2048 bits, as Google's keys)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_file(token_uri: str, key: rsa.RSAPrivateKey | None = None) -> str:
    """A service account's JSON key whose token_uri is the test's token endpoint."""
    pem = (key or private_key()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "my-proj", "private_key_id": KEY_ID,
                       "private_key": pem, "client_email": EMAIL, "client_id": "112233445566778899001",
                       "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri})


def _part(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BadAssertion(Exception):
    """What a token endpoint answers 400 invalid_grant for."""


def verified(assertion: str, public_key: rsa.RSAPublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a JWT whose RS256 signature `public_key` verifies; BadAssertion otherwise."""
    try:
        head, body, signature = assertion.split(".")
        public_key.verify(_part(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return json.loads(_part(head)), json.loads(_part(body))
    except (ValueError, InvalidSignature) as exc:
        raise BadAssertion(f"Invalid JWT Signature ({type(exc).__name__})") from None

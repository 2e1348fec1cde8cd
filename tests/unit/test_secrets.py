"""Secret references: resolved only when sending, from the unit's credentials or the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from bamon import secrets
from bamon.paths import Paths


def _paths(tmp_path: Path, user_mode: bool) -> Paths:
    return Paths(user_mode=user_mode, config_file=tmp_path / "c.yaml", scripts_dir=tmp_path / "s",
                 state_dir=tmp_path / "state", check_state_dirs=(tmp_path / "state" / "checks",),
                 unit_dir=tmp_path / "units", config_overridden=False)


def test_references_are_found_anywhere_in_the_settings() -> None:
    settings = {"url": "https://x/${secret:a}", "headers": {"A": "${env:B}"}, "to": ["${secret:c}", "d"]}
    assert sorted(secrets.references(settings)) == [("env", "B"), ("secret", "a"), ("secret", "c")]


def test_credentials_directory_first_then_the_store(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "token").write_text("from-systemd\n")
    resolver = secrets.Resolver(_paths(tmp_path, False), decrypt=lambda path, name: f"decrypted:{path.name}",
                                environ={"CREDENTIALS_DIRECTORY": str(creds), "REGION": "eu"})
    assert resolver.value({"u": "https://${env:REGION}.x/${secret:token}"}) == {"u": "https://eu.x/from-systemd"}
    with pytest.raises(secrets.SecretError, match="secret 'other' is not stored"):
        resolver.value("${secret:other}")
    with pytest.raises(secrets.SecretError, match="environment variable 'NOPE' is not set"):
        resolver.value("${env:NOPE}")


def test_system_store_decrypts_and_the_dropin_lists_every_secret(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _paths(tmp_path, False)
    monkeypatch.setattr(secrets.Paths, "credentials_dir", property(lambda self: tmp_path / "credentials"))
    written: dict[str, str] = {}

    def encrypt(name: str, value: str, path: Path) -> None:
        written[name] = value
        path.write_text("ENCRYPTED")

    secrets.store(paths, "slack_hook", "https://hooks.slack.com/services/T/B/X", encrypt)
    secrets.store(paths, "pd_key", "k", encrypt)
    assert secrets.stored(paths) == ["pd_key", "slack_hook"]
    resolver = secrets.Resolver(paths, decrypt=lambda path, name: f"plain-{name}", environ={})
    assert resolver.secret("slack_hook") == "plain-slack_hook"
    (dropin,) = {p.read_text() for p in secrets.write_dropins(paths)}
    assert f"LoadCredentialEncrypted=slack_hook:{tmp_path}/credentials/slack_hook.cred" in dropin
    assert "hooks.slack.com" not in dropin
    assert sorted(p.parent.name for p in (tmp_path / "units").glob("*/*.conf")) == [
        "bamon.notify@.service.d", "bamon.outbox.service.d", "bamon.recovered@.service.d"]
    with pytest.raises(secrets.BamonError, match="invalid secret name"):
        secrets.store(paths, "../etc/passwd", "x", encrypt)

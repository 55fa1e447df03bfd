"""The e-mail variables: defaults for the embedded mode, clear refusals when wrong."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from campaign.settings import ConfigError, Settings
from tests.integration.mail.conftest import public_key_text


def from_env(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"VAR_DIR": str(tmp_path), **env})


def test_the_defaults_send_no_mail_anywhere_but_the_outbox(tmp_path: Path) -> None:
    settings = from_env(tmp_path)

    assert settings.sendgrid_api_key is None
    assert settings.sendgrid_api_host == "https://api.sendgrid.com"
    assert settings.sendgrid_timeout == 10.0
    assert settings.sendgrid_sandbox is False
    assert settings.sendgrid_webhook_public_key is None
    assert settings.sendgrid_webhook_max_age == 300
    assert settings.mail_from == "urgent-actions@localhost"
    assert settings.mail_sender == ("", "urgent-actions@localhost")
    assert settings.public_base_url == "http://127.0.0.1:5000"


def test_every_variable_is_read(tmp_path: Path) -> None:
    key = public_key_text(ec.generate_private_key(ec.SECP256R1()))
    pem = f"-----BEGIN PUBLIC KEY-----\n{key}\n-----END PUBLIC KEY-----\n"

    settings = from_env(
        tmp_path, SENDGRID_API_KEY="SG.x.y", SENDGRID_API_HOST="http://127.0.0.1:8025/",
        SENDGRID_TIMEOUT="2.5", SENDGRID_SANDBOX="1", SENDGRID_WEBHOOK_PUBLIC_KEY=pem,
        SENDGRID_WEBHOOK_MAX_AGE="0", MAIL_FROM="Urgent Actions <ua@campaign.example.org>",
        PUBLIC_BASE_URL="https://campaign.example.org/",
    )

    assert settings.sendgrid_api_key == "SG.x.y"
    assert settings.sendgrid_api_host == "http://127.0.0.1:8025"
    assert settings.sendgrid_timeout == 2.5
    assert settings.sendgrid_sandbox is True
    assert settings.sendgrid_webhook_public_key == key
    assert settings.sendgrid_webhook_max_age == 0
    assert settings.mail_from == "Urgent Actions <ua@campaign.example.org>"
    assert settings.mail_sender == ("Urgent Actions", "ua@campaign.example.org")
    assert settings.public_base_url == "https://campaign.example.org"


@pytest.mark.parametrize("variable, value, message", [
    ("SENDGRID_API_HOST", "api.sendgrid.com", "SENDGRID_API_HOST must be an http"),
    ("SENDGRID_TIMEOUT", "soon", "SENDGRID_TIMEOUT must be a number"),
    ("SENDGRID_TIMEOUT", "0", "SENDGRID_TIMEOUT must be a number of seconds, at least 0.1"),
    ("SENDGRID_SANDBOX", "yes please", "SENDGRID_SANDBOX must be 1 or 0"),
    ("SENDGRID_WEBHOOK_PUBLIC_KEY", "bm90IGEga2V5", "SENDGRID_WEBHOOK_PUBLIC_KEY must be the"),
    ("SENDGRID_WEBHOOK_MAX_AGE", "-1", "SENDGRID_WEBHOOK_MAX_AGE must be a whole number"),
    ("SENDGRID_WEBHOOK_MAX_AGE", "1.5", "SENDGRID_WEBHOOK_MAX_AGE must be a whole number"),
    ("MAIL_FROM", "nobody", "MAIL_FROM must be an address"),
    ("PUBLIC_BASE_URL", "campaign.example.org", "PUBLIC_BASE_URL must be an http"),
    ("PUBLIC_BASE_URL", "https://campaign.example.org/?x=1", "PUBLIC_BASE_URL must be an http"),
])
def test_a_wrong_value_is_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str, message: str,
) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        from_env(tmp_path, **{variable: value})


def test_an_rsa_key_is_not_a_webhook_verification_key(tmp_path: Path) -> None:
    der = rsa.generate_private_key(65537, 2048).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    with pytest.raises(ConfigError, match="ECDSA verification key"):
        from_env(tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=base64.b64encode(der).decode())


def test_real_sending_needs_https_links_except_on_this_machine(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL must be https://"):
        from_env(tmp_path, SENDGRID_API_KEY="SG.x.y",
                 PUBLIC_BASE_URL="http://campaign.example.org")

    assert from_env(tmp_path, SENDGRID_API_KEY="SG.x.y").public_base_url.startswith("http://")

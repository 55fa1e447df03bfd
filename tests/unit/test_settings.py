"""Settings.from_env: the embedded defaults, and every refusal names what to fix."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from campaign.settings import ConfigError, Settings

SECRET_KEY = "Zq4-uW8tLr2Xk9_bN5vHc1Ye7jPa3Gd6"  # as `secrets.token_urlsafe(24)` makes
PRODUCTION = {"DATABASE_URL": "postgresql://db.example/campaign"}


def test_without_configuration_everything_is_embedded_under_var_dir(tmp_path: Path) -> None:
    var = tmp_path / "var"

    settings = Settings.from_env({"VAR_DIR": str(var)})

    assert settings.database_url == f"sqlite:///{var / 'campaign.sqlite3'}"
    assert settings.redis_url is None
    assert not settings.uses_redis
    assert settings.embedded_database
    assert settings.var_dir == var
    assert settings.log_level == "INFO"


def test_the_embedded_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    var = tmp_path / "var"

    first = Settings.from_env({"VAR_DIR": str(var)})
    second = Settings.from_env({"VAR_DIR": str(var)})

    key_file = var / "secret_key"
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second.secret_key == first.secret_key
    assert Settings.from_env({"VAR_DIR": str(tmp_path / "other")}).secret_key != first.secret_key


@pytest.mark.parametrize("variable, value", [
    ("DATABASE_URL", "postgresql://db.example/campaign"),
    ("REDIS_URL", "redis://redis.example:6379/0"),
])
def test_a_secret_key_is_required_once_a_service_is_configured(
    tmp_path: Path, variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        Settings.from_env({variable: value, "VAR_DIR": str(tmp_path)})

    assert not (tmp_path / "secret_key").exists()


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters"):
        Settings.from_env({"SECRET_KEY": "s" * 31, "VAR_DIR": str(tmp_path)})


def test_a_given_secret_key_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings.from_env({"SECRET_KEY": SECRET_KEY, "VAR_DIR": str(tmp_path)})

    assert settings.secret_key == SECRET_KEY
    assert not (tmp_path / "secret_key").exists()


def test_log_level_is_case_insensitive_and_checked(tmp_path: Path) -> None:
    assert Settings.from_env({"LOG_LEVEL": "debug", "VAR_DIR": str(tmp_path)}).log_level == "DEBUG"

    with pytest.raises(ConfigError, match="LOG_LEVEL must be one of .*'CHATTY'"):
        Settings.from_env({"LOG_LEVEL": "chatty", "VAR_DIR": str(tmp_path)})


def test_a_postgres_url_is_normalised_to_postgresql(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "DATABASE_URL": "postgres://user:pw@db.example:5432/campaign",
        "SECRET_KEY": SECRET_KEY,
        "VAR_DIR": str(tmp_path),
    })

    assert settings.database_url == "postgresql://user:pw@db.example:5432/campaign"
    assert not settings.embedded_database


def test_a_database_url_of_another_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be a postgresql:// or sqlite://"):
        Settings.from_env({"DATABASE_URL": "mysql://db.example/campaign",
                           "SECRET_KEY": SECRET_KEY, "VAR_DIR": str(tmp_path)})


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "rediss://redis.example:6380/1"])
def test_redis_urls_are_accepted(tmp_path: Path, url: str) -> None:
    settings = Settings.from_env({"REDIS_URL": url, "SECRET_KEY": SECRET_KEY,
                                  "VAR_DIR": str(tmp_path)})

    assert settings.redis_url == url
    assert settings.uses_redis


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "amqp://mq"])
def test_a_redis_url_of_another_scheme_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL must be a redis:// or rediss:// URL"):
        Settings.from_env({"REDIS_URL": url, "SECRET_KEY": SECRET_KEY,
                           "VAR_DIR": str(tmp_path)})


def test_abuse_controls_have_sane_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path)})

    assert settings.rate_limits.sign_up == "10 per minute;50 per hour"
    assert settings.rate_limits.public_mail == "1000 per hour"
    assert settings.trusted_proxy_hops == 0
    assert settings.unconfirmed_retention_days == 30


def test_limits_proxies_and_retention_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "VAR_DIR": str(tmp_path), "RATE_LIMIT_SIGN_UP": "3/minute; 20 per 2 hours",
        "RATE_LIMIT_PUBLIC_MAIL": "200 per hour", "TRUSTED_PROXY_HOPS": "1",
        "UNCONFIRMED_RETENTION_DAYS": "7",
    })

    assert settings.rate_limits.sign_up == "3/minute; 20 per 2 hours"
    assert settings.rate_limits.public_mail == "200 per hour"
    assert (settings.trusted_proxy_hops, settings.unconfirmed_retention_days) == (1, 7)


@pytest.mark.parametrize(("name", "value"), [
    ("RATE_LIMIT_SIGN_UP", "ten per minute"), ("RATE_LIMIT_LINKS", "10 per fortnight"),
    ("RATE_LIMIT_PUBLIC_MAIL", "-1 per hour"), ("TRUSTED_PROXY_HOPS", "one"),
    ("UNCONFIRMED_RETENTION_DAYS", "0"), ("UNCONFIRMED_RETENTION_DAYS", "²"),
])
def test_malformed_abuse_settings_are_refused_by_name(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({"VAR_DIR": str(tmp_path), name: value})


@pytest.mark.parametrize("key", [
    "s" * 32,                                   # one character repeated
    "ab" * 20,                                  # two
    "password" * 4,                             # a word repeated
    "0123456789abcdef" * 2,                     # a longer piece repeated
    "Zq4-uW8tLr2Xk9_b" * 3 + "Zq4",             # a random-looking piece, repeated and cut
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabc",        # too few distinct characters
])
def test_a_low_entropy_secret_key_is_refused_in_production(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY is too predictable") as refused:
        Settings.from_env({**PRODUCTION, "SECRET_KEY": key, "VAR_DIR": str(tmp_path)})

    assert key not in str(refused.value)  # the message never repeats the secret
    assert "secrets.token_urlsafe" in str(refused.value)


@pytest.mark.parametrize("key", [
    SECRET_KEY,
    "3f9c1a7be2d84c06a5f1e9b27d3c8a40",       # 32 hex characters: 128 bits
    "correct horse battery staple, in 2024",
])
def test_a_random_or_passphrase_secret_key_is_accepted_in_production(
    tmp_path: Path, key: str
) -> None:
    settings = Settings.from_env({**PRODUCTION, "SECRET_KEY": key, "VAR_DIR": str(tmp_path)})

    assert settings.secret_key == key


def test_random_hex_and_url_safe_keys_are_never_refused(tmp_path: Path) -> None:
    import secrets

    for _ in range(500):
        for key in (secrets.token_hex(16), secrets.token_urlsafe(24), secrets.token_urlsafe(48)):
            Settings.from_env({**PRODUCTION, "SECRET_KEY": key, "VAR_DIR": str(tmp_path)})

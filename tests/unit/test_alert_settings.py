"""CAMPAIGN_ALERT_EMAIL: who hears that a partner's webhooks were stopped;
ALERT_STUCK_AFTER_SECONDS: when they hear that a subscription is stuck."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.settings import ConfigError, Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"VAR_DIR": str(tmp_path), **env})


def test_alerts_go_to_the_given_address_or_else_nowhere_new(tmp_path: Path) -> None:
    assert settings(tmp_path).campaign_alert_email is None  # MAIL_FROM's address is used
    given = settings(tmp_path, CAMPAIGN_ALERT_EMAIL="Ops <ops@example.org>")
    assert given.campaign_alert_email == "ops@example.org"


@pytest.mark.parametrize("value", ["ops", "ops@example.org\r\nBcc: x@example.org"])
def test_a_value_that_is_not_one_address_stops_the_process(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="CAMPAIGN_ALERT_EMAIL"):
        settings(tmp_path, CAMPAIGN_ALERT_EMAIL=value)


def test_a_stuck_subscription_is_alerted_about_after_ten_minutes_unless_told(
    tmp_path: Path,
) -> None:
    assert settings(tmp_path).alert_stuck_after_seconds == 600
    assert settings(tmp_path, ALERT_STUCK_AFTER_SECONDS="120").alert_stuck_after_seconds == 120


@pytest.mark.parametrize("value", ["-1", "ten", "604801", "1.5"])
def test_a_stuck_alert_delay_that_is_not_a_whole_number_of_seconds_up_to_a_week_stops_the_process(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError, match="ALERT_STUCK_AFTER_SECONDS"):
        settings(tmp_path, ALERT_STUCK_AFTER_SECONDS=value)

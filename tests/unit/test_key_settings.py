"""SECRET_KEY_PREVIOUS: the secrets SECRET_KEY replaced, newest first, held to its rules."""

from __future__ import annotations

import pytest

from campaign.settings import ConfigError, Settings

CURRENT = "Zq4-uW8tLr2Xk9_bN5vHc1Ye7jPa3Gd6"
OLDER = "Hn3_pR7wXc5Vt2Lm9Kb4Qz8Jf6Ds1Ay0"
OLDEST = "mB6-tY2kWq9Rz4Nc7Xv1Ph5Lg3Jd8Sf0"
PRODUCTION = {"DATABASE_URL": "postgresql://db.example/campaign", "SECRET_KEY": CURRENT}


def test_the_key_ring_is_secret_key_then_each_previous_key_in_the_order_given() -> None:
    settings = Settings.from_env({**PRODUCTION,
                                  "SECRET_KEY_PREVIOUS": f" {OLDER} ,{OLDEST},"})

    assert settings.secret_keys_previous == (OLDER, OLDEST)
    assert settings.secret_keys == (CURRENT, OLDER, OLDEST)


def test_without_previous_keys_the_ring_is_secret_key_alone() -> None:
    assert Settings.from_env(PRODUCTION).secret_keys == (CURRENT,)


@pytest.mark.parametrize(("previous", "fault"), [
    (f"{OLDER},short-key", "SECRET_KEY_PREVIOUS (key 2) must be at least 32 characters"),
    ("a" * 40, "SECRET_KEY_PREVIOUS (key 1) is too predictable"),
    (CURRENT, "SECRET_KEY_PREVIOUS (key 1) repeats SECRET_KEY"),
    (f"{OLDER},{OLDER}", "SECRET_KEY_PREVIOUS (key 2) repeats SECRET_KEY or an earlier"),
])
def test_a_bad_previous_key_is_refused_by_its_place_never_by_its_value(
    previous: str, fault: str,
) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**PRODUCTION, "SECRET_KEY_PREVIOUS": previous})

    assert fault in str(refused.value)
    assert previous.split(",")[-1] not in str(refused.value)

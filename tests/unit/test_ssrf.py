"""The SSRF guard: only https URLs resolving to public addresses pass (literal IPs, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.partners.ssrf import UnsafeWebhookUrl, check_webhook_url
from campaign.settings import ConfigError, Settings


def fault(url: str, allow_private: bool = False) -> str:
    with pytest.raises(UnsafeWebhookUrl) as caught:
        check_webhook_url(url, allow_private)
    return str(caught.value)


@pytest.mark.parametrize(("url", "address"), [
    ("https://1.1.1.1/hooks", "1.1.1.1"),
    ("https://8.8.8.8:8443/partner?x=1", "8.8.8.8"),
    ("https://[2606:4700:4700::1111]/hooks", "2606:4700:4700::1111"),
])
def test_https_to_a_public_address_passes_and_returns_that_address(url: str, address: str) -> None:
    assert check_webhook_url(url, allow_private=False) == [address]


def test_plain_http_is_refused() -> None:
    assert "https" in fault("http://1.1.1.1/hooks")


@pytest.mark.parametrize(("url", "named"), [
    ("https://10.0.0.5/hooks", "private"),
    ("https://172.16.3.4/hooks", "private"),
    ("https://192.168.1.1/hooks", "private"),
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://127.8.9.10/hooks", "loopback"),
    ("https://localhost/hooks", "loopback"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://0.0.0.0/hooks", "unspecified"),
    ("https://[::1]/hooks", "loopback"),
    ("https://[::]/hooks", "unspecified"),
    ("https://[fc00::1]/hooks", "private"),
    ("https://[fd12:3456::1]/hooks", "private"),
    ("https://[fe80::1]/hooks", "link-local"),
    ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
    ("https://[::ffff:10.1.2.3]/hooks", "private"),
    ("https://[2002:7f00:1::]/hooks", "loopback"),
    ("https://[64:ff9b::a00:1]/hooks", "reserved"),
    ("https://100.64.0.1/hooks", "reserved"),
    ("https://224.0.0.1/hooks", "multicast"),
    ("https://[ff02::1]/hooks", "multicast"),
    ("https://240.0.0.1/hooks", "private"),
    ("https://255.255.255.255/hooks", "private"),
    ("https://192.0.2.10/hooks", "private"),
])
def test_a_non_public_address_is_refused_naming_what_it_is(url: str, named: str) -> None:
    message = fault(url)

    assert named in message
    assert "resolves to" in message


@pytest.mark.parametrize(("url", "named"), [
    ("https://user:pass@1.1.1.1/hooks", "credentials"),
    ("https://user@1.1.1.1/hooks", "credentials"),
    ("https:///hooks", "no host"),
    ("https://1.1.1.1:99999/hooks", "malformed"),
    ("https://[::1/hooks", "malformed"),
    ("https://1.1.1.1/ho oks", "spaces or control characters"),
    ("https://1.1.1.1/\nhooks", "spaces or control characters"),
    ("https://no-such-host.invalid/hooks", "cannot be resolved"),
    ("https://" + "a" * 70 + ".example/hooks", "cannot be resolved"),
    ("ftp://1.1.1.1/hooks", "https"),
    ("1.1.1.1/hooks", "https"),
])
def test_a_malformed_or_unresolvable_url_is_refused_naming_the_fault(url: str, named: str) -> None:
    assert named in fault(url)


def test_allow_private_admits_http_and_private_addresses_for_tests_and_development() -> None:
    assert check_webhook_url("http://127.0.0.1:8080/hooks", allow_private=True) == ["127.0.0.1"]
    assert check_webhook_url("https://10.0.0.5/hooks", allow_private=True) == ["10.0.0.5"]
    assert "credentials" in fault("http://u:p@127.0.0.1/hooks", allow_private=True)
    assert "https" in fault("ftp://127.0.0.1/hooks", allow_private=True)


def test_webhook_allow_private_comes_from_the_environment_and_is_off_by_default(
    tmp_path: Path,
) -> None:
    base = {"VAR_DIR": str(tmp_path)}

    assert Settings.from_env(base).webhook_allow_private is False
    assert Settings.from_env({**base, "WEBHOOK_ALLOW_PRIVATE": "1"}).webhook_allow_private is True
    with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_PRIVATE"):
        Settings.from_env({**base, "WEBHOOK_ALLOW_PRIVATE": "yes please"})

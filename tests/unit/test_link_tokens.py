"""Supporters' link tokens are itsdangerous' own, though signed with signers made once."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from campaign.application.access import SupporterLinks
from campaign.application.errors import AuthError
from events.keyring import KeyRing

NEW, OLD = "links-new-secret-" + "n" * 32, "links-old-secret-" + "o" * 32


def test_a_link_token_is_the_librarys_token_byte_for_byte_signed_again_and_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _: 1_700_000_000)
    links = SupporterLinks(KeyRing([NEW, OLD]))
    library = URLSafeTimedSerializer([OLD, NEW], salt="supporter-link/unsubscribe")
    acting = URLSafeTimedSerializer([OLD, NEW], salt="supporter-link/act")

    for supporter_id in ("s-1", "s-2", "s-1"):
        assert links.sign("unsubscribe", supporter_id) == library.dumps(supporter_id)
        assert links.sign_action(supporter_id, "a-1") == acting.dumps([supporter_id, "a-1"])
        assert links.verify("unsubscribe", library.dumps(supporter_id)) == supporter_id


def test_a_link_signed_under_the_previous_secret_still_opens_and_one_for_another_purpose_not(
) -> None:
    before = SupporterLinks(OLD).sign("unsubscribe", "s-1")
    links = SupporterLinks(KeyRing([NEW, OLD]))
    links.sign("unsubscribe", "s-2")  # the signer is made and kept

    assert links.verify("unsubscribe", before) == "s-1"
    with pytest.raises(AuthError):
        links.verify("manage", before)
    with pytest.raises(AuthError):
        SupporterLinks(NEW).verify("unsubscribe", before)

"""Supporters' link tokens are itsdangerous' own, signed without the library's per-token costs."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from campaign.application.access import ActionLink, SupporterLinks
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


def test_a_fresh_link_token_opens_through_the_librarys_own_loads_with_its_purpose_and_age(
) -> None:
    links = SupporterLinks(KeyRing([NEW, OLD]))
    library = URLSafeTimedSerializer([OLD, NEW], salt="supporter-link/unsubscribe")
    acting = URLSafeTimedSerializer([OLD, NEW], salt="supporter-link/act")

    assert library.loads(links.sign("unsubscribe", "s-1"), max_age=60) == "s-1"
    assert acting.loads(links.sign_action("s-1", "a-1"), max_age=60) == ["s-1", "a-1"]
    assert links.verify_action(links.sign_action("s-1", "a-1")) == ActionLink("s-1", "a-1")
    repetitive = "a" * 300  # the library would have compressed it: uncompressed opens too
    assert links.verify_action(links.sign_action("s-1", repetitive)) == ActionLink(
        "s-1", repetitive)


def test_a_link_token_opens_for_its_own_purpose_only() -> None:
    links = SupporterLinks(NEW)
    purposes = ("confirm", "manage", "unsubscribe", "erase")

    for signed_for in purposes:
        token = links.sign(signed_for, "s-1")
        assert links.verify(signed_for, token) == "s-1"
        for other in (p for p in purposes if p != signed_for):
            with pytest.raises(AuthError):
                links.verify(other, token)
        with pytest.raises(AuthError):
            links.verify_action(token)
    with pytest.raises(AuthError):
        links.verify("unsubscribe", links.sign_action("s-1", "a-1"))


def test_a_link_token_names_its_one_supporter_and_one_action_and_cannot_be_moved_to_another(
) -> None:
    links = SupporterLinks(NEW)
    theirs, mine = links.sign("unsubscribe", "s-1"), links.sign("unsubscribe", "s-2")
    acting = links.sign_action("s-1", "a-1")
    other_action = links.sign_action("s-1", "a-2")

    assert links.verify("unsubscribe", theirs) == "s-1"
    assert links.verify_action(acting) == ActionLink("s-1", "a-1")
    rest = mine.split(".", 1)[1]
    with pytest.raises(AuthError):  # s-2's signature under s-1's payload
        links.verify("unsubscribe", f"{theirs.split('.', 1)[0]}.{rest}")
    with pytest.raises(AuthError):  # a-1's payload under a-2's signature
        links.verify_action(f"{acting.split('.', 1)[0]}.{other_action.split('.', 1)[1]}")
    with pytest.raises(AuthError):  # signed under another secret
        SupporterLinks(OLD).verify("unsubscribe", theirs)


def test_a_link_token_past_its_lifetime_no_longer_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    links = SupporterLinks(NEW)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _: 1_700_000_000)
    manage, acting = links.sign("manage", "s-1"), links.sign_action("s-1", "a-1")
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _: 1_700_000_000 + 3601)
    with pytest.raises(AuthError, match="expired"):
        links.verify("manage", manage)
    monkeypatch.setattr(TimestampSigner, "get_timestamp",
                        lambda _: 1_700_000_000 + 180 * 86400 + 1)
    with pytest.raises(AuthError, match="expired"):
        links.verify_action(acting)

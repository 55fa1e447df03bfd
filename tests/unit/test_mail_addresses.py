"""Addresses the plain-address pattern takes are the ones the header parser takes too."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaign.mail.message import _PLAIN_ADDRESS, _parser_accepts, usable_address

PIECES = st.text(alphabet="aZ09.-_+!#$%&'*/=?^`{|}~@\"()<>[]:;,\\ é\n", max_size=12)


@given(local=PIECES, domain=PIECES)
def test_every_address_the_pattern_takes_the_header_parser_takes_unchanged(
    local: str, domain: str,
) -> None:
    address = f"{local}@{domain}"
    if _PLAIN_ADDRESS.fullmatch(address):
        assert _parser_accepts(address)
    assert usable_address(address) == _parser_accepts(address)


def test_plain_and_unusual_addresses_are_judged_as_the_parser_judges_them() -> None:
    for address in ("fanout-7@bench.example.org", "o'brien+ua@example.co.uk",
                    "a.b@x-y.example", "ünïcode@example.org", "\"quoted\"@example.org"):
        assert usable_address(address) == _parser_accepts(address)
    for address in ("a..b@example.org", ".a@example.org", "a@", "@example.org",
                    "a b@example.org", "a@b@example.org", "a@example.org\n", "0@[", "a@[b"):
        assert not usable_address(address)

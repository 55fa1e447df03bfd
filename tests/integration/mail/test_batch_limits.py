"""A batch is checked against SendGrid's limits before any transport sends it."""

from __future__ import annotations

import dataclasses

import pytest

from campaign.mail.errors import InvalidBatch
from campaign.mail.message import (
    MAX_PERSONALIZATIONS,
    Personalization,
    recipient_problem,
    single_line,
    usable_address,
)
from tests.integration.mail.conftest import make_batch, person


def test_a_batch_of_a_thousand_recipients_is_valid() -> None:
    make_batch(MAX_PERSONALIZATIONS).validate()


def test_one_recipient_more_than_a_thousand_is_refused() -> None:
    with pytest.raises(InvalidBatch, match="1001 personalizations"):
        make_batch(MAX_PERSONALIZATIONS + 1).validate()


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidBatch, match="no personalizations"):
        dataclasses.replace(make_batch(1), personalizations=()).validate()


def test_the_same_address_twice_is_refused_whatever_its_case_without_naming_it() -> None:
    people = (person(0), person(1, "Twice@Example.org"), person(2, "twice@example.ORG"))

    with pytest.raises(InvalidBatch, match="recipient 2 has the same address as recipient 1") \
            as refused:
        make_batch(people=people).validate()

    assert "example.org" not in str(refused.value).lower()


def test_custom_args_holding_an_address_are_refused() -> None:
    leaky = dataclasses.replace(person(0), custom_args={"delivery_id": "someone@example.org"})

    with pytest.raises(InvalidBatch, match="opaque ids"):
        make_batch(people=(leaky,)).validate()


@pytest.mark.parametrize("header", ["Subject", "reply-to", "DKIM-Signature"])
def test_headers_sendgrid_reserves_are_refused(header: str) -> None:
    reserved = dataclasses.replace(person(0), headers={header: "x"})

    with pytest.raises(InvalidBatch, match="reserved"):
        make_batch(people=(reserved,)).validate()


def test_a_header_value_cannot_smuggle_a_second_header() -> None:
    injected = dataclasses.replace(person(0), headers={"List-Id": "a\r\nBcc: x@example.org"})

    with pytest.raises(InvalidBatch, match="line break"):
        make_batch(people=(injected,)).validate()


def test_substitutions_are_applied_once_so_a_name_cannot_expand_another_key() -> None:
    sly = Personalization("sly@example.org", "-unsubscribe_url-",
                          substitutions={"-name-": "-unsubscribe_url-",
                                         "-unsubscribe_url-": "https://x.example/u/1"})

    assert sly.render("Dear -name-: -unsubscribe_url-") == \
        "Dear -unsubscribe_url-: https://x.example/u/1"


@pytest.mark.parametrize("name", ["Eve\r\nBcc: x@example.org", "Eve\x00", "Eve\u2028Example"])
def test_a_name_that_would_break_the_to_header_is_refused_naming_no_one(name: str) -> None:
    broken = dataclasses.replace(person(1), to_name=name)

    assert recipient_problem(broken, {}) == "the name contains a line break or control character"
    with pytest.raises(InvalidBatch, match="recipient 1: the name contains") as refused:
        make_batch(people=(person(0), broken)).validate()
    assert "Eve" not in str(refused.value)


@pytest.mark.parametrize("address", ["two words@example.org", "trailing@", "@example.org",
                                     "a@b@example.org", "ünïcode@example.org", "x@example.org\n"])
def test_an_address_the_mail_library_cannot_write_is_refused(address: str) -> None:
    assert not usable_address(address)
    assert recipient_problem(dataclasses.replace(person(0), to_email=address), {}) == \
        "not a usable address"


def test_a_subject_is_made_one_line_by_collapsing_every_control_run_into_a_space() -> None:
    assert single_line(" Free him \r\n\r\n Bcc: x\x00y\u2029z\t") == "Free him Bcc: x y z"
    assert single_line("Ünïcode — «quoted» 🕊") == "Ünïcode — «quoted» 🕊"

"""Dates, deadlines, numbers and language names as each shipped locale says them."""

from __future__ import annotations

from datetime import date, time

import pytest
from jinja2 import Environment

from campaign.infra import i18n


def test_a_date_reads_as_the_reader_writes_it() -> None:
    assert i18n.day(date(2010, 10, 27), "en") == "27 October 2010"
    assert i18n.day(date(2010, 10, 27), "ru") == "27 октября 2010\u202fг."
    assert i18n.day(date(2010, 10, 27), "es") == "27 de octubre de 2010"


def test_a_date_only_deadline_is_that_date_whatever_the_readers_timezone() -> None:
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Bishkek"):
        assert i18n.deadline_phrase(date(2027, 1, 20), None, "Asia/Bishkek", zone,
                                    "en") == "20 January 2027"


def test_a_deadline_with_a_time_is_on_the_readers_clock_with_the_zone_named() -> None:
    phrase = i18n.deadline_phrase(date(2027, 1, 20), time(17), "Asia/Bishkek",
                                  "Europe/Paris", "en")
    assert phrase == "20 January 2027, 12:00 (Central European Standard Time)"
    assert "20 января 2027\u202fг., 12:00" in i18n.deadline_phrase(
        date(2027, 1, 20), time(17), "Asia/Bishkek", "Europe/Paris", "ru")


def test_language_names_are_in_the_readers_language() -> None:
    names = [i18n.language_name(tag, "ru") for tag in ("ru", "ky", "en")]
    assert i18n.or_list(names, "ru") == "русский, киргизский или английский"
    assert i18n.or_list([i18n.language_name("ky", "en")], "en") == "Kyrgyz"
    assert i18n.language_name("xx-unknown", "en") == "xx-unknown"


def test_numbers_are_grouped_as_the_reader_groups_them() -> None:
    assert i18n.number(12345, "en") == "12,345"
    assert i18n.number(12345, "fr") == "12\u202f345"


@pytest.mark.parametrize(("tag", "locale"), [
    ("ru-KG", "ru"), ("ar_EG", "ar"), ("de", "en"), ("", "en"), (None, "en"), ("KY", "ky")])
def test_any_language_tag_maps_to_a_shipped_locale(tag: str | None, locale: str) -> None:
    assert i18n.negotiate(tag) == locale


def test_only_shipped_locales_and_domains_have_catalogues() -> None:
    with pytest.raises(ValueError):
        i18n.translations("de", "mail")
    with pytest.raises(ValueError):
        i18n.translations("ru", "console")


def test_template_variables_are_escaped_after_translation_in_html() -> None:
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    env.policies["ext.i18n.trimmed"] = True
    template = env.from_string("{% trans name=name %}Dear {{ name }}{% endtrans %}")
    html = template.render(name="<b>Azimjan</b>", **i18n.gettext_context("en", "pages"))
    assert html == "Dear &lt;b&gt;Azimjan&lt;/b&gt;"
    text = Environment(extensions=["jinja2.ext.i18n"]).from_string(
        "{% trans name=name %}Dear {{ name }}{% endtrans %}")
    assert text.render(name="<b>A</b>", **i18n.gettext_context("en", "mail")) == "Dear <b>A</b>"

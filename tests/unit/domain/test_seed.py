"""The seed urgent action (UA 135/10, fifth update) and its case, kept completely."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaign.demo import ua_135_10 as seed
from campaign.domain import action, case
from campaign.domain.values import AtLocalTime
from tests.unit.domain.scenario import run_all


def seed_action() -> tuple[action.State, list[str]]:
    state, log = run_all(
        action.decide, action.evolve, action.initial_state(), seed.ACTION_COMMANDS
    )
    return state, [e.type_name for e in log]


def test_the_seed_action_is_drafted_translated_launched_and_updated_for_the_fifth_time() -> None:
    state, log = seed_action()

    assert log == ["ActionDrafted", "ActionTranslated", "ActionLaunched", "ActionUpdated"]
    assert (state.status, state.is_open, state.update_number) == ("launched", True, 5)


def test_the_seed_action_is_written_in_english_and_its_russian_translation_is_current() -> None:
    state = seed_action()[0]

    assert state.content is not None and state.content.language == "en"
    russian = state.current_translation("ru")
    assert russian is not None
    assert russian.title == "ПРАВОЗАЩИТНИК ПРИГОВОРЁН К ПОЖИЗНЕННОМУ ЗАКЛЮЧЕНИЮ"
    assert len(russian.asks) == len(state.content.asks) == 3
    assert russian.body.count("\n\n") == state.content.body.count("\n\n")  # paragraph by paragraph
    assert (russian.additional_information.count("\n\n")
            == state.content.additional_information.count("\n\n"))
    assert state.current_translation("ky") is None


def test_the_seed_action_keeps_its_document_identity_and_language_choice() -> None:
    content = seed_action()[0].content

    assert content is not None
    assert (content.ua_number, content.index_number, content.country) == (
        "135/10", "EUR 58/015/2010", "KG"
    )
    assert content.issued_on == date(2010, 9, 15)
    assert (content.languages, content.own_language_welcome) == (("ru", "ky", "en"), True)
    assert content.copies_to_diplomats
    assert content.source_links == ("http://www.amnesty.org/en/library/info/EUR58/003/2010/en",)
    assert content.body.startswith("According to the Golos Svobody (Voice of Freedom) Foundation")
    assert "seven co-defendants on 2 September" in content.body
    assert content.additional_information.endswith("the officers reportedly told them to go away.")


def test_the_seed_deadline_ends_when_27_october_2010_is_over_in_bishkek() -> None:
    state = seed_action()[0]

    assert state.deadline is not None
    assert (state.deadline.on, state.deadline.timezone) == (date(2010, 10, 27), "Asia/Bishkek")
    assert state.deadline.ends_at() == datetime(2010, 10, 27, 18, tzinfo=UTC)


def test_the_seed_asks_are_kept_verbatim_and_in_order() -> None:
    content = seed_action()[0].content

    assert content is not None
    assert content.asks == (
        "Stating that Amnesty International considers Azimzhan Askarov to be a prisoner of "
        "conscience, sentenced after an unfair trial in response to his legitimate human rights "
        "activities;",
        "Calling for his immediate and unconditional release;",
        "Calling for any appeal against the verdict to be heard outside of southern Kyrgyzstan "
        "to ensure the safety of Azimzhan Askarov and his lawyers.",
    )


def test_the_seed_targets_are_kept_exactly_as_printed() -> None:
    content = seed_action()[0].content

    assert content is not None
    minister, prosecutor, president = content.targets
    assert (minister.title, minister.name, minister.address_lines) == (
        "Minister of Internal Affairs", "Zarylbek Rysaliev",
        ("Frunze Street, 469", "Bishkek 720040, KYRGYZSTAN"),
    )
    assert (minister.fax, minister.email, minister.salutation, minister.role) == (
        "+996 312 68 20 44", "pressa@mail.mvd.kg", "Dear Minister", "primary"
    )
    assert (prosecutor.title, prosecutor.name, prosecutor.address_lines) == (
        "General Prosecutor", "Kubatbek Baibolov",
        ("72, Orozbekova Street", "Bishkek 720040, KYRGYZSTAN"),
    )
    assert (prosecutor.fax, prosecutor.email, prosecutor.salutation, prosecutor.role) == (
        "+996 312 66 54 11", None, "Dear General Prosecutor", "primary"
    )
    assert (president.title, president.name, president.address_lines) == (
        "President", "Roza Otunbaeva", ("Dom Pravitelstva", "Bishkek 720003, KYRGYZSTAN"),
    )
    assert (president.fax, president.email, president.salutation, president.role) == (
        "+996 312 62 50 12", "admin@kyrgyz-el.kg", None, "copy"
    )
    assert {t.country for t in content.targets} == {"KG"}


def test_the_partner_reported_hearing_is_a_local_time_in_bishkek() -> None:
    state, _ = run_all(case.decide, case.evolve, case.initial_state(), seed.CASE_COMMANDS)

    hearing = state.developments[seed.SUPREME_COURT_HEARING.development_id]
    assert isinstance(hearing.occurred, AtLocalTime)
    assert hearing.occurred.local.instant() == datetime(2020, 5, 13, 8, tzinfo=UTC)
    assert (hearing.kind, hearing.pending_approval) == ("hearing_scheduled", True)
    assert state.subject_name == "Azimzhan Askarov"

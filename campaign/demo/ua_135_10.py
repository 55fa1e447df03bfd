"""The seed urgent action (UA 135/10) and its case as domain commands, transcribed verbatim.

Sources: Amnesty International's urgent action UA 135/10 (fifth update, index
EUR 58/015/2010, 15 September 2010), with a Russian translation of it (`ua_135_10_ru`),
and the statement of the Human Rights Movement
"Bir Duino-Kyrgyzstan" of 12 May 2020 on the Supreme Court hearing. Replaying
`CASE_COMMANDS` and `ACTION_COMMANDS` in order rebuilds the case's history; the
`campaign demo` command does so through the same handlers the API uses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaign.demo import ua_135_10_ru as ru
from campaign.domain import action, case
from campaign.domain.action import DraftAction, LaunchAction, PublishUpdate, TranslateAction
from campaign.domain.action_content import ActionContent
from campaign.domain.case import (
    DevelopmentKind,
    DevelopmentSource,
    OpenCase,
    RecordDevelopment,
)
from campaign.domain.values import AtLocalTime, Deadline, LocalDateTime, OnDate, Target

TIMEZONE = "Asia/Bishkek"
CASE_ID = "azimzhan-askarov"
ACTION_ID = "ua-135-10"
PARTNER_ID = "bir-duino-kyrgyzstan"
FURTHER_INFORMATION = "http://www.amnesty.org/en/library/info/EUR58/003/2010/en"

# The action document

UA_NUMBER = "135/10"
INDEX_NUMBER = "EUR 58/015/2010"
UPDATE_NUMBER = 5  # "This is the fifth update of UA 135/10."
TITLE = "HUMAN RIGHTS DEFENDER JAILED FOR LIFE"
ISSUED_ON = date(2010, 9, 15)
DEADLINE = Deadline(on=date(2010, 10, 27), timezone=TIMEZONE)
LANGUAGES = ("ru", "ky", "en")  # "in Russian, Kyrgyz, English or your own language"

ASKS = (
    "Stating that Amnesty International considers Azimzhan Askarov to be a prisoner of "
    "conscience, sentenced after an unfair trial in response to his legitimate human rights "
    "activities;",
    "Calling for his immediate and unconditional release;",
    "Calling for any appeal against the verdict to be heard outside of southern Kyrgyzstan to "
    "ensure the safety of Azimzhan Askarov and his lawyers.",
)

MINISTER = Target(
    target_id="minister-interior",
    name="Zarylbek Rysaliev",
    title="Minister of Internal Affairs",
    address_lines=("Frunze Street, 469", "Bishkek 720040, KYRGYZSTAN"),
    country="KG",
    fax="+996 312 68 20 44",
    email="pressa@mail.mvd.kg",
    salutation="Dear Minister",
    role="primary",
)
PROSECUTOR = Target(
    target_id="general-prosecutor",
    name="Kubatbek Baibolov",
    title="General Prosecutor",
    address_lines=("72, Orozbekova Street", "Bishkek 720040, KYRGYZSTAN"),
    country="KG",
    fax="+996 312 66 54 11",
    salutation="Dear General Prosecutor",
    role="primary",
)
PRESIDENT = Target(
    target_id="president",
    name="Roza Otunbaeva",
    title="President",
    address_lines=("Dom Pravitelstva", "Bishkek 720003, KYRGYZSTAN"),
    country="KG",
    fax="+996 312 62 50 12",
    email="admin@kyrgyz-el.kg",
    role="copy",  # "And copies to:"
)
TARGETS = (MINISTER, PROSECUTOR, PRESIDENT)

SUMMARY = (
    "Azimzhan Askarov, director of the human rights organization Vozdukh (Air) in Kyrgyzstan, has "
    "been sentenced to life imprisonment after an unfair trial Amnesty International considers him"
    " to be a prisoner of conscience, targeted in response to his legitimate human rights "
    "activities."
)

BODY = "\n\n".join(
    (
        (
            "According to the Golos Svobody (Voice of Freedom) Foundation, a human rights "
            "organization based in Kyrgyzstan who have been monitoring the trial, Azimzhan Askarov"
            " was sentenced to life imprisonment and the confiscation of his property by the "
            "Nooken district court in southern Kyrgyzstan on 15 September."
        ),
        (
            "Azimzhan Askarov was detained by police officers on 15 June and accused of "
            "involvement in the murder of a policeman killed during the June violence in "
            "Kyrgyzstan. He was reportedly tortured in detention. Amnesty International believes "
            "that all the charges against him were fabricated in response to his legitimate "
            "activities as a human rights defender, which included filming attacks on Uzbek "
            "neighbourhoods during the June violence. The videos he filmed allegedly show "
            "collusion of security forces in attacks in Bazar-Korgan."
        ),
        (
            "Local and international human rights monitors say that during the trial hearing of "
            "Azimzhan Askarov and seven co-defendants on 2 September, relatives of the dead police"
            " officer attacked and threatened Azimzhan Askarov’s lawyers and family, both inside "
            "and outside the courtroom."
        ),
        (
            "Azimzhan Askarov and three of the other defendants appeared at the 6 September "
            "hearing with visible bruises on their faces which had not been apparent at the 2 "
            "September hearing, suggesting they had been beaten between the two hearings while in "
            "custody."
        ),
        (
            "During the 6 September trial hearing, Azimzhan Askarov’s lawyer was reportedly denied"
            " a request to meet with him. Members of the public attending the trial, mainly police"
            " and relatives of the dead police officer, were allowed to randomly address questions"
            " to the defendants."
        ),
    )
)

ADDITIONAL_INFORMATION = "\n\n".join(
    (
        (
            "Amnesty International believes that Azimzhan Askarov has been targeted for his "
            "legitimate activities as a human rights defender. He is the director of the human "
            "rights organization Vozdukh (Air) and he has been documenting police ill-treatment of"
            " detainees in the district of Bazar Korgan and other parts of the Jalal-Abad region "
            "for years. In June 2010, during the violence in south of Kyrgyzstan, Azimzhan Askarov"
            " filmed and photographed killings and arson attacks on mostly Uzbek homes and other "
            "buildings in Bazar Korgan, allegedly by groups of armed men and men in military "
            "uniforms claiming to be Kyrgyz."
        ),
        (
            "He was detained on 15 June 2010 in Bazar Korgan on suspicion of “organizing mass "
            "disorder” and “inciting ethnic hatred” in connection with the death of one police "
            "officer during the violence that month. On 13 August he was charged with “attempting "
            "to participate in hostage taking,” “storage of ammunition,” “storage of extremist "
            "literature,” “inciting ethnic hatred,” “mass riots,” “being an accomplice to "
            "premeditated murder” and “being an accomplice in the killing of a law enforcement "
            "officer.” According to local human rights defenders, Azimzhan Askarov was subjected "
            "to prolonged beatings on the premises of the police station in Bazar Korgan to force "
            "him to hand over his film footage and confess to the murder of the police officer."
        ),
        (
            "One of Azimzhan Askarov’s lawyers, Nurbek Toktakunov, who had been harassed and "
            "attacked because of his work on the case, was not able to attend the trial hearing on"
            " 2 September because of the short notice given that the trial would be moved. Human "
            "rights activists said that Azimzhan Askarov was represented by a local lawyer."
        ),
        (
            "Human rights activists monitoring the trial hearing on 2 September also reported that"
            " relatives of the accused were not given access to the courtroom, apparently because "
            "there was no room. However, relatives of the police officer who was killed as well as"
            " scores of plainclothes and uniformed police officers were allowed in. Amnesty "
            "International has been informed that relatives of the dead officer threatened and "
            "attacked the defendants’ lawyers in court hitting them with sticks and throwing a "
            "glass at them. The glass smashed against the bars of the cage holding the defendants,"
            " and splinters hit one of the lawyers. Court officials, including the judge, "
            "reportedly intervened only sporadically to stop the violence and restore order. The "
            "defendants’ lawyers were reportedly not given the opportunity to question witnesses "
            "or submit petitions. When the lawyers expressed concern that they would not be able "
            "to defend their clients under these conditions the judge reportedly threatened to "
            "have their licences to practice revoked. The dead police officer’s relatives also "
            "attacked family members of the defendants outside the courtroom. Police officers at "
            "the scene did not intervene. When the defendants’ relatives appealed to the officers "
            "to stop the violence, the officers reportedly told them to go away."
        ),
    )
)

CONTENT = ActionContent(
    case_id=CASE_ID,
    ua_number=UA_NUMBER,
    index_number=INDEX_NUMBER,
    title=TITLE,
    country="KG",
    issued_on=ISSUED_ON,
    deadline=DEADLINE,
    languages=LANGUAGES,
    own_language_welcome=True,
    asks=ASKS,
    targets=TARGETS,
    copies_to_diplomats=True,
    summary=SUMMARY,
    body=BODY,
    additional_information=ADDITIONAL_INFORMATION,
    source_links=(FURTHER_INFORMATION,),
)

DRAFT = DraftAction(
    **vars(CONTENT), action_id=ACTION_ID, drafted_at=datetime(2010, 9, 15, 6, tzinfo=UTC)
)
IN_RUSSIAN = TranslateAction(
    action_id=ACTION_ID,
    language="ru",
    translated_at=datetime(2010, 9, 15, 6, 30, tzinfo=UTC),
    title=ru.TITLE,
    summary=ru.SUMMARY,
    body=ru.BODY,
    asks=ru.ASKS,
    additional_information=ru.ADDITIONAL_INFORMATION,
)
LAUNCH = LaunchAction(ACTION_ID, launched_at=datetime(2010, 9, 15, 7, tzinfo=UTC))
FIFTH_UPDATE = PublishUpdate(
    action_id=ACTION_ID,
    number=UPDATE_NUMBER,
    published_at=datetime(2010, 9, 15, 8, tzinfo=UTC),
    title=TITLE,
    summary=SUMMARY,
    body=BODY,
    asks=ASKS,
    targets=TARGETS,
    additional_information=ADDITIONAL_INFORMATION,
)
ACTION_COMMANDS: tuple[action.Command, ...] = (DRAFT, IN_RUSSIAN, LAUNCH, FIFTH_UPDATE)

# The case

CAMPAIGNER = DevelopmentSource(kind="campaigner", url=FURTHER_INFORMATION)
PARTNER = DevelopmentSource(kind="partner", partner_id=PARTNER_ID)
RECORDED_2010 = datetime(2010, 9, 15, 9, tzinfo=UTC)

OPEN_CASE = OpenCase(
    case_id=CASE_ID,
    subject_name="Azimzhan Askarov",
    subject_kind="person",
    country="KG",
    summary=(
        "Human rights defender, director of the human rights organization Vozdukh (Air), "
        "documenting police ill-treatment in Bazar Korgan; a prisoner of conscience."
    ),
    tags=("human-rights-defender", "prisoner-of-conscience", "torture"),
    opened_at=datetime(2010, 9, 15, 5, tzinfo=UTC),
)


def _campaigner_report(
    development_id: str, kind: DevelopmentKind, on: date, summary: str
) -> RecordDevelopment:
    return RecordDevelopment(
        case_id=CASE_ID,
        development_id=development_id,
        kind=kind,
        occurred=OnDate(on),
        summary=summary,
        source=CAMPAIGNER,
        recorded_at=RECORDED_2010,
    )


DEVELOPMENTS_2010 = (
    _campaigner_report(
        "detained-2010-06-15", "detained", date(2010, 6, 15),
        "Detained by police officers in Bazar Korgan on suspicion of “organizing mass "
        "disorder” and “inciting ethnic hatred” in connection with the death of one police "
        "officer during the June violence; reportedly tortured in detention.",
    ),
    _campaigner_report(
        "charged-2010-08-13", "charged", date(2010, 8, 13),
        "Charged with “attempting to participate in hostage taking,” “storage of ammunition,” "
        "“storage of extremist literature,” “inciting ethnic hatred,” “mass riots,” “being an "
        "accomplice to premeditated murder” and “being an accomplice in the killing of a law "
        "enforcement officer.”",
    ),
    _campaigner_report(
        "hearing-2010-09-02", "hearing_held", date(2010, 9, 2),
        "Trial hearing with seven co-defendants: relatives of the dead police officer attacked "
        "and threatened his lawyers and family, inside and outside the courtroom.",
    ),
    _campaigner_report(
        "hearing-2010-09-06", "hearing_held", date(2010, 9, 6),
        "He and three co-defendants appeared with visible bruises not apparent on 2 September; "
        "his lawyer was reportedly denied a request to meet with him.",
    ),
    _campaigner_report(
        "sentenced-2010-09-15", "sentenced", date(2010, 9, 15),
        "Sentenced to life imprisonment and the confiscation of his property by the Nooken "
        "district court in southern Kyrgyzstan.",
    ),
)

SUPREME_COURT_HEARING = RecordDevelopment(
    case_id=CASE_ID,
    development_id="supreme-court-hearing-2020-05-13",
    kind="hearing_scheduled",
    occurred=AtLocalTime(LocalDateTime(at=datetime(2020, 5, 13, 14, 0), timezone=TIMEZONE)),
    summary=(
        "A hearing is scheduled for 13 May 2020 at 2:00 p.m. in the Supreme Court of the "
        "Kyrgyz Republic, to consider the cassation of the human rights defender, prisoner of "
        "conscience Azimzhan Askarov, against the judgment of the Chui Oblast Court dated 24 "
        "January 2017."
    ),
    source=PARTNER,
    recorded_at=datetime(2020, 5, 12, 10, tzinfo=UTC),
    requires_approval=True,
)
CASE_COMMANDS: tuple[case.Command, ...] = (OPEN_CASE, *DEVELOPMENTS_2010, SUPREME_COURT_HEARING)

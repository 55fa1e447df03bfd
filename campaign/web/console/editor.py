"""The action editor (S3): draft an action for a case, revise it, translate it, launch it.

Every write says which version of the action the form was made from (a hidden field, the
console's If-Match): a stale form is refused with the conflict explained and the
campaigner's typing kept. A rule the domain refuses re-renders the form with its message
(422 for what was typed, 409 for the action's state), never a 500. Launching waits for
every translation to be current: a translation an edit outdated goes out in no one's
mailbox until it is redone, so the button says which one to redo.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import redirect, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from campaign.application.actions import write_draft
from campaign.application.errors import NotFound, PreconditionFailed
from campaign.domain import action
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.infra.i18n import LOCALES, language_name
from campaign.infra.tables import action_translations, actions, cases
from campaign.mail.planning import audience
from campaign.read_models.action_translations import languages_of
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.editor_forms import (
    Form,
    blank_content,
    content_form,
    content_of,
    read_form,
    translation_of,
)
from campaign.web.console.session import console_meta, console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("editor", __name__)
STATUS_LABELS = {"drafted": "draft", "launched": "live", "closed": "closed"}
FIELD_RULES = {"unknown_case", "invalid_target_id", "invalid_target", "duplicate_target",
               "invalid_ua_number", "empty_title", "invalid_link", "deadline_not_after_issue"}
"""Domain rules about what was typed (422); the others are about the action's state (409)."""
Page = Response | tuple[str, int] | str


@dataclass(frozen=True)
class Version:
    """One language the action can be read in, and whether it is ready to send."""

    language: str
    name: str
    ready: bool
    own: bool


@dataclass(frozen=True)
class ActionView:
    """An action as the editor shows it."""

    action_id: str
    status: str
    version: int
    update_number: int
    document: dict[str, Any]
    versions: tuple[Version, ...]

    @property
    def label(self) -> str:
        """The status in the editor's words: draft, live or closed."""
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def outdated(self) -> tuple[str, ...]:
        """Languages whose translation an edit outdated: launching waits for them."""
        return tuple(v.name for v in self.versions if not v.ready)

    @property
    def untranslated(self) -> tuple[tuple[str, str], ...]:
        """Shipped languages the action has no version in yet, as (tag, name)."""
        have = {v.language for v in self.versions}
        return tuple((tag, language_name(tag, "en")) for tag in LOCALES if tag not in have)


def load_action(action_id: str) -> ActionView:
    """The action with its versions; NotFound for no such action."""
    with container().engine.connect() as conn:
        row = conn.execute(select(actions).where(actions.c.action_id == action_id)).one_or_none()
        if row is None:
            raise NotFound(f"no action {action_id}")
        translated = conn.execute(
            select(action_translations.c.language, action_translations.c.current)
            .where(action_translations.c.action_id == action_id)
            .order_by(action_translations.c.language)).all()
    own = row.document.get("language", "en")
    versions = (Version(own, language_name(own, "en"), True, True),
                *(Version(t.language, language_name(t.language, "en"), bool(t.current), False)
                  for t in translated))
    return ActionView(action_id, row.status, row.version, row.update_number, row.document,
                      versions)


@blueprint.route("/cases/<case_id>/actions/new", methods=["GET"])
@console_view("campaigner")
def new(case_id: str) -> str:
    """A blank action for the case: one ask and one official to fill in."""
    _require_case(case_id)
    today = utc_now().date()
    form = blank_content(case_id, today.isoformat(), (today + timedelta(days=14)).isoformat())
    return _new_page(case_id, form)


@blueprint.route("/actions/new", methods=["GET"])
@console_view("campaigner")
def new_for_case() -> Response:
    """`/console/actions/new?case_id=…`: the same form, at the case's own address."""
    case_id = request.args.get("case_id", "")
    _require_case(case_id)
    return redirect(url_for("editor.new", case_id=case_id), 303)


@blueprint.route("/cases/<case_id>/actions/new", methods=["POST"])
@console_view("campaigner")
def create(case_id: str) -> Page:
    """Save the draft, or show the form again with one more ask or official."""
    _require_case(case_id)
    form = read_form(request.form)
    form.values["case_id"] = case_id
    if request.form.get("do", "save") != "save":
        return _new_page(case_id, form)
    content = content_of(form)
    if content is None:
        return _new_page(case_id, form), 422
    action_id = str(uuid.uuid4())
    try:
        write_draft(container().commands, action.DraftAction(
            action_id=action_id, drafted_at=utc_now(), **content), console_meta())
    except DomainError as refused:
        form.errors.append(("", refused.message))
        return _new_page(case_id, form), _status(refused)
    return redirect(url_for("editor.edit", action_id=action_id, done="saved"), 303)


@blueprint.route("/actions/<action_id>/edit", methods=["GET"])
@console_view("viewer")
def edit(action_id: str) -> str:
    """The action: its content (a form while it is a draft), versions, launch, updates, stop."""
    found = load_action(action_id)
    return edit_page(found, content_form(found.document))


@blueprint.route("/actions/<action_id>/edit", methods=["POST"])
@console_view("campaigner")
def revise(action_id: str) -> Page:
    """Replace the draft's content with the form's, if nobody changed it meanwhile."""
    found = load_action(action_id)
    form = read_form(request.form)
    form.values["case_id"] = found.document["case_id"]
    if request.form.get("do", "save") != "save":
        return edit_page(found, form)
    content = content_of(form)
    if content is None:
        return edit_page(found, form), 422
    try:
        write_draft(container().commands, action.ReviseDraft(
            action_id=action_id, revised_at=utc_now(), **content), console_meta(),
            expected_version=form_version())
    except (DomainError, PreconditionFailed) as refused:
        form.errors.append(("", explain(refused)))
        return edit_page(load_action(action_id), form), _status(refused)
    return redirect(url_for("editor.edit", action_id=action_id, done="saved"), 303)


@blueprint.route("/actions/<action_id>/launch", methods=["POST"])
@console_view("campaigner")
def launch(action_id: str) -> Page:
    """Send the action out, once every version is ready and the form is current."""
    found = load_action(action_id)
    form = content_form(found.document)
    if found.outdated:
        form.errors.append(("", f"Redo the outdated translation first: "
                                f"{', '.join(found.outdated)}."))
        return edit_page(found, form), 409
    try:
        container().commands.handle(action.LaunchAction(action_id, utc_now()), console_meta(),
                                    expected_version=form_version())
    except (DomainError, PreconditionFailed) as refused:
        form.errors.append(("", explain(refused)))
        return edit_page(load_action(action_id), form), 409
    return redirect(url_for("editor.edit", action_id=action_id, done="launched"), 303)


@blueprint.route("/actions/<action_id>/translations/<language>", methods=["GET"])
@console_view("viewer")
def translation(action_id: str, language: str) -> str:
    """The action's text in `language`: the current translation, or the original to
    translate from."""
    found = load_action(action_id)
    _require_locale(found, language)
    return _translation_page(found, language, _translation_form(action_id, language, found))


@blueprint.route("/actions/<action_id>/translations/<language>", methods=["POST"])
@console_view("campaigner")
def translate(action_id: str, language: str) -> Page:
    """Store the translation into `language`, replacing an earlier one."""
    found = load_action(action_id)
    _require_locale(found, language)
    form = read_form(request.form)
    text = translation_of(form)
    if text is None:
        return _translation_page(found, language, form), 422
    try:
        container().commands.handle(action.TranslateAction(
            action_id=action_id, language=language, translated_at=utc_now(), **text),
            console_meta(), expected_version=form_version())
    except (DomainError, PreconditionFailed) as refused:
        form.errors.append(("", explain(refused)))
        return _translation_page(load_action(action_id), language, form), 409
    return redirect(url_for("editor.edit", action_id=action_id, done="translated"), 303)


def edit_page(found: ActionView, form: Form, **context: Any) -> str:
    """The editor's page of one action, with `form` as typed (or as stored)."""
    update = content_form(found.document)
    update.values["number"] = str(found.update_number + 1)
    return render_console("console/editor/edit.html", action=found, form=form,
                          update=context.pop("update", update), done=request.args.get("done"),
                          locales=LOCALES, audience=_audience(found), **context)


def _audience(found: ActionView) -> dict[str, int]:
    """Who the action's next mailing reaches (people), per language they receive it in:
    its launch's recipients once launched, else the subscribers its launch would reach."""
    with container().engine.connect() as conn:
        people = audience(conn, found.action_id)
        receiving, _ = languages_of(conn, found.action_id, found.document).tally(
            p.locale for p in people)
    return receiving


def form_version() -> int:
    """The version of the action the form was made from (the console's If-Match)."""
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        raise BadRequest("the form did not say which version of the action it was made "
                         "from: reload the page and try again") from None


def explain(refused: DomainError | PreconditionFailed) -> str:
    """What went wrong, in words a campaigner can act on."""
    if isinstance(refused, PreconditionFailed):
        return ("Someone else changed this action since this page was opened (it is now at "
                f"version {refused.current_version}). Nothing was saved: reload the page to "
                "see their changes, then make yours again.")
    return refused.message


def _status(refused: DomainError | PreconditionFailed) -> int:
    return 422 if isinstance(refused, DomainError) and refused.code in FIELD_RULES else 409


def _require_case(case_id: str) -> None:
    with container().engine.connect() as conn:
        if conn.execute(select(cases.c.case_id).where(cases.c.case_id == case_id)).first() is None:
            raise NotFound(f"no case {case_id}")


def _require_locale(found: ActionView, language: str) -> None:
    if language not in LOCALES or language == found.versions[0].language:
        raise NotFound(f"no translations into {language!r}: the shipped locales other than "
                       f"the action's own are {', '.join(t for t, _ in found.untranslated)}")


def _translation_form(action_id: str, language: str, found: ActionView) -> Form:
    with container().engine.connect() as conn:
        row = conn.execute(select(action_translations).where(
            action_translations.c.action_id == action_id,
            action_translations.c.language == language)).one_or_none()
    if row is None:
        return Form(values={}, asks=["" for _ in found.document["asks"]])
    return Form(values={name: getattr(row, name) for name in (
        "title", "summary", "body", "additional_information")}, asks=list(row.asks))


def _new_page(case_id: str, form: Form) -> str:
    return render_console("console/editor/new.html", case_id=case_id, form=form,
                          locales=LOCALES)


def _translation_page(found: ActionView, language: str, form: Form) -> str:
    return render_console("console/editor/translation.html", action=found, form=form,
                          language=language, language_name=language_name(language, "en"))

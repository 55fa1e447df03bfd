"""The HTTP API under /api/v1, documented as OpenAPI 3 at /api/openapi.json."""

from __future__ import annotations

import http

import marshmallow as ma
import swagger_ui_bundle
from flask import Flask, Response, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import HTTPException
from werkzeug.routing import UnicodeConverter

from campaign.web.api.case_schemas import OCCURRED_FORMS
from campaign.web.api.responses import OperationFacts, path_segment, response_for, storable_text
from campaign.web.problems import from_http_exception

SWAGGER_ASSETS = "/api/docs/assets/"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, the body of every error."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Machine-readable reason, e.g. action_closed"})
    errors = ma.fields.List(ma.fields.Dict(), metadata={"description": "One entry per bad field"})


class ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, answering and documenting errors as problem+json.

    No `default` response: each operation lists the statuses it answers (responses.py).
    """

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_http_exception(error)

    def _register_responses(self) -> None:
        self.spec.components.schema("Problem", schema=self.ERROR_SCHEMA)
        for status in http.HTTPStatus:
            self.spec.components.response(status.name, response_for(status), lazy=True)


API_CONFIG = {
    "API_TITLE": "Urgent action campaigns",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": SWAGGER_ASSETS,  # served from this app: the docs work offline
}

SECURITY_SCHEMES = {
    "campaignerToken": {"type": "http", "scheme": "bearer",
                        "description": "Campaigner API token (`campaign tokens create`)."},
    "supporterToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                       "description": "`Supporter <token>` from a signed supporter link."},
    "partnerKey": {"type": "http", "scheme": "bearer",
                   "description": "Partner API key, shown once when the partner is registered."},
    "partnerSignature": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                         "description": "Standard Webhooks signature with the partner's "
                                        "secret, with webhook-id and webhook-timestamp."},
}


def init_api(app: Flask) -> ProblemApi:
    """Register the API blueprints, the spec and the offline docs on `app`."""
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [OperationFacts()]})
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    api.register_converter(UnicodeConverter, path_segment)
    api.ma_plugin.converter.add_attribute_function(storable_text)
    for name, form in OCCURRED_FORMS.items():
        api.spec.components.schema(name, schema=form)
    assets = swagger_ui_bundle.swagger_ui_path

    @app.get(SWAGGER_ASSETS + "<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(assets, filename, max_age=86400)

    from campaign.web.api import actions, cases, pledges, sendgrid_webhook, supporters, tokens

    for module in (cases, actions, tokens, supporters, pledges, sendgrid_webhook):
        api.register_blueprint(module.blueprint)
    from campaign.web.api import feed, partner_inbound, partners

    for module in (partners, partner_inbound, feed):
        api.register_blueprint(module.blueprint)
    from campaign.web.api import (
        action_mail,
        audit,
        case_overview,
        dashboard,
        mail_failures,
        mailings,
        partner_deliveries,
        partner_health,
        subscriptions,
    )

    for module in (partner_deliveries, partner_health, subscriptions, mail_failures, dashboard,
                   mailings, case_overview, audit, action_mail):
        api.register_blueprint(module.blueprint)
    return api

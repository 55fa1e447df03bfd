"""Security headers on every response: a strict CSP, no framing, no sniffing, no referrer.

Supporter pages carry signed tokens in their URLs: `Referrer-Policy: no-referrer` keeps
them out of any Referer header, and `frame-ancestors 'none'` out of other sites' frames.
The pages run no inline script and carry no inline style (their stylesheet is
/static/pages.css, their one script /static/join.js), so `default-src 'self'` costs them
nothing.

The one exception to `frame-ancestors 'none'` is the public sign-up page and its answers
(`allow_framing`): sections embed it on their own websites. It holds no token and acts for
nobody until its confirmation link is clicked, so being framed puts nobody at risk.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, g, request

POLICY = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
FRAMEABLE_POLICY = POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: bytes) -> str:
    """The Swagger UI page's policy: the strict one, plus the two things Swagger UI needs.

    Its one inline <script> (the config that starts Swagger UI) runs by its SHA-256 hash,
    never by 'unsafe-inline'; and its icons are data: SVG images. Nothing else is loosened:
    its styles come from its own stylesheet and React's style properties, which a policy
    does not block. (Checked in Chromium with every operation expanded: no violation.)
    """
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                      for script in _INLINE_SCRIPT.findall(page))
    return f"{POLICY}; script-src 'self' {hashes}; img-src 'self' data:"


def allow_framing() -> None:
    """Let any site frame this request's response (a `before_request` hook of the sign-up
    page's blueprint); every other response stays unframeable."""
    g.frameable = True


def own_policy(policy: str) -> None:
    """Send `policy` instead of the usual one with this request's response: the console's
    e-mail preview, shown in a sandboxed frame of the console's own pages, sets a stricter one
    (no script, no request anywhere) that lets only the console frame it."""
    g.content_policy = policy


def register_security_headers(app: Flask) -> None:
    """Send the headers on every response of `app`, JSON and problems included."""

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint == DOCS_ENDPOINT and not response.direct_passthrough:
            policy = docs_policy(response.get_data())
        elif g.get("content_policy"):
            policy = g.content_policy
        elif g.get("frameable"):
            policy = FRAMEABLE_POLICY
        else:
            policy = POLICY
        response.headers["Content-Security-Policy"] = policy
        return response

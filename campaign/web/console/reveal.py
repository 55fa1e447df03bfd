"""Showing a new credential exactly once, after the redirect that follows its POST.

A secret made by a POST must survive one redirect (POST, then 303, then GET) and no more:
a reload of the page that showed it must not show it again, nor make a new one. It rides
in the console's session cookie for that one step, encrypted (AES-GCM, a key derived from
SECRET_KEY, bound to the console session and to what it is), and the GET takes it out.
Flask's session is only signed, so it is never put there in clear.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, session

from events.personal_data import derive_key

REVEAL_KEY = "console_reveal"
NONCE_BYTES = 12


def keep_once(session_id: str, what: str, secret: str) -> None:
    """Keep `secret` for the next page of this console session to show once."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, secret.encode(), _context(session_id, what))
    session[REVEAL_KEY] = {"what": what, "sealed": base64.b64encode(nonce + sealed).decode()}


def take_once(session_id: str, what: str) -> str | None:
    """The secret kept for this page, removed as it is read; None when there is none."""
    kept = session.get(REVEAL_KEY)
    if not isinstance(kept, dict) or kept.get("what") != what:
        return None
    session.pop(REVEAL_KEY, None)
    try:
        raw = base64.b64decode(str(kept.get("sealed", "")))
    except ValueError:
        return None
    for cipher in _ciphers():  # kept just before SECRET_KEY was replaced: an older one
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                  _context(session_id, what)).decode()
        except InvalidTag:
            continue
    return None


def _cipher() -> AESGCM:
    return _ciphers()[0]


def _ciphers() -> list[AESGCM]:
    """One cipher per secret of the key ring, newest first (Flask's own key and fallbacks)."""
    config = current_app.config
    secrets = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return [AESGCM(derive_key(str(secret), b"console-reveal/v1")) for secret in secrets]


def _context(session_id: str, what: str) -> bytes:
    return f"{session_id}\x00{what}".encode()

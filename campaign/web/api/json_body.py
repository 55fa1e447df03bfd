"""JSON request bodies: only `application/json` is read, and never nested beyond MAX_DEPTH.

Python's JSON parser recurses once per level, so a body of 5,000 brackets ends in a
RecursionError. The nesting is counted on the raw bytes before anything parses them: no
document of ours nests more than a handful of levels, and the count cannot recurse.
Every JSON body goes through here: the webargs parser behind every `arguments` schema,
the two signed webhooks, and Flask's own `request.get_json`.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

MAX_DEPTH = 64
# A whole string, closed or running to the end: it always matches at a quote, so the
# substitution never retries inside one (a pattern that could fail would be quadratic).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_A_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes


class TooDeep(BadRequest):
    """Raised when a JSON document nests deeper than MAX_DEPTH."""

    description = f"the JSON body nests deeper than {MAX_DEPTH} levels"


def check_depth(raw: bytes | str, limit: int = MAX_DEPTH) -> None:
    """TooDeep when arrays and objects in `raw` nest more than `limit` levels.

    Strings are dropped (their brackets do not count), every other bracket becomes +1 or -1,
    and the deepest running sum is the deepest the parser could go: a stray closing bracket
    stops it before. It all runs in C, in time linear in the body, whatever its shape.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    steps = array("b", _STRING.sub(b"", data).translate(_STEP, _NOT_A_BRACKET))
    if max(accumulate(steps), default=0) > limit:
        raise TooDeep()


def parse(raw: bytes | str) -> Any:
    """The JSON document in `raw`: TooDeep (400) first, then ValueError if it is not JSON."""
    check_depth(raw)
    return json.loads(raw)


def require_json(request: flask.Request) -> None:
    """415 when the request carries a body whose Content-Type is not JSON."""
    if not is_json_request(request) and request.get_data(cache=True):
        raise UnsupportedMediaType(
            f"the body must be sent as application/json, not {request.mimetype or 'untyped'}")


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, refusing other content types (415) and deep nesting (400).

    Without this, a text/plain body reads as "missing" and gets a 422 for every field.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        """One instance per schema class, built on first use (webargs builds one per
        request); loading keeps no state in the instance."""
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            found = self._schemas.get(argmap)
            if found is None:  # two threads may both build one: either is as good
                found = self._schemas[argmap] = argmap()
            return found
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        require_json(req)
        if not is_json_request(req):
            return core.missing  # no body at all: the schema names each missing field
        raw = req.get_data(cache=True)
        check_depth(raw)
        return core.parse_json(raw)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with the JSON body parser (responses.py documents what a
    JSON body can get: 400, 413, 415, 422)."""

    ARGUMENTS_PARSER = JsonBodyParser()


class DepthCheckedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, counting the nesting before `request.get_json` parses."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        check_depth(s)
        return super().loads(s, **kwargs)

"""What a guard decorator demands, written into the OpenAPI operation of the view it guards."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def documented(guarded: Callable[..., Any], view: F, doc: dict[str, Any]) -> F:
    """`guarded` with `view`'s operation plus `doc` (flask-smorest's `_apidoc`).

    Dicts (responses) are merged, the view's own entries winning; lists (parameters,
    security) are joined, the guard's first, each entry once; anything else is set unless
    the view set it. The copy keeps
    the wrapped view's own documentation untouched.
    """
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    for key, value in doc.items():
        if isinstance(value, dict):
            manual[key] = {**value, **manual.get(key, {})}
        elif isinstance(value, list):
            joined = [*value, *manual.get(key, [])]
            manual[key] = [item for n, item in enumerate(joined) if item not in joined[:n]]
        else:
            manual.setdefault(key, value)
    guarded._apidoc = apidoc  # type: ignore[attr-defined]
    return cast(F, guarded)

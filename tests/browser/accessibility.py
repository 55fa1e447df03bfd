"""Accessibility: axe-core, vendored (vendor/README.md), run inside the page under test.

The pages' Content-Security-Policy forbids inline scripts, and `page.add_script_tag` adds
its script inline, so it is blocked unless the context is made with `bypass_csp=True`.
That would test every page without the policy it has in production (an inline script a
page relied on would pass here and fail for supporters). So axe's source is evaluated
through the DevTools protocol instead, which a page's CSP does not govern: the page keeps
its real policy, and axe still runs in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Frame, Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
_RUN = """async () => {
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations;
}"""


def axe_violations(page: Page | Frame) -> list[dict[str, Any]]:
    """Every axe-core violation on what `page` shows now, of any impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(_RUN)
    return violations


def assert_accessible(page: Page | Frame) -> None:
    """Fail when axe-core finds a serious or critical violation, listing each with where."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"accessibility violations on {page.url}:\n" + "\n".join(
        describe(v) for v in failing)


def describe(violation: dict[str, Any]) -> str:
    """One violation as a reader can act on it: rule, impact, help, and the elements."""
    where = "\n".join(f"      {' '.join(map(str, node['target']))}: {node['html'][:160]}"
                      for node in violation["nodes"][:5])
    more = len(violation["nodes"]) - 5
    return (f"  {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    {violation['helpUrl']}\n{where}" + (f"\n      … and {more} more" if more > 0
                                                      else ""))

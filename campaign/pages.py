"""The few plain HTML pages supporters reach from links in their e-mail.

A link opened in a browser shows a page with one button; only the button's POST acts.
Mail scanners GET every URL in a message, and must not confirm or unsubscribe anyone.
"""

from __future__ import annotations

from flask import Response, render_template_string

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 2em auto">
<h1>{{ title }}</h1><p>{{ message }}</p>
{% if button %}<form method="post">{% for name, value in fields %}<input type="hidden"
name="{{ name }}" value="{{ value }}">{% endfor %}
<button type="submit">{{ button }}</button></form>{% endif %}
</body></html>"""


def page(status: int, title: str, message: str, button: str | None = None,
         fields: tuple[tuple[str, str], ...] = ()) -> Response:
    """A page with a title, a message and, optionally, a form with one button."""
    body = render_template_string(PAGE, title=title, message=message, button=button,
                                  fields=fields)
    return Response(body, status=status, mimetype="text/html")

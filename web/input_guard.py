"""Refuse a request whose form fields or query carry a NUL character (U+0000) before any page or
API call reads them: PostgreSQL's text columns cannot keep one, so a comment, a note or a name with
it failed there with a database error, a 500 (SQLite kept it). The JSON API's bodies are checked
where they are read (web/api.py `_body`), the engine's data by engine/forms.py `refuse_nul`."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _

from engine.errors import Invalid
from engine.forms import refuse_nul, refuse_nul_within

from .i18n import say
from .refusals import back_or

WHAT = ("提交的内容", "what was sent")


def install(app: Flask) -> None:
    @app.before_request
    def _no_nul():
        try:
            for values in (request.args, request.form):
                refuse_nul([*values.keys(), *(v for key in values for v in values.getlist(key))], WHAT)
        except Invalid as exc:
            return _refused(exc)
        return None


def _refused(exc: Invalid):
    from . import api  # web/api.py reads its bodies through check_json below
    if api.wants_json():
        return api.refusal(exc)
    return render_template("error.html", status=400, title=say(exc.message),
                           advice=_("请返回上一页，刷新后再提交一次。"), back=back_or(None)), 400


def check_json(body) -> None:
    """The same for a JSON body, at every depth."""
    refuse_nul_within(body, WHAT)

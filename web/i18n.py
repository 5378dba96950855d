"""Which language a page speaks, and the engine's messages in it.

Chinese is the default, whatever the browser asks for: the people using reformflow work in it.
English is a choice a person makes (the link in the page's header), kept in their session.
Page texts are written in Chinese in the templates and translated to English by the catalogue
in web/translations/en (Flask-Babel). The engine's refusals and notices carry both languages
already, Chinese first with the English in brackets (`任务 3 已被 li 认领 (already claimed by li)`);
`say` shows the half the page speaks.
"""
from __future__ import annotations

import re

from flask import Flask, request, session
from flask_babel import get_locale, get_translations, lazy_gettext as _l
from jinja2 import pass_context
from markupsafe import Markup, escape

from engine import display

from . import back

DEFAULT = "zh"
LANGUAGES = {"zh": "中文", "en": "English"}


def locale() -> str:
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT


def current() -> str:
    return str(get_locale() or DEFAULT)


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in text)


def split(message: str) -> tuple[str, str | None]:
    """(Chinese, English) of an engine message `中文 (english)`; English None when the message is
    not written that way (it is then shown whole in both languages)."""
    text = message.strip()
    if not text.endswith(")"):
        return text, None
    depth = 0
    for at in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[at], 0)
        if depth == 0:
            zh, en = text[:at].rstrip(), text[at + 1:-1].strip()
            # the English may quote names given in Chinese (a form's labels): “退回理由” is required
            if zh and en and _has_cjk(zh) and not _has_cjk(re.sub(r"“[^”]*”", "", en)):
                return zh, en
            return text, None
    return text, None


def say(message: str | None) -> str:
    """An engine message in the page's language."""
    if not message:
        return ""
    zh, en = split(str(message))
    return en if en is not None and current() == "en" else zh


def sentence(text: str) -> str:
    """A message shown as a sentence of its own (a refusal at the top of the page): on an English
    page its first letter a capital and a full stop at its end, as the engine's English half
    starts in lower case and ends without one."""
    if current() != "en" or not text:
        return text
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?", "…")) else ".")


def _as_text(gettext):
    """A template's translated text is text, not HTML: Jinja's i18n extension marks it safe as it
    is, so a quote in an English msgstr ended an attribute (aria-label="Pick task 3 "…"").
    Escaped here; the values put into it are escaped by Jinja as before."""
    @pass_context
    def call(context, *args):
        text = gettext(get_translations())(*args)
        return escape(text) if context.eval_ctx.autoescape else text
    return call


def zh(value):
    """A value from the data (a plan's title, a step's or a person's name, what was typed) marked
    as Chinese on an English page (WCAG 3.1.2), so that a screen reader reads it with a Chinese
    voice and not letter by letter; on a Chinese page, and for a value with no Chinese in it, as
    it is. Only in element text: an attribute cannot hold a span."""
    if value is None or current() != "en" or not _has_cjk(str(value)):
        return value
    return Markup('<span lang="zh-CN">%s</span>') % value


def svg_named(svg: str, name: str, described_by: str) -> Markup:
    """A drawn diagram (engine/diagram_svg.py, escaped there) named in the page's language and
    described by the element of id `described_by` (its steps in words): the opening tag's
    aria-label replaced, aria-describedby added."""
    head, sep, rest = svg.partition(">")
    head = re.sub(r' aria-label="[^"]*"', "", head)
    return Markup(f'{head} aria-label="{escape(name)}" aria-describedby="{escape(described_by)}"{sep}{rest}')


def page_day(value) -> str:
    """A date as the page writes it (2026年12月5日 on a Chinese page); a value that is not one
    (a form's text from before its dates were checked) as it is, not a broken page."""
    return display.day_or_as_is(value, current() == "zh") if value else ""


def install(app: Flask) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=_as_text(lambda t: t.ugettext), ngettext=_as_text(lambda t: t.ungettext),
        pgettext=_as_text(lambda t: t.upgettext), npgettext=_as_text(lambda t: t.unpgettext), newstyle=True)
    app.jinja_env.filters["say"] = say
    # dates as a person reads them: 2026年12月5日 16:50 on a Chinese page, ISO on an English one
    # (files, the API and the command line keep ISO: engine/display.py's default)
    app.jinja_env.filters["minute"] = lambda v: display.minute(v, current() == "zh") if v else ""
    app.jinja_env.filters["deadline"] = lambda v: display.deadline(v, current() == "zh") if v else ""
    app.jinja_env.filters["day"] = page_day
    app.jinja_env.filters["quarter"] = lambda v: display.quarter(v, current() == "zh") if v else ""
    app.jinja_env.filters["svg_named"] = svg_named
    app.jinja_env.filters["zh"] = zh
    app.jinja_env.filters["shortened"] = lambda v: display.shortened(v, current() == "zh")
    app.jinja_env.filters["step"] = lambda task: display.step(task["name"], task.get("subject"))

    @app.context_processor
    def _languages():
        return {"languages": LANGUAGES, "language": current(), "back_page": back.page, "status_names": STATUS_NAMES,
                "plan_status_names": PLAN_STATUS_NAMES}


STATUS_NAMES = {"open": _l("待认领"), "claimed": _l("办理中"), "completed": _l("已办结"), "cancelled": _l("已撤销")}
PLAN_STATUS_NAMES = {"running": _l("办理中"), "completed": _l("已办结"), "cancelled": _l("已终止"), "error": _l("出错")}

"""What a form field asks for, said under it in the page's language: its range as it stands now
(`不晚于 2026年2月20日（今天）`), its length limits, and the rule in words the diagram gives
(`rangeHint`). The command line's `reformflow task` says the same (engine/cli/tasks.py _show_form);
the engine refuses a value outside them on submit with its own message (engine/forms.py)."""
from __future__ import annotations

from flask_babel import gettext as _

from engine import display
from engine.expressions import is_wrapped
from engine.forms import bound_key

from . import i18n


def _common_bounds() -> dict[str, str]:
    # the bounds diagrams write most, said as a person would (as engine/forms.py names them)
    return {"today()": _("今天"), "addDays(today(),1)": _("明天"), "addDays(today(),-1)": _("昨天")}


def hints(field: dict, bounds: dict, labels: dict[str, str]) -> list[str]:
    """Hints for `field` (forms.describe) of an open task; `bounds` its evaluated min / max
    (task_view's), `labels` the form's labels by field id."""
    c, properties = field["constraints"], field.get("properties") or {}
    if "readonly" in c:
        return []
    said, hint_used = [], False
    rule = properties.get("rangeHint")

    def words(name: str) -> str:
        nonlocal hint_used
        text = (c.get(name) or "").strip()
        if not is_wrapped(text):
            return ""
        if bounds.get(f"{name}_from"):  # where the bound came from (the earlier meeting, by name): the rule's case
            hint_used = True
            return _("（%(w)s）", w=i18n.say(bounds[f"{name}_from"]))
        inner = bound_key(text)
        common = _common_bounds().get(inner)
        if common is None and rule:
            hint_used = True
        word = common or rule or labels.get(inner)
        return _("（%(w)s）", w=word) if word else ""

    low, high = bounds.get("min"), bounds.get("max")
    date = field["type"] == "date"
    if date:  # as the page writes its other dates (2026年12月6日); the input's min / max stay ISO
        low, high = (display.day(v, i18n.current() == "zh") if v is not None else None for v in (low, high))
    if low is not None and high is not None:
        said.append(_("%(low)s%(lw)s 至 %(high)s%(hw)s", low=low, lw=words("min"), high=high, hw=words("max")))
    elif low is not None:
        said.append((_("不早于 %(v)s%(w)s", v=low, w=words("min")) if date
                     else _("不小于 %(v)s%(w)s", v=low, w=words("min"))))
    elif high is not None:
        said.append((_("不晚于 %(v)s%(w)s", v=high, w=words("max")) if date
                     else _("不大于 %(v)s%(w)s", v=high, w=words("max"))))
    # the rule in words names a computed bound; one without a value now (no meeting on a plan
    # decided by countersigning) does not apply, and its words alone would hang after the others
    idle = any(is_wrapped(text := (c.get(name) or "").strip()) and bounds.get(name) is None
               and bound_key(text) not in _common_bounds() for name in ("min", "max"))
    if rule and not hint_used and not idle:
        said.append(rule)
    if c.get("minlength"):
        said.append(_("至少 %(n)s 个字", n=c["minlength"]))
    if c.get("maxlength"):
        said.append(_("至多 %(n)s 个字", n=c["maxlength"]))
    return said


def shown(field: dict, value) -> str:
    """A value as text, for a read-only field or what was entered earlier: a choice by its name,
    a tick box as yes or no."""
    if value is None or value == "":
        return "—"
    if field["type"] == "enum":
        name = next((o["name"] for o in field["options"] if o["id"] == value), None)
        return name or str(value)
    if field["type"] == "boolean" or isinstance(value, bool):
        return _("是") if value in (True, "true") else _("否")
    if field["type"] == "date":  # as the page writes its other dates (2026年12月6日 on a Chinese page)
        return i18n.page_day(value)
    return str(value)


def recorded(value: dict) -> str:
    """A value from the trail (engine/history.py submitted_values), said as `shown` says it: a
    choice by its name, a tick box as yes or no."""
    if value["option"]:
        return value["option"]
    v = value["value"]
    # the trail keeps no field types: a value written as a date (2026-10-27) is a date field's
    kind = "boolean" if isinstance(v, bool) else "date" if display.is_iso_day(v) else "string"
    return shown({"type": kind}, v)

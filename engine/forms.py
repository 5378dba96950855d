"""Validate submitted form data against a user task's camunda:formData.

Every field on the form is written to the process, so gateway conditions never meet an
undefined variable. A required field must be given in this submission: a value left over from
an earlier pass round a loop does not count (a reviewer must decide afresh). A field left out
keeps the variable's current value (like Camunda Tasklist's prefilled forms), else its
default, else None — unless the field carries the property `keep` = `false`
(`<camunda:property id="keep" value="false" />`), for reasons and remarks that belong to one
decision only and must not carry over to the next pass. Fields that are not
on the form are refused: a task may only change what its form shows.
A date or long field's `min` / `max` may be an expression (`${issueDate}`, `${today()}`): the
caller evaluates it (`limit`) with this submission's values over the plan's, so a filing date
cannot precede the issue date nor lie in the future.
Messages are Chinese (the interface language) with a short English gloss in brackets; `details`
carry a code per field for callers that translate.
"""
from __future__ import annotations

import json

import re
from datetime import date, datetime
from typing import Callable

from .deadlines import TimerValueError, parse_date_or_datetime
from .errors import Invalid, ReformflowError
from .expressions import MAX_DATA_DEPTH, ExpressionError, compile_expression, is_wrapped
from .workdays import as_local_date

# evaluates a constraint's ${...} config against the form's values over the plan's variables;
# its `where`, if it has one, names the diagram and element in a refusal (runtime.form_limit)
Limit = Callable[[str, dict], object]

SUPPORTED_TYPES = ("string", "long", "boolean", "date", "enum")
SUPPORTED_CONSTRAINTS = ("required", "readonly", "min", "max", "minlength", "maxlength")
_TRUE = {"true", "1", "on", "yes", "是"}
_FALSE = {"false", "0", "off", "no", "否", ""}


def describe(form) -> list[dict]:
    """The form as plain data, for the inbox row and the web page."""
    fields = []
    for f in getattr(form, "fields", []) or []:
        fields.append({
            "id": f.id, "label": f.label or f.id, "type": f.type,
            "default": f.default_value,
            "options": [{"id": o.id, "name": o.name} for o in getattr(f, "options", [])],
            "constraints": {v.name: v.config for v in f.validation},
            "properties": {p.id: p.value for p in f.properties},
        })
    return fields


def describe_xml(element, camunda_ns: str) -> list[dict]:
    """The same description, read straight from an element's camunda:formData (a start
    event's form, which SpiffWorkflow's parser does not keep)."""
    c = f"{{{camunda_ns}}}"
    fields = []
    for f in element.iterfind(f"./{{*}}extensionElements/{c}formData/{c}formField"):
        fields.append({
            "id": f.get("id"), "label": f.get("label") or f.get("id"), "type": f.get("type"),
            "default": f.get("defaultValue"),
            "options": [{"id": v.get("id"), "name": v.get("name")} for v in f.iterfind(f"./{c}value")],
            "constraints": {v.get("name"): v.get("config") for v in f.iterfind(f"./{c}validation/{c}constraint")},
            "properties": {p.get("id"): p.get("value") for p in f.iterfind(f"./{c}properties/{c}property")},
        })
    return fields


MAX_DATA_BYTES = 64 * 1024
# MAX_DATA_DEPTH (32): engine/expressions.py, where a script's values are held to it too


def check_submitted(data: dict, what: tuple[str, str]) -> None:
    """Refuse submitted data (start, form or event data) that could not be kept: not JSON, more
    than 64 KB as JSON, or lists and objects nested more than MAX_DATA_DEPTH deep (900 deep fit
    in 64 KB, started a plan, and then every later action on it hit Python's recursion limit)."""
    try:
        size = len(json.dumps(data, ensure_ascii=False).encode())
    except (TypeError, ValueError) as exc:
        raise Invalid(f"{what[0]}无法保存为 JSON ({what[1]} is not JSON: {exc})") from None
    if size > MAX_DATA_BYTES:
        raise Invalid(f"{what[0]}过大 ({what[1]} larger than 64 KB)")
    for depth, level in enumerate(_levels(data)):
        if depth > MAX_DATA_DEPTH:
            raise Invalid(f"{what[0]}嵌套超过 {MAX_DATA_DEPTH} 层 ({what[1]} is nested more than {MAX_DATA_DEPTH} deep)")
        refuse_nul(_texts(level), what)


def _levels(data):
    """The values of `data` level by level: [data], then what its lists and objects hold, …"""
    level = [data]
    while level:
        yield level
        level = [v for item in level if isinstance(item, (dict, list))
                 for v in (item.values() if isinstance(item, dict) else item)]


def _texts(level: list) -> list:
    """A level's values and the keys of its objects: where text can be."""
    return [*level, *(k for item in level if isinstance(item, dict) for k in item)]


def refuse_nul_within(data, what: tuple[str, str]) -> None:
    """refuse_nul at every depth of JSON data (a request body, already bounded in size)."""
    for level in _levels(data):
        refuse_nul(_texts(level), what)


def refuse_surrogates(data, where: str | None = None) -> None:
    """Refuse text anywhere in `data` (JSON data, or a command line's text) holding a lone UTF-16
    surrogate: "\\ud800" is valid JSON, and a command line's byte that is not UTF-8 arrives as one
    (U+DC80–U+DCFF). Half a character, no column, file or digest can keep it as UTF-8: a note or a
    user name with it failed deep in the engine, a traceback. `where` names data (`--data`); the
    message says where in it (`data.leadUnit`, `values[0]`) and which character."""
    stack = [(where, data)]
    while stack:
        place, value = stack.pop()
        if isinstance(value, dict):
            for key, inner in value.items():
                field = key if place is None else f"{place}.{key}"
                stack += [(field, key), (field, inner)]  # a field's name is text too
        elif isinstance(value, (list, tuple)):
            stack += [(f"{place}[{i}]", inner) for i, inner in enumerate(value)]
        elif isinstance(value, str) and (half := next((c for c in value if "\ud800" <= c <= "\udfff"), None)):
            shown = str(place).encode("utf-8", "backslashreplace").decode()
            raise Invalid(f"{shown} 含有无效字符（U+{ord(half):04X}：单独的 UTF-16 代理项，或不是 UTF-8 编码的字节），请删去后重试 "
                          f"({shown} has an invalid character, U+{ord(half):04X}: a lone UTF-16 surrogate, or a byte "
                          "that is not UTF-8: remove it and try again)")


NUL = "\x00"


def refuse_nul(values, what: tuple[str, str]) -> None:
    """Refuse text holding a NUL character (U+0000): PostgreSQL's text columns cannot keep one, so
    a title, a subject or a note with it failed there with a database error (SQLite kept it)."""
    if any(isinstance(v, str) and NUL in v for v in values):
        raise Invalid(f"{what[0]}含有空字符（U+0000），无法保存；请删去 ({what[1]} holds a NUL character (U+0000), "
                      "which cannot be kept: remove it)")


def _label(field: dict) -> str:
    return f"「{field['label']}」({field['id']})"


def _coerce(field: dict, value):
    """Turn a submitted value (JSON or a web form string) into the field's type. Text is what a
    web form posts, so a long, boolean or date may come as text; nothing else is converted (a
    JSON object is not a string, 1.5 is not a long)."""
    kind = field["type"]
    if kind in ("string", "enum"):
        if isinstance(value, str):
            return value
        raise ValueError("须为文本 (must be text)" if kind == "string" else _choices(field))
    if kind == "long":
        # the limit of an expression's integers (and of the 18 digits a form may type)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
            return value
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
            return int(value.strip())
        raise ValueError("须为整数（不超过 18 位） (must be a whole number below 10^18)")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("须为是/否（true/false） (must be true or false)")
    if kind == "date":
        # exactly YYYY-MM-DD: fromisoformat alone also takes 20260101
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError("须为日期，格式 YYYY-MM-DD (must be a date, YYYY-MM-DD)")
    raise ValueError(f"不支持的字段类型 {kind} (unsupported field type)")


def _choices(field: dict) -> str:
    allowed = "、".join(f"{o['id']}（{o['name']}）" for o in field["options"])
    return f"取值须为以下之一：{allowed} (must be one of: {', '.join(o['id'] for o in field['options'])})"


def _check_constraints(field: dict, value, c: dict | None = None) -> str | None:
    """The first constraint `value` breaks (of `c`: the field's literal ones by default)."""
    c = {k: v for k, v in field["constraints"].items() if not is_wrapped(v or "")} if c is None else c
    if value is None:
        return None
    if field["type"] == "enum" and value not in {o["id"] for o in field["options"]}:
        return _choices(field)
    if field["type"] == "string":
        if "minlength" in c and len(value) < int(c["minlength"]):
            return f"至少 {c['minlength']} 个字 (at least {c['minlength']} characters)"
        if "maxlength" in c and len(value) > int(c["maxlength"]):
            return f"最多 {c['maxlength']} 个字 (at most {c['maxlength']} characters)"
    if field["type"] == "long":
        if "min" in c and value < int(c["min"]):
            return f"不得小于 {c['min']} (at least {c['min']})"
        if "max" in c and value > int(c["max"]):
            return f"不得大于 {c['max']} (at most {c['max']})"
    if field["type"] == "date":
        if "min" in c and c["min"] and value < c["min"]:
            return f"不得早于 {c['min']} (not before {c['min']})"
        if "max" in c and c["max"] and value > c["max"]:
            return f"不得晚于 {c['max']} (not after {c['max']})"
    return None


def _check_computed(field: dict, value, values: dict, limit: Limit | None, labels: dict[str, str]) -> str | None:
    """The field's min / max written as expressions, evaluated now; a bound without a value
    (an empty variable) does not apply. Said in words where the bound is a common one (今天),
    else with the field's `rangeHint` property where the diagram gives one (the rule in words:
    三项之和须等于举措总数), else with the expression, which names what it is."""
    if value is None or limit is None:
        return None
    for name, text in _expression_bounds(field):
        bound = _as_bound(field, name, text, limit(text, values), getattr(limit, "where", ""))
        error = None if bound is None else _check_constraints(field, value, {name: bound})
        if error:
            zh, en = error[:-1].split(" (", 1)
            hint = field["properties"].get("rangeHint")
            # the English as informative as the Chinese, and never the expression: the field's
            # label and the bound in words (where it came from, today, the rangeHint, the label
            # of the field it names)
            source = bound_source(text, bound, getattr(limit, "before", {}), labels, getattr(limit, "recorded_by", None))
            said = source[1] if source else _bound_in_english(text, labels, hint)
            return (f"{zh}（{source[0] if source else _bound_in_words(text, labels, hint)}） "
                    f"(“{field.get('label') or field['id']}” {en}{f' ({said})' if said else ''})")
    return None


# previous('meetingDate') in a bound (engine/scripting.py BOUND_FUNCTION_NAMES), the name it reads
_PREVIOUS = re.compile(r"\bprevious\(\s*['\"]([^\W\d]\w*)['\"]\s*\)")


def previous_names(text: str) -> list[str]:
    """The names a bound's previous('…') calls read."""
    return _PREVIOUS.findall(text)


def bound_source(text: str, bound, before, labels: dict[str, str], recorded_by=None) -> tuple[str, str] | None:
    """(Chinese, English) words for a computed date bound that is a value the plan held before
    this submission: what previous('x') read, with the step that recorded it where
    `recorded_by(name, value)` finds it (此前「政府常务会议审议」记录的会议日期: the earlier meeting,
    by name). None for any other bound (said as before)."""
    for name in previous_names(text):
        if _day(before.get(name)) == bound:
            label = labels.get(name, name)
            step = recorded_by(name, before.get(name)) if recorded_by else None
            if step:
                return f"此前「{step}」记录的{label}", f"the “{label}” recorded at “{step}”"
            return f"此前记录的{label}", f"the “{label}” recorded before"
    return None


def _day(value) -> str | None:
    """A value as the ISO day a date bound compares (None if it is none)."""
    if isinstance(value, str):
        try:
            value = parse_date_or_datetime(value)
        except TimerValueError:
            return None
    return as_local_date(value).isoformat() if isinstance(value, (date, datetime)) else None


# the bounds diagrams write most, as a person would say them
_BOUND_WORDS = {"today()": "今天", "addDays(today(),1)": "明天", "addDays(today(),-1)": "昨天"}


def bound_key(text: str) -> str:
    """A bound's ${...} without its braces and spaces: `${addDays(today(), 1)}` is addDays(today(),1),
    as the common bounds are looked up (here and in web/field_hints.py)."""
    return "".join(text.strip()[2:-1].split())


def _bound_in_words(text: str, labels: dict[str, str], hint: str | None = None) -> str:
    """`${today()}` is 今天, else the field's rangeHint (the rule in words: a bound read from
    another task's field has no label here), else `${issueDate}` is the label of the form's field
    issueDate (印发日期): a drafter told 不得晚于 2026-12-04（${today()}） reads code. Anything else
    stays as written."""
    inner = bound_key(text)
    return _BOUND_WORDS.get(inner) or hint or labels.get(inner) or text


_BOUND_WORDS_EN = {"today()": "today", "addDays(today(),1)": "tomorrow", "addDays(today(),-1)": "yesterday"}


def _bound_in_english(text: str, labels: dict[str, str], hint: str | None = None) -> str | None:
    """_bound_in_words for the English half: today, else the rangeHint or the named field's label
    quoted as Chinese (“决定暂缓的会议日期当天或之后”), else nothing (an expression means nothing
    to the person filling in the form)."""
    inner = bound_key(text)
    words = _BOUND_WORDS_EN.get(inner) or hint or labels.get(inner)
    return None if not words else words if inner in _BOUND_WORDS_EN else f"“{words}”"


def _reads(field: dict, names: set[str], texts=None) -> bool:
    """Whether the field's min / max expressions (or the given `texts`) read any of these variables."""
    if not names:
        return False
    from .scripting import BOUND_FUNCTION_NAMES
    for text in texts if texts is not None else (text for _name, text in _expression_bounds(field)):
        try:
            if compile_expression(text, BOUND_FUNCTION_NAMES).names & names:
                return True
        except ExpressionError:
            pass  # said when it is evaluated
    return False


def _expression_bounds(field: dict):
    """(min or max, its ${...} text) for each bound of the field written as an expression."""
    for name in ("min", "max"):
        text = (field["constraints"].get(name) or "").strip()
        if is_wrapped(text):
            yield name, text


def _as_bound(field: dict, name: str, text: str, value, where: str = ""):
    if value is None or value == "":
        return None
    if field["type"] == "date":
        # an instant counts by its business (Beijing) date, as date() and the deadlines count it:
        # 2026-03-09T20:00Z is 10 March; text that is no date (2026-02-30) is no bound
        if isinstance(value, str):
            try:
                value = parse_date_or_datetime(value)
            except TimerValueError:
                pass
        if isinstance(value, (date, datetime)):
            return as_local_date(value).isoformat()
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    kind = ("日期", "date") if field["type"] == "date" else ("整数", "whole number")
    raise Invalid(f"{where}表单字段 {_label(field)} 的约束 {name} = {text} 的值 {value!r} 不是{kind[0]}，请流程分析人员更正"
                  f"流程图 (the form's {name} constraint {text} gave {value!r}, not a {kind[1]}; the diagram must be "
                  f"corrected)")


def bounds(field: dict, variables: dict, limit: Limit, labels: dict[str, str] | None = None,
           recorded_by=None) -> dict:
    """A date or long field's min / max as they stand now, expressions evaluated, for a form to
    show (a date picker's range). A bound that cannot be evaluated yet is left out: submitting
    says what is wrong. A bound that is a value the plan held before (bound_source: the earlier
    meeting's date, by the step that recorded it) is said in `min_from` / `max_from`, "中文 (English)"."""
    shown = {}
    if field["type"] not in ("date", "long"):
        return shown
    for name in ("min", "max"):
        text = (field["constraints"].get(name) or "").strip()
        if not text:
            continue
        try:
            # nothing submitted yet: previous(name) reads what the plan holds now
            raw = limit(text, {}, variables) if is_wrapped(text) else int(text) if field["type"] == "long" else text
            value = _as_bound(field, name, text, raw)
        except (ValueError, ReformflowError):
            continue
        if value is not None:
            shown[name] = value
            source = bound_source(text, value, variables, labels or {}, recorded_by) \
                if field["type"] == "date" and is_wrapped(text) else None
            if source:
                shown[f"{name}_from"] = f"{source[0]} ({source[1]})"
    return shown


def default_error(kind: str, text: str) -> str | None:
    """Why a diagram's literal defaultValue does not fit its long, boolean or date field (None
    if it does): default_value() would drop it silently."""
    if kind not in ("long", "boolean", "date") or not text.strip():
        return None
    try:
        _coerce({"type": kind}, text)
    except ValueError as exc:
        return str(exc)
    return None


# an enum field's choices a person is asked to confirm before the form is submitted (the web's
# task page): a return, a rejection, a deferral cannot be undone. `confirm` lists value ids,
# comma-separated; `confirmText` is the sentence the question shows (engine/checks/forms.py)
CONFIRM, CONFIRM_TEXT = "confirm", "confirmText"
# which of the confirmed choices send the work back to be redone (a return: 退回修改, shown to the
# one who must redo it as such, 退回 in the inbox); the others (暂缓, 不同意) are decisions, named
# by their own names. Without it, every choice `confirm` lists is a return.
RETURNS = "returns"


def listed_ids(properties: dict, name: str) -> list[str]:
    """The value ids a field's property `name` lists, comma-separated (`confirm`, `returns`)."""
    return [part.strip() for part in (properties.get(name) or "").split(",") if part.strip()]


def confirm_ids(properties: dict) -> list[str]:
    """The value ids a field's `confirm` property lists."""
    return listed_ids(properties, CONFIRM)


def return_ids(properties: dict) -> list[str]:
    """The value ids among a field's `confirm` that are returns: those its `returns` lists, else all."""
    listed = confirm_ids(properties)
    if RETURNS not in properties:
        return listed
    returns = set(listed_ids(properties, RETURNS))
    return [value for value in listed if value in returns]


def to_confirm(fields: list[dict], values: dict) -> list[dict]:
    """The choices among `values` (as submitted, or as validate returns them) that the form's diagram asks to be
    confirmed: each with its field, the choice's id and name, the diagram's sentence, and whether it
    is a return (`returns`: the work is sent back to be redone) or another decision (暂缓, 不同意)."""
    asked = []
    for field in fields:
        value = values.get(field["id"])
        if field["type"] == "enum" and value is not None and value in confirm_ids(field["properties"]):
            name = next((o["name"] for o in field["options"] if o["id"] == value), value)
            asked.append({"field": field["id"], "label": field["label"], "value": value, "name": name,
                          "text": (field["properties"].get(CONFIRM_TEXT) or "").strip(),
                          "returns": value in return_ids(field["properties"])})
    return asked


def carries_over(field: dict) -> bool:
    """Whether a field left out keeps the variable's current value (not so with `keep` = `false`)."""
    return field["properties"].get("keep", "true").lower() != "false"


def with_plan_values(fields: list[dict], own: dict, plan: dict) -> dict:
    """A task's own data, with the plan's value for each read-only field of its form that the
    task's data does not hold. A task's data is a copy taken when its branch reached it; another
    branch may have set a variable since (the reform office's 限期报送 beside the open 报送备案),
    and a read-only field shows what the plan holds, not nothing. A value the task holds stays:
    a multi-instance item's own values, which the plan's variables hold for one item only."""
    missing = [fid for fid in readonly_missing(fields, own) if fid in plan]
    return {**own, **{fid: plan[fid] for fid in missing}} if missing else own


def readonly_missing(fields: list[dict], own: dict) -> list[str]:
    """The read-only fields of a form whose value the task's own data does not hold."""
    return [f["id"] for f in fields if "readonly" in f["constraints"] and f["id"] not in own]


def default_value(field: dict):
    if field["default"] in (None, ""):
        return None
    try:
        return _coerce(field, field["default"])
    except ValueError:
        return None


def _unchanged(field: dict, submitted, current) -> bool:
    """A read-only field sent back: a web form posts every value as text ("false", "15", ""), so
    compare it as the field's type; only a real change counts."""
    if submitted == current:
        return True
    if submitted is None or (isinstance(submitted, str) and submitted.strip() == ""):
        return current in (None, "")
    try:
        return _coerce(field, submitted) == current
    except ValueError:
        return False


def written(field: dict, raw):
    """A submitted value as `validate` writes it: nothing or blank text is None, anything else the
    field's type (ValueError if it is not)."""
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    return _coerce(field, raw)


def differing(fields: list[dict], submitted: dict, recorded: dict) -> list[dict]:
    """What a submission sent again changes against the values a completion `recorded` (as
    `validate` returned them): each editable field sent whose value, as `validate` would write it,
    is another, and each key not on the form (nothing kept it), in the form's order. A read-only
    field is not the person's to change, and a field left out is not a value they typed."""
    known = {f["id"] for f in fields}
    out = [{"id": key, "label": key} for key in submitted if key not in known]
    for field in fields:
        fid = field["id"]
        if "readonly" in field["constraints"] or fid not in submitted:
            continue
        try:
            value = written(field, submitted[fid])
        except ValueError:
            value = submitted[fid]  # not a value of its type: the first submission could not have had it
        if _plain_lines(value) != _plain_lines(recorded.get(fid)):
            out.append(field)
    return out


def _plain_lines(value):
    """Text with its line breaks as LF: a browser posts a textarea's as CR LF, a command line as LF;
    the same words either way."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def validate(fields: list[dict], submitted: dict, current: dict, limit: Limit | None = None) -> dict:
    """Return the values to write to the process, or raise Invalid listing every problem.
    `limit` evaluates min / max written as expressions (without it they are not checked)."""
    problems = []
    known = {f["id"] for f in fields}
    for key in submitted:
        if key not in known:
            problems.append({"field": key, "code": "unknown", "message": f"字段 {key} 不在本任务的表单上 (not on this form)"})
    values = {}
    for field in fields:
        fid, c = field["id"], field["constraints"]
        if "readonly" in c:
            if fid in submitted and not _unchanged(field, submitted[fid], current.get(fid, default_value(field))):
                problems.append({"field": fid, "code": "readonly", "message": f"{_label(field)} 为只读字段，不能修改 (read-only)"})
            values[fid] = current.get(fid, default_value(field))
            continue
        if fid not in submitted:
            if "required" in c:
                problems.append({"field": fid, "code": "required", "message": f"{_label(field)} 为必填项 (required)"})
                continue
            value = current.get(fid, default_value(field)) if carries_over(field) else default_value(field)
            if isinstance(value, str) and field["type"] == "string" and value.strip() == "":
                value = None
        else:
            try:
                value = written(field, submitted[fid])
            except ValueError as exc:
                problems.append({"field": fid, "code": "type", "message": f"{_label(field)} {exc}"})
                continue
        if "required" in c and value is None:
            problems.append({"field": fid, "code": "required", "message": f"{_label(field)} 为必填项 (required)"})
            continue
        error = _check_constraints(field, value)
        if error:
            problems.append({"field": fid, "code": "constraint", "message": f"{_label(field)} {error}"})
            continue
        values[fid] = value
    refused = {p["field"] for p in problems}
    labels = {f["id"]: f["label"] for f in fields if f.get("label")}
    for field in fields:  # once every value is known: a bound may name another field of the form
        fid = field["id"]
        if _required_now(field, values, refused, limit):
            problems.append({"field": fid, "code": "required", "message": _required_because(field, fields, values)})
            continue
        # a bound over a field refused above waits until that field is right: without its value it
        # cannot be computed, or would be computed from the plan's old one
        error = None if "readonly" in field["constraints"] or fid not in values or _reads(field, refused) else \
            _check_computed(field, values[fid], values, limit, labels)
        if error:
            problems.append({"field": fid, "code": "constraint", "message": f"{_label(field)} {error}"})
    if problems:
        # in the order of the form, as a person reads it; fields not on the form first
        order = {f["id"]: position for position, f in enumerate(fields)}
        problems.sort(key=lambda p: order.get(p["field"], -1))
        raise Invalid("表单有误 (form data refused)：" + "；".join(p["message"] for p in problems), details=problems)
    return values


# A field's property making it required when its expression holds over the form and the plan
# (退回理由 when 不通过 is chosen): said under the field at 提交, where the diagram's gateway would
# only send the step back to the person after it was submitted.
REQUIRED_WHEN = "requiredWhen"


def _required_now(field: dict, values: dict, refused: set[str], limit: Limit | None) -> bool:
    """Whether the field is empty though its `requiredWhen` holds. Not asked without an evaluator,
    of a read-only field, or while a field it reads was refused (it cannot be judged yet)."""
    when = field.get("properties", {}).get(REQUIRED_WHEN)
    filled = field["id"] not in values or values[field["id"]] is not None  # (refused fields are not in values)
    if not when or limit is None or "readonly" in field["constraints"] or filled or _reads(field, refused, [when]):
        return False
    return bool(limit(when, values))


def _required_because(field: dict, fields: list[dict], values: dict) -> str:
    """「法律风险说明」(legalRisk) 为必填项：审查结论为「通过」 — the form's fields the rule reads,
    with what was chosen, rather than the expression. A label that says when itself (「退回理由
    （不通过时必填）」) is not followed by 为必填项 again: 审查结论为「不通过」时须填写「退回理由（不通过时
    必填）」(returnReason). The English half names them as the form does, in quotes (a page in
    English shows it whole): fill in “退回理由（不通过时必填）” when “审查结论” is “不通过”."""
    from .scripting import FUNCTION_NAMES
    when = field["properties"][REQUIRED_WHEN]
    try:
        names = compile_expression(when, FUNCTION_NAMES).names
    except ExpressionError:
        names = set()
    read = [f for f in fields if f["id"] in names]
    chosen = "，".join(f"{f.get('label') or f['id']}为「{_shown(f, values.get(f['id']))}」" for f in read)
    def shown_en(f: dict) -> str:
        value = values.get(f["id"])
        return ("yes" if value else "no") if isinstance(value, bool) else _shown(f, value)
    given = "; ".join(f"“{f.get('label') or f['id']}” is “{shown_en(f)}”" for f in read) or "the process requires it"
    label = field.get("label") or field["id"]
    if "必填" in label:  # 「退回理由（退回时必填）」 says when already: said once, with what was chosen
        condition = f"{chosen}时" if chosen else "按流程规定"
        said_en = " and ".join(f"“{f.get('label') or f['id']}” is “{shown_en(f)}”" for f in read)
        if_en = f"when {said_en}" if read else "as the process requires"
        return f"{condition}须填写{_label(field)} (fill in “{label}” {if_en})"
    return f"{_label(field)} 为必填项：{chosen or '按流程规定'} (“{label}” is required: {given})"


def _shown(field: dict, value) -> str:
    """A value as the form shows it: an option by its name, yes / no for a box."""
    if value is True or value is False:
        return "是" if value else "否"
    return next((o["name"] for o in field.get("options", []) if o["id"] == value), str(value))


def check_variables(fields_by_id: dict[str, dict], data: dict) -> dict:
    """Start data typed like the form fields of the same name anywhere in the process, so a
    later form never meets a value of the wrong type; raise Invalid listing every problem."""
    problems, values = [], dict(data)
    for key, raw in data.items():
        field = fields_by_id.get(key)
        if field is None or raw is None:
            continue
        try:
            values[key] = _coerce(field, raw)
        except ValueError as exc:
            problems.append({"field": key, "code": "type", "message": f"{_label(field)} {exc}"})
            continue
        error = _check_constraints(field, values[key])
        if error:
            problems.append({"field": key, "code": "constraint", "message": f"{_label(field)} {error}"})
    if problems:
        raise Invalid("启动数据有误 (start data refused)：" + "；".join(p["message"] for p in problems), details=problems)
    return values

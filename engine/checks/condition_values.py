"""`rule_condition_values`: a gateway condition that fails, or gives no true/false, whatever its
form fields hold. Tried with one value of each field's type (every value of an enum or boolean),
so only what the types decide is said:

- values that do not go together (`${expertScore >= '60'}` on a long field, a date field, which
  is text, against `today()`): every plan reaching the gateway is refused there;
- a result that is not true or false (`${expertDecision}` on an enum field): Camunda reads such
  text as false, and reformflow refuses it at run time rather than take either for granted.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Iterator

from ..deadlines import deadline_functions
from ..expressions import EvaluationError, TypeMismatch
from ..workdays import WorkCalendar
from .common import Doc, field_types
from .gateways import gateway_conditions

# one value of each type as a plan holds it: a date field's value is ISO text
_SAMPLES = {"string": ["文本"], "long": [1], "date": ["2026-01-05"], "boolean": [True, False]}
_KINDS = {"string": ("文本（string）", "text (string)"), "long": ("整数（long）", "whole number (long)"),
          "date": ("日期（date，值为文本 YYYY-MM-DD）", "date (date, held as text YYYY-MM-DD)"),
          "boolean": ("是/否（boolean）", "yes/no (boolean)"), "enum": ("选项（enum）", "choice (enum)")}
MAX_TRIES = 256
# a fixed instant: the functions' results only need their types
_FUNCTIONS = deadline_functions(datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc), WorkCalendar())


def rule_condition_values(doc: Doc) -> Iterator[dict]:
    types = field_types(doc.root)
    # an enum field's value ids, as the coverage rules read them (a null where it may be left empty aside)
    enum_values = {name: [v for v in values if v is not None] for name, values in doc.domains.items()}
    for flow, text, expression in gateway_conditions(doc):
        names = sorted(expression.names)
        if not names or any(n not in types for n in names):
            continue
        samples = [enum_values.get(n) or [""] if types[n] == "enum" else _SAMPLES[types[n]] for n in names]
        tries = 1
        for values in samples:
            tries *= len(values)
        if tries > MAX_TRIES:
            continue
        said = _fields_said(names, types)
        for values in itertools.product(*samples):
            given = dict(zip(names, values))
            try:
                result = expression.evaluate(given, _FUNCTIONS)
            except TypeMismatch as exc:
                zh, en = exc.plain
                advice = _advice(names, types, text)
                yield doc.problem(flow, "condition-value", f"条件 `{text}` 无论表单填什么都无法求值：{zh}（{said[0]}），"
                                  f"方案到此都会被拒绝。{advice[0]} (condition “{text}” cannot be evaluated whatever the "
                                  f"forms hold: {en} ({said[1]}); every plan reaching it would be refused. {advice[1]})")
                break
            except EvaluationError:
                continue  # a value-dependent failure (a sample is only one value): not decided by the types
            if result is not None and not isinstance(result, bool):
                example = _comparison(names[0], types[names[0]], enum_values.get(names[0]))
                # only a value the form allows is shown as one: a text or date sample is not the plan's
                such = f"（如 {result!r}）" if types[names[0]] in ("enum", "long") else ""
                such_en = f" (such as “{result}”)" if such else ""
                yield doc.problem(flow, "condition-value", f"条件 `{text}` 的结果不是 true/false：{said[0]}，"
                                  f"它得到的是字段的值本身{such}，方案到此会被拒绝。请写成比较，例如 "
                                  f"`${{{example}}}` (condition “{text}” does not give true or false: {said[1]}, and it "
                                  f"gives the value itself{such_en}; a plan reaching it would be "
                                  f"refused. Write a comparison, such as “${{{example}}}”)")
                break


def _fields_said(names: list[str], types: dict[str, str]) -> tuple[str, str]:
    return ("，".join(f"{n} 是{_KINDS[types[n]][0]}字段" for n in names),
            "; ".join(f"{n} is a {_KINDS[types[n]][1]} field" for n in names))


def _advice(names: list[str], types: dict[str, str], text: str) -> tuple[str, str]:
    dates = [n for n in names if types[n] == "date"]
    if dates:
        return (f"日期字段与 today()、addWorkingDays() 等日期比较时，用 date() 转换：`${{date({dates[0]}) < today()}}`",
                f"Compare a date field with today(), addWorkingDays() and other dates through date(): "
                f"“${{date({dates[0]}) < today()}}”")
    if any(types[n] == "long" for n in names) and ("'" in text or '"' in text):
        return ("整数字段与数字比较，数字不加引号：写 60，不写 '60'",
                "Compare a whole-number field with a number, without quotes: 60, not '60'")
    return "请比较同一类型的值", "Compare values of the same type"


def _comparison(name: str, kind: str, values: list[str] | None) -> str:
    if kind == "enum" and values:
        return f"{name} == '{values[0]}'"
    return {"long": f"{name} > 0", "date": f"date({name}) <= today()"}.get(kind, f"{name} == '…'")


"""A short line of text someone types to name or explain something (a token's name, a
delegation's reason): trimmed, not blank, within its column, and without a control or invisible
character, which would show as nothing on a page yet differ from what anyone could type back (a
right-to-left mark reverses what follows it)."""
from __future__ import annotations

from .documents import first_hidden
from .errors import Invalid


def checked(value: str | None, *, what: str, what_en: str, most: int, example: str, example_en: str) -> str:
    """`value` trimmed, or Invalid saying what to change. `what`: the field's name (委托事由);
    `example`: what to write, for the message of a blank one."""
    value = (value or "").strip()
    if not value:
        raise Invalid(f"请填写{what}，如{example} (give the {what_en}, e.g. {example_en})")
    if len(value) > most:
        raise Invalid(f"{what}最多 {most} 个字，现有 {len(value)} 个 "
                      f"(the {what_en} is at most {most} characters, this one has {len(value)})")
    if (hidden := first_hidden(value)) is not None:
        raise Invalid(f"{what}含有控制字符或不可见字符（U+{ord(hidden):04X}），请删去后重新输入 "
                      f"(the {what_en} has a control or invisible character, U+{ord(hidden):04X}: remove it "
                      "and try again)")
    return value

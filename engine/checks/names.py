"""Names and labels shown to people hold no control or invisible character, as plan titles and
file names may not (engine/documents.py `first_hidden`): a line break in a task's name split the
CLI's lines and a mail's subject (`任务\r\nBcc: …`), a right-to-left override (U+202E) shows a
name reversed, a zero-width space makes two names look alike. Documentation and text annotations
are several lines long: line breaks and tabs stay allowed there, nothing else."""
from __future__ import annotations

from ..documents import first_hidden
from .common import BPMN, CAMUNDA, Doc, is_bpmn

# the multi-line texts, and the line breaks and tabs they may hold
_MULTILINE = {BPMN + "documentation", BPMN + "text"}
_LINE_BREAKS = str.maketrans("", "", "\n\r\t")

# (tag, attribute) -> what it is, in Chinese and English: beside every BPMN element's name
_LABELS = {
    (CAMUNDA + "formField", "label"): ("表单字段的标签", "the form field's label"),
    (CAMUNDA + "value", "name"): ("选项的名称", "the option's name"),
    (CAMUNDA + "property", "value"): ("属性的值", "the property's value"),  # rangeHint is shown on the form
    (BPMN + "categoryValue", "value"): ("分组的名称", "the group's name"),
}


def shown(text: str) -> str:
    """`text` with each control or invisible character written as <U+XXXX>, to print safely."""
    return "".join(f"<U+{ord(c):04X}>" if first_hidden(c) else c for c in text)


def _element(el):
    """The BPMN element a label or text belongs to (a form field's: its user task), as a person
    finds it in the Modeler."""
    el = el.getparent()
    while el is not None and not (is_bpmn(el) and el.get("id")):
        el = el.getparent()
    return el


def _hidden(text: str | None, multiline: bool = False) -> str | None:
    if not text:
        return None
    return first_hidden(text.translate(_LINE_BREAKS) if multiline else text)


def rule_hidden_characters(doc: Doc):
    for el in doc.root.iter():
        if not isinstance(el.tag, str):
            continue
        if is_bpmn(el) and (char := _hidden(el.get("name"))):
            yield _problem(doc, el, char, el.get("name"), ("名称", "the name"),
                           ("在 Modeler 中重新输入名称", "type the name again in the Modeler"))
        for (tag, attribute), what in _LABELS.items():
            if el.tag == tag and (char := _hidden(el.get(attribute))):
                yield _problem(doc, _element(el), char, el.get(attribute), what,
                               ("在 Modeler 中重新输入", "type it again in the Modeler"))
        if el.tag in _MULTILINE and (char := _hidden(el.text, multiline=True)):
            yield _problem(doc, _element(el), char, el.text, ("说明文字", "the documentation text"),
                           ("删去它（换行可以保留）", "delete it (line breaks may stay)"))


def _problem(doc: Doc, el, char: str, text: str, what: tuple[str, str], fix: tuple[str, str]) -> dict:
    code = f"U+{ord(char):04X}"
    quoted = shown(text)
    quoted = quoted if len(quoted) <= 60 else quoted[:57] + "…"
    return doc.problem(el, "hidden-character",
                       f"{what[0]} “{quoted}” 含有控制字符或不可见字符 {code}（如换行、从右至左覆盖符、零宽字符），"
                       f"会在页面、命令行和邮件中显示错乱或被伪装，请{fix[0]} ({what[1]} “{quoted}” has a control or "
                       f"invisible character, {code} (a line break, a right-to-left override, a zero-width "
                       f"space…), which pages, the command line and mails would show garbled or disguised: "
                       f"{fix[1]})")

"""Which names start data may give a process that has no start form: a form field of the process,
or a variable something in it reads (a condition, an assignee or due date, a timer, a script, an
expression in a property, a call activity's input). Anything else is a typo or a guess that no
step would ever read: an integrator's `leadUnti` started a plan with no lead unit, without a word.

Worked out from the XML at deploy time and kept in the definition's start_config, so a start
reads no more than it did; for a version deployed before (no "start_names" kept), from its stored
XML, once per process and version content."""
from __future__ import annotations

import difflib
import json
import re
from typing import Iterable

from .checks.common import ENGINE_VARIABLES, NS, script_lines
from .checks.variables import read_sites
from .errors import Invalid
from .expressions import ExpressionError, compile_expression
from .ledger import LEAD_UNIT, RESPONSIBLE
from .scripting import FUNCTION_NAMES
from .xmlsafe import parse_bpmn_bytes

# read from any plan by the engine itself: the ledger, the statistics and who may see a plan
ALWAYS_KNOWN = ENGINE_VARIABLES | {LEAD_UNIT, RESPONSIBLE}

_WRAPPED = re.compile(r"[$#]\{[^{}]*\}")


def names_read(process) -> list[str]:
    """Every name a process element (lxml, its embedded subprocesses included) reads or has a
    form field for."""
    names = set(process.xpath(".//camunda:formField/@id", namespaces=NS))
    for _element, _what, text in read_sites(process):
        names |= _names_in(text)
    for element in process.iter():
        if not isinstance(element.tag, str):
            continue
        for value in (*element.attrib.values(), element.text or ""):
            for expression in _WRAPPED.findall(value):
                names |= _names_in(expression)
    for script in process.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        for _target, source in script_lines(script.text):
            names |= _names_in(source)
    # a plain variable name where a Modeler field takes one: a collection, a call's input, a
    # property naming the field it reads (starterUnit = leadUnit)
    for value in process.xpath(".//@camunda:collection | .//camunda:in/@source | .//camunda:property/@value",
                               namespaces=NS):
        if value.strip().isidentifier() and value.isascii() and value.strip() not in ("true", "false", "null"):
            # not a label such as 集体讨论决定, nor a switch's value
            names.add(value.strip())
    return sorted(names - FUNCTION_NAMES)


def _names_in(text: str) -> set[str]:
    try:
        return set(compile_expression(text, FUNCTION_NAMES).names)
    except ExpressionError:  # refused at deploy by the expression rules; nothing to learn here
        return set()


def kept_or_read(definition) -> list[str]:
    """The names a definition's start_config keeps, or, deployed before they were kept, those of
    its stored XML (the deferred column is loaded then only)."""
    names = json.loads(definition.start_config or "{}").get("start_names")
    if names is not None:
        return names
    found = _READ.get((definition.sha256, definition.key))
    if found is None:
        root = parse_bpmn_bytes(definition.bpmn_xml.encode("utf-8"), definition.file_name).getroot()
        found = names_read(root.xpath("./bpmn:process[@id=$key]", namespaces=NS, key=definition.key)[0])
        if len(_READ) >= 256:  # versions are few; a long-lived worker never grows without end
            _READ.clear()
        _READ[(definition.sha256, definition.key)] = found
    return found


_READ: dict[tuple[str, str], list[str]] = {}


def check(data: dict, process_name: str, definitions: Iterable) -> None:
    """Refuse start data naming what neither the process nor any it calls reads."""
    known: set[str] = set(ALWAYS_KNOWN)
    for definition in definitions:
        known.update(kept_or_read(definition))
    unknown = sorted(set(data) - known)
    if not unknown:
        return
    said = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        said.append((name, close[0] if close else None))
    zh = "；".join(f"{name}" + (f"（是否应为 {close}？）" if close else "") for name, close in said)
    en = "; ".join(f"{name}" + (f" (did you mean {close}?)" if close else "") for name, close in said)
    raise Invalid(f"启动数据中的 {zh} 不是「{process_name}」的表单字段，流程及其调用的流程也都不读取它，"
                  f"请改正名称或删去 (start data names {en}, which no form field, condition or expression of "
                  f"the process or those it calls reads: correct the name or leave it out)")

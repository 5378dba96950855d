"""Variables: a variable read that nothing in the checked files sets (rule_undefined_variables)."""
from __future__ import annotations

import difflib
from typing import Iterator

from ..expressions import BUILTIN_FUNCTIONS, ExpressionError, compile_expression, is_wrapped
from ..scripting import BOUND_FUNCTION_NAMES, FUNCTION_NAMES
from .common import (BPMN, CAMUNDA, CAMUNDA_BUILTINS, NS, Doc, enum_value_hint, in_english, local_name, owner_of,
                     script_lines)

def read_sites(root) -> Iterator[tuple[object, tuple[str, str], str]]:
    """(element, what (Chinese, English), expression text) for every expression under `root` (a
    file's root or one process) that reads variables."""
    for cond in root.xpath(".//bpmn:conditionExpression | .//bpmn:completionCondition", namespaces=NS):
        if (cond.text or "").strip() and cond.get("language") in (None, "", "juel", "JUEL", "python"):
            yield owner_of(cond), ("条件", "condition"), cond.text.strip()
    for card in root.xpath(".//bpmn:loopCardinality", namespaces=NS):
        if (card.text or "").strip():
            yield owner_of(card), ("循环基数 loopCardinality", "loopCardinality"), card.text.strip()
    for value in root.xpath(".//bpmn:timerEventDefinition/*", namespaces=NS):
        if is_wrapped(value.text or ""):
            kind = local_name(value)
            yield owner_of(value.getparent().getparent()), (f"定时器 {kind}", kind), value.text.strip()
    for task in root.iter(BPMN + "userTask"):
        for name in ("assignee", "candidateGroups", "candidateUsers", "priority", "dueDate", "followUpDate"):
            value = (task.get(CAMUNDA + name) or "").strip()
            if is_wrapped(value):
                yield task, (f"camunda:{name} 的表达式", f"camunda:{name}"), value
    for constraint in root.xpath(".//camunda:formField/camunda:validation/camunda:constraint"
                                     "[@name='min' or @name='max']", namespaces=NS):
        if is_wrapped(constraint.get("config") or ""):
            field = constraint.getparent().getparent()
            fid, name = field.get("id"), constraint.get("name")
            yield (owner_of(field.getparent()), (f"表单字段 '{fid}' 的约束 '{name}'", f"form field '{fid}' constraint '{name}'"),
                   constraint.get("config").strip())
    for task in root.iter(BPMN + "scriptTask"):
        script = task.find("bpmn:script", NS)
        if script is not None:
            for target, source in script_lines(script.text):
                yield task, (f"脚本行 `{target} = …`", f"script line `{target} = …`"), source


def rule_undefined_variables(doc: Doc):
    """A variable read that nothing in the files sets: a typo fails only when the plan gets there.
    One keystroke from a variable that is set, it is a typo for sure: an error (plans on the
    version would stop there for good); otherwise a warning, since a calling process checked on
    its own may set it."""
    reported = set()
    for el, what, text in read_sites(doc.root):
        try:
            # (previous() is refused outside a form's min / max by the expression rules)
            names = compile_expression(text, BOUND_FUNCTION_NAMES).names
        except ExpressionError:
            continue  # refused by the expression rules already
        for name in sorted(names - doc.variables - CAMUNDA_BUILTINS.keys()):
            if (el.get("id"), name) in reported:
                continue
            reported.add((el.get("id"), name))
            # `${approve}` or `同意` (the flow's label) for `${expertDecision == 'approve'}`: the value
            # of an enum field, not a variable; a "did you mean" would only mislead
            hint = enum_value_hint(doc.root, name) if what[1] == "condition" else None
            if hint:
                shown, quoted = in_english(name, f"'{name}'"), in_english(text, f"`{text}`")
                yield doc.problem(el, "variable", f"{what[0]} `{text}` 读取的变量 {name} 在这些文件中无处设置：{hint[0]} "
                                  f"({what[1]} {quoted} reads the variable {shown}, which nothing in these files sets: "
                                  f"{hint[1]})", "warning")
                continue
            pool = sorted(doc.variables - BUILTIN_FUNCTIONS.keys() - FUNCTION_NAMES)
            # a loop cardinality nothing sets stops every plan at its activity, as a collection does:
            # a close name is a slip there too (named, e.g. approverCount for aproverCount)
            typo = misspelt(name, pool) if what[1] == "loopCardinality" else \
                next((known for known in pool if one_keystroke_apart(name, known)), None)
            if typo:
                yield doc.problem(el, "variable", f"{what[0]} `{text}` 读取的变量 {name} 无处设置，与已设置的 {typo} 只差"
                                  f"一个字符，应是笔误：方案到达此处时会停住，要等改正的版本部署后逐个迁移才能继续。请改为 {typo} "
                                  f"({what[1]} `{text}` reads '{name}', which nothing sets, one keystroke from {typo}, "
                                  "which is set: a typo. A plan reaching it would stop there until a corrected version "
                                  f"is deployed and the plan is moved to it. Write {typo})")
                continue
            close = difflib.get_close_matches(name, pool, n=1)
            hint_zh, hint = (f"（是否应为 {close[0]}？）", f"; did you mean {close[0]}?") if close else ("", "")
            yield doc.problem(el, "variable", f"{what[0]} `{text}` 读取的变量 {name} 在这些文件中无处设置{hint_zh}：没有"
                              "表单字段、脚本、initiator、多实例元素变量或流程属性设置它。若它来自调用本流程的流程，"
                              "请把调用方的文件一起检查，或先部署调用方 "
                              f"({what[1]} `{text}` reads the variable '{name}', which nothing in these files sets: "
                              "no form field, script, initiator, multi-instance element variable or process "
                              "property. If it comes from a process that calls this one, check the caller's file "
                              f"with it, or deploy the caller first{hint})", "warning")


# names this short are often different words (x, y; days, date): no letter count makes them a slip
_SHORTEST_TYPO = 4


def one_keystroke_apart(a: str, b: str) -> bool:
    """A slip of one key between two names: a letter left out, added or changed, or two letters
    next to each other swapped (materialsTyp / materialsType, decison / decision)."""
    if a == b or min(len(a), len(b)) < _SHORTEST_TYPO or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                    and a[differ[0]] == b[differ[1]] and a[differ[1]] == b[differ[0]])
    short, long = sorted((a, b), key=len)
    at = next((i for i, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[at:] == long[at + 1:]


def rule_misspelt_collections(doc: Doc):
    """A multi-instance collection that nothing sets but that is a slip of the keyboard from a
    variable something does set: every plan reaching the activity stops there (no list to make
    instances of) until a corrected version is deployed and the plan moved to it (migrate). An error, as a misspelt
    variable one keystroke from a set one is. A collection nothing sets and nothing resembles is
    not reported: a list can come with the start data, and no form field can declare one. Nor is
    the plural of a set name (`units` beside a field `unit`): a list of what that name holds."""
    loops = doc.root.xpath(".//bpmn:multiInstanceLoopCharacteristics[@camunda:collection]", namespaces=NS)
    named = {loop: loop.get(CAMUNDA + "collection").strip() for loop in loops}
    set_otherwise = doc.variables - set(named.values()) - BUILTIN_FUNCTIONS.keys() - FUNCTION_NAMES
    for loop, name in named.items():
        if not name.isidentifier() or name in set_otherwise:
            continue  # an expression is refused by the multi-instance rule
        pool = sorted(known for known in set_otherwise - {loop.get(CAMUNDA + "elementVariable")}
                      if name not in (known + "s", known + "es"))
        typo = misspelt(name, pool)
        if typo:
            yield doc.problem(owner_of(loop), "variable", f"camunda:collection `{name}`：这些文件中无处设置此变量，与已设置的 "
                              f"{typo} 拼写几乎相同，应是笔误：方案到达此任务时没有列表，会停在这里，要等改正的版本部署后逐个迁移才能继续。"
                              f"请改为 {typo} (nothing in these files sets the collection '{name}', a slip of the "
                              f"keyboard from {typo}, which is set: a typo. Every plan reaching this task would stop "
                              f"there until a corrected version is deployed and the plan is moved to it. Write {typo})")


def misspelt(name: str, pool: list[str]) -> str | None:
    """The set name `name` is a slip of the keyboard from: one keystroke apart, or as close as
    `departmnets` is to `departments` (a close cutoff: not another word, departmentsConsulted)."""
    return (next((known for known in pool if one_keystroke_apart(name, known)), None)
            or next(iter(difflib.get_close_matches(name, pool, n=1, cutoff=0.85)), None))

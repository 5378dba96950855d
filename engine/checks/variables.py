"""Variables: a variable read that nothing in the checked files sets (rule_undefined_variables)."""
from __future__ import annotations

import difflib
from typing import Iterator

from ..expressions import BUILTIN_FUNCTIONS, ExpressionError, compile_expression, is_wrapped
from ..scripting import FUNCTION_NAMES
from .common import BPMN, CAMUNDA, CAMUNDA_BUILTINS, NS, Doc, local_name, owner_of, script_lines

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
    """A variable read that nothing in the files sets: a typo fails only when the plan gets there."""
    reported = set()
    for el, what, text in read_sites(doc.root):
        try:
            names = compile_expression(text, FUNCTION_NAMES).names
        except ExpressionError:
            continue  # refused by the expression rules already
        for name in sorted(names - doc.variables - CAMUNDA_BUILTINS.keys()):
            if (el.get("id"), name) in reported:
                continue
            reported.add((el.get("id"), name))
            pool = sorted(doc.variables - BUILTIN_FUNCTIONS.keys() - FUNCTION_NAMES)
            close = difflib.get_close_matches(name, pool, n=1)
            hint_zh, hint = (f"（是否应为 {close[0]}？）", f"; did you mean {close[0]}?") if close else ("", "")
            yield doc.problem(el, "variable", f"{what[0]} `{text}` 读取的变量 {name} 在这些文件中无处设置{hint_zh}：没有"
                              "表单字段、脚本、initiator、多实例元素变量或流程属性设置它；来自调用方流程的变量，须把调用方"
                              f"的文件一起检查：reformflow check bpmn/*.bpmn ({what[1]} `{text}` reads the "
                              f"variable '{name}', which nothing in these files sets: no form field, script, "
                              "initiator, multi-instance element variable or process property; a variable from a "
                              f"calling process is known when its file is checked too: reformflow check bpmn/*.bpmn"
                              f"{hint})", "warning")


def rule_misspelt_collections(doc: Doc):
    """A multi-instance collection that nothing sets but that is close to the name of a variable
    something does set: most likely a typo, which would fail only when the plan reaches the
    task. A collection nothing sets is not reported on its own: a list can come with the start
    data or a message, and no form field can declare one."""
    loops = doc.root.xpath(".//bpmn:multiInstanceLoopCharacteristics[@camunda:collection]", namespaces=NS)
    named = {loop: loop.get(CAMUNDA + "collection").strip() for loop in loops}
    set_otherwise = doc.variables - set(named.values()) - BUILTIN_FUNCTIONS.keys() - FUNCTION_NAMES
    for loop, name in named.items():
        if not name.isidentifier() or name in set_otherwise:
            continue  # an expression is refused by the multi-instance rule
        pool = sorted(set_otherwise - {loop.get(CAMUNDA + "elementVariable")})
        # a close cutoff: a slip of the keyboard (departmnets), not another word (departmentsConsulted)
        close = difflib.get_close_matches(name, pool, n=1, cutoff=0.85)
        if close:
            yield doc.problem(owner_of(loop), "variable", f"camunda:collection `{name}`：这些文件中无处设置此变量，"
                              f"是否应为已设置的 {close[0]}？方案到达此任务时若没有它，会停在这里 "
                              f"(nothing in these files sets '{name}'; did you mean {close[0]}, which "
                              f"is set? A plan reaching this task without it would stop there.)", "warning")

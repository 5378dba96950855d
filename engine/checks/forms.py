"""User tasks and forms: assignment, priority and due dates, form fields, start forms, untyped tasks."""
from __future__ import annotations

import ast
import re

from ..deadlines import is_iso_date_or_datetime
from ..documents import FILES_OF, PROPERTY as ATTACHMENTS, REQUIRED
from ..expressions import ENGINE_VARIABLES, compile_expression, is_wrapped, readable_name
from ..forms import (CONFIRM, CONFIRM_TEXT, REQUIRED_WHEN, RETURNS, SUPPORTED_CONSTRAINTS, SUPPORTED_TYPES, confirm_ids,
                     default_error, listed_ids)
from ..parser import USER_TASK_ATTRIBUTES, property_values
from ..procedures import PROCEDURES, PROPERTY, procedure_code
from ..runtime import CANDIDATE_UNIT, PRIORITY_RANGE
from ..scripting import BOUND_FUNCTION_NAMES
from .common import (CAMUNDA, LIST_NAME, NS, Doc, check_expression, check_expression_property, in_english,
                     local_name)
from .expressions import check_timer_value


def _check_previous(doc: Doc, task, fid: str, name: str, config: str):
    """previous('x') in a bound reads what the plan held for x before this form is submitted: x
    must be written in quotes (a value would be looked up as a name) and be a field of this same
    form (the field itself, as the meetings' 会议日期): for any other variable it is the same as
    ${x}, which says so plainly."""
    on_form = set(task.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField/@id", namespaces=NS))
    calls = [node for node in ast.walk(compile_expression(config, BOUND_FUNCTION_NAMES).tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "previous"]
    for call in calls:
        arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
        named = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
        if named is None:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' `{config}`：previous() 须给一个带引号的字段名，"
                              f"如 previous('{fid}') (form field '{fid}': constraint '{name}' `{config}`: previous() "
                              f"takes one field's name in quotes, such as previous('{fid}'))")
        elif named not in on_form:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' `{config}`：previous('{named}') 读取本表单"
                              f"提交之前的值，'{named}' 不在本表单上，与 ${{{named}}} 相同，请改写为它 (form field "
                              f"'{fid}': constraint '{name}' `{config}`: previous('{named}') reads the value before this "
                              f"form is submitted; '{named}' is not on this form, so it is ${{{named}}}: write that)")


def _whole_number(text: str) -> bool:
    """What int() takes and an expression's integers allow: ASCII digits, at most 18 ('²' is a
    digit to str.isdigit but not to int(); thousands of digits are beyond int() too)."""
    return re.fullmatch(r"-?[0-9]{1,18}", text) is not None


def rule_user_tasks(doc: Doc):
    for task in doc.iter("userTask"):
        attrs = {a: task.get(CAMUNDA + a) for a in USER_TASK_ATTRIBUTES}
        if not ((attrs["assignee"] or "").strip() or (attrs["candidateGroups"] or "").strip()
                or (attrs["candidateUsers"] or "").strip()):
            yield doc.problem(task, "assignment", "用户任务没有设置 camunda:assignee、candidateGroups 或 candidateUsers，"
                              "不会出现在任何人的待办中 (user task without camunda:assignee, candidateGroups or "
                              "candidateUsers: nobody would find it in an inbox)")
        for name in ("assignee", "candidateGroups", "candidateUsers", "priority"):
            value = (attrs[name] or "").strip()
            if "${" in value or "#{" in value:
                if not is_wrapped(value):
                    yield doc.problem(task, "assignment", f"camunda:{name} 的值 `{value}`：请写普通值，或一个完整的 ${{...}} "
                                      f"表达式 (camunda:{name} `{value}`: write either a plain value or one whole "
                                      "${...} expression)")
                else:
                    yield from check_expression(doc.file, task, value, "assignment",
                                                (f"camunda:{name} 的表达式", f"camunda:{name}"))
            elif name in ("candidateGroups", "candidateUsers"):
                yield from _check_name_list(doc, task, name, value)
        priority = (attrs["priority"] or "").strip()
        if priority and not is_wrapped(priority) and not (
                _whole_number(priority) and PRIORITY_RANGE[0] <= int(priority) <= PRIORITY_RANGE[1]):
            low, high = PRIORITY_RANGE
            yield doc.problem(task, "assignment", f"camunda:priority 的值 `{priority}` 须为 {low} 到 {high} 之间的整数 "
                              f"(camunda:priority `{priority}` must be a whole number from {low} to {high})")
        for name in ("dueDate", "followUpDate"):
            if attrs[name]:
                yield from check_timer_value(doc.file, task, "timeDuration", attrs[name], f"camunda:{name}")
        yield from _check_procedure(doc, task)
        yield from _check_candidate_unit(doc, task)
        yield from _check_attachments(doc, task)
        yield from _check_files_of(doc, task)
        yield from _check_form(doc, task)


def _check_name_list(doc: Doc, task, name: str, value: str):
    """`legal，reform_office` (a Chinese comma) or `legal;reform_office` is one group nobody is in:
    the task would sit unclaimable."""
    bad = [part.strip() for part in value.split(",") if part.strip() and not LIST_NAME.match(part.strip())]
    if bad:
        shown = ", ".join(f"`{b}`" for b in bad)
        yield doc.problem(task, "assignment", f"camunda:{name} 的值 `{value}`：{shown} 不是名称；多个名称请用英文逗号分隔，"
                          f"如 `legal, reform_office` (camunda:{name} `{value}`: {shown} is not a name; separate "
                          "names with commas (,), such as `legal, reform_office`)")


def _check_procedure(doc: Doc, task):
    """The decision archive files the task under the statutory procedure its `procedure` property names."""
    names = "、".join(zh for zh, _ in PROCEDURES.values())
    for value in property_values(task, PROPERTY):
        if procedure_code(value) is None:
            yield doc.problem(task, "procedure", f"属性 {PROPERTY} 的值 '{value}' 不是五项法定决策程序之一，可写：{names}，"
                              f"或其代码 {', '.join(PROCEDURES)} (property {PROPERTY} '{value}' names none of the "
                              "five statutory procedures of a major decision; use one of these names or codes)")


def _check_candidate_unit(doc: Doc, task):
    """`candidateUnit` keeps an open task to one unit's members of its candidate groups
    (engine.runtime.candidate_unit): one ${...} expression, such as ${leadUnit}. A plain name
    would keep every plan's step to one unit."""
    yield from check_expression_property(doc, task, CANDIDATE_UNIT, "assignment",
                                         ("给出可办理本任务的单位", "giving the unit whose members may take the task"),
                                         "${leadUnit}")


def _check_attachments(doc: Doc, task):
    """`attachments` = required makes a file necessary before the task is completed; any other
    value would be silently ignored."""
    for value in property_values(task, ATTACHMENTS):
        if value.strip() != REQUIRED:
            yield doc.problem(task, "form", f"属性 {ATTACHMENTS} 的值 '{value}' 无效：须上传附件的写 {REQUIRED}，否则删去此属性 "
                              f"(property {ATTACHMENTS} '{value}': write {REQUIRED} to require a file, or leave the "
                              "property out)")


def _check_files_of(doc: Doc, task):
    """`filesOf` lists the user tasks (ids, comma-separated) whose files the task's page shows its
    reviewer; an id that is no user task of the file would show nothing, silently."""
    for value in property_values(task, FILES_OF):
        for part in (p.strip() for p in value.split(",")):
            if part and part not in doc.user_task_ids:
                yield doc.problem(task, "form", f"属性 {FILES_OF} 列出的 '{part}' 不是本文件中用户任务的 id，"
                                  "请写要审查其附件的用户任务的 id，多个用英文逗号分隔 "
                                  f"(property {FILES_OF}: '{part}' is no user task id of this file; list the "
                                  "ids of the user tasks whose files the reviewer reads, comma-separated)")


def _check_form(doc: Doc, task):
    seen = set()
    for form in task.xpath("./bpmn:extensionElements/camunda:formData[@businessKey]", namespaces=NS):
        yield doc.problem(task, "form", f"camunda:formData businessKey=\"{form.get('businessKey')}\"：不支持，业务编号在"
                          "启动方案时给出：reformflow start --business-key (not supported; the business key is given "
                          "when starting the plan: reformflow start --business-key)")
    for field in task.xpath("./bpmn:extensionElements/camunda:formData/camunda:formField", namespaces=NS):
        fid, kind = field.get("id"), field.get("type")
        if not (fid or "").strip():
            # the id is the variable the field sets: without it there is nothing to name the field by
            # or to check it as; its other problems are said once it has one
            label = field.get("label") or ""
            zh = f"（标签“{label}”，第 {field.sourceline} 行）" if label else f"（第 {field.sourceline} 行）"
            en = f" ({in_english(label, repr(label))}, line {field.sourceline})" if label else f" (line {field.sourceline})"
            yield doc.problem(task, "form", f"表单字段{zh}没有 id：请在 Camunda Modeler 的 Forms → 该字段 → ID 中填写一个变量名，"
                              f"条件和后续步骤用它读取填写的值 (form field{en} has no id: enter a variable name under "
                              "Forms → the field → ID in Camunda Modeler; conditions and later steps read the value by it)")
            continue
        default = field.get("defaultValue") or ""
        if "${" in default or "#{" in default:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的 defaultValue `{default}` 中的表达式不会求值，请写字面值 "
                              f"(form field '{fid}': defaultValue `{default}`: expressions in default values are not "
                              "evaluated; write a literal value)")
        elif wrong := default_error(kind, default):
            zh, en = wrong[:-1].split(" (", 1)
            yield doc.problem(task, "form", f"表单字段 '{fid}'（{kind}）的 defaultValue '{default}' 无效：{zh}；请改正或删去"
                              f"，否则它会被忽略 (form field '{fid}' ({kind}): defaultValue '{default}' {en}; correct "
                              "it or remove it, else it is ignored)")
        elif kind == "boolean" and default.strip() and default.strip().lower() not in ("true", "false"):
            # what a form may post (yes, 1, 是) would have made it true or false without a word
            yield doc.problem(task, "form", f"表单字段 '{fid}'（boolean）的 defaultValue '{default}' 无效：请写 true 或 false "
                              f"(form field '{fid}' (boolean): defaultValue '{default}': write true or false)")
        if not readable_name(fid) or len(fid) > 64:  # 64: what a variable's name may be in a form
            yield doc.problem(task, "form", f"表单字段 id '{fid[:40]}' 须为普通变量名：英文字母开头，字母、数字、_，至多 64 个"
                              f"字符，且不是 class、true 这样的关键字，条件才能读到它 (form field id '{fid[:40]}' must be a "
                              "plain variable name: a letter, then letters, digits or _, at most 64 characters, not a "
                              "keyword such as class or true, so that a condition can read it)")
        elif fid in seen:
            yield doc.problem(task, "form", f"表单字段 id '{fid}' 在此表单中出现了两次 (form field id '{fid}' appears "
                              "twice on this form)")
        elif fid in _properties(doc):
            yield doc.problem(task, "form", f"表单字段 id '{fid}' 与流程属性 {fid} 同名：流程属性是只读的规则，表单却会让提交人改写它；"
                              f"请给字段换一个 id (form field id '{fid}' is the name of the process property {fid}: a "
                              "property is a read-only rule, and the form would let whoever submits it change it; give "
                              "the field another id)")
        elif fid in _engine_variables(doc):
            yield doc.problem(task, "form", f"表单字段 id '{fid}' 是引擎自己设置的变量（{', '.join(sorted(_engine_variables(doc)))}），"
                              f"表单不能改写它；请给字段换一个 id (form field id '{fid}' is a variable the engine sets "
                              f"itself ({', '.join(sorted(_engine_variables(doc)))}): a form must not change it; give the "
                              "field another id)")
        seen.add(fid)
        if not (kind or "").strip():
            # no type attribute: "the type 'None'" was Python's word, not the analyst's
            yield doc.problem(task, "form", f"表单字段 '{fid}' 没有类型：请在 Camunda Modeler 的 Forms → 该字段 → Type 中选择"
                              f"一种，可用：{', '.join(SUPPORTED_TYPES)} (form field '{fid}' has no type: choose one in "
                              f"Camunda Modeler under Forms → the field → Type; supported: {', '.join(SUPPORTED_TYPES)})")
        elif kind not in SUPPORTED_TYPES:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的类型 '{kind}' 不受支持，可用：{', '.join(SUPPORTED_TYPES)} "
                              f"(form field '{fid}' has type '{kind}'; supported: {', '.join(SUPPORTED_TYPES)})")
        if kind == "enum" and not field.xpath("./camunda:value", namespaces=NS):
            yield doc.problem(task, "form", f"枚举表单字段 '{fid}' 没有可选值 (enum form field '{fid}' has no values)")
        enum_ids = field.xpath("./camunda:value/@id", namespaces=NS) if kind == "enum" else []
        for twice in sorted({v for v in enum_ids if enum_ids.count(v) > 1}):
            yield doc.problem(task, "form", f"枚举表单字段 '{fid}' 的可选值 id '{twice}' 出现了不止一次，请给其中一个换 id 或删去"
                              f" (enum form field '{fid}': the value id '{twice}' appears more than once; give one "
                              "another id or remove it)")
        if kind == "enum" and field.get("defaultValue") and field.get("defaultValue") not in field.xpath(
                "./camunda:value/@id", namespaces=NS):
            yield doc.problem(task, "form", f"枚举表单字段 '{fid}' 的默认值 '{field.get('defaultValue')}' 不在其可选值中 "
                              f"(enum form field '{fid}': default '{field.get('defaultValue')}' is not one of its values)")
        for constraint in field.xpath("./camunda:validation/camunda:constraint", namespaces=NS):
            name = constraint.get("name")
            if name not in SUPPORTED_CONSTRAINTS:
                yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' 不受支持，可用："
                                  f"{', '.join(SUPPORTED_CONSTRAINTS)} (form field '{fid}': constraint '{name}' is "
                                  f"not supported; supported: {', '.join(SUPPORTED_CONSTRAINTS)})")
            elif name in ("min", "max", "minlength", "maxlength"):
                config = (constraint.get("config") or "").strip()
                computed = name in ("min", "max") and kind in ("date", "long")  # may be ${...}, checked on submit
                if computed and ("${" in config or "#{" in config):
                    if not is_wrapped(config):
                        yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' `{config}`：请写普通值，"
                                          f"或一个完整的 ${{...}} 表达式 (form field '{fid}': constraint '{name}' "
                                          f"`{config}`: write either a plain value or one whole ${{...}} expression)")
                    else:
                        said = list(check_expression(doc.file, task, config, "form",
                                                     (f"表单字段 '{fid}' 的约束 '{name}'",
                                                      f"form field '{fid}': constraint '{name}'"), BOUND_FUNCTION_NAMES))
                        yield from said or _check_previous(doc, task, fid, name, config)
                elif kind == "date":
                    if not is_iso_date_or_datetime(config) or len(config) != 10:
                        yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' 须为日期，如 2026-01-01，"
                                          "或表达式，如 ${issueDate}、${today()} "
                                          f"(form field '{fid}': constraint '{name}' needs a date like "
                                          "2026-01-01, or an expression like ${issueDate} or ${today()})")
                elif not _whole_number(config):
                    yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' 的配置值须为不超过 18 位的整数"
                                      + ("，或表达式，如 ${maxDays}" if computed else "")
                                      + f" (form field '{fid}': constraint '{name}' needs a whole-number config "
                                      "of at most 18 digits"
                                      + (", or an expression like ${maxDays}" if computed else "") + ")")
                elif name.endswith("length") and int(config) < (1 if name == "maxlength" else 0):
                    least = 1 if name == "maxlength" else 0
                    yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 '{name}' 为 {config}，须不小于 {least}，"
                                      f"否则没有文字能通过；请改正 (form field '{fid}': constraint '{name}' is {config}; it "
                                      f"must be at least {least}, else no text passes; correct it)")
        yield from _check_bounds_order(doc, task, field, fid, kind)
        properties = {p.get("id"): p.get("value") or ""
                      for p in field.xpath("./camunda:properties/camunda:property", namespaces=NS)}
        yield from _check_confirm(doc, task, field, fid, kind, properties)
        yield from _check_required_when(doc, task, field, fid, properties)


def _properties(doc: Doc) -> set[str]:
    """The file's process properties (section 5: the read-only rules a plan starts with)."""
    return set(doc.root.xpath("./bpmn:process/bpmn:extensionElements/camunda:properties/camunda:property/@name",
                              namespaces=NS))


def _engine_variables(doc: Doc) -> set[str]:
    """The variables the engine sets itself when a plan starts: its title, business key and
    initiator, and the variable a start event's camunda:initiator names."""
    return set(ENGINE_VARIABLES) | {
        name.strip() for name in doc.root.xpath(".//bpmn:startEvent/@camunda:initiator", namespaces=NS) if name.strip()}


def _check_required_when(doc: Doc, task, field, fid: str, properties: dict[str, str]):
    """`requiredWhen` makes an optional field required when its ${...} holds (退回理由 when 不通过):
    one whole expression over the form's fields and the plan's variables, checked like a condition."""
    when = properties.get(REQUIRED_WHEN)
    if when is None:
        return
    if field.xpath("./camunda:validation/camunda:constraint[@name='required']", namespaces=NS):
        yield doc.problem(task, "form", f"表单字段 '{fid}' 已是必填项，属性 {REQUIRED_WHEN} 不起作用，请删去其一 "
                          f"(form field '{fid}' is required already: property {REQUIRED_WHEN} changes nothing; remove one)")
    elif not is_wrapped(when.strip()):
        yield doc.problem(task, "form", f"表单字段 '{fid}' 的属性 {REQUIRED_WHEN} '{when}' 须为一个完整的 ${{...}} 表达式，"
                          f"如 ${{legalityResult == 'fail'}} (form field '{fid}': property {REQUIRED_WHEN} '{when}' must "
                          f"be one whole ${{...}} expression, e.g. ${{legalityResult == 'fail'}})")
    else:
        yield from check_expression(doc.file, task, when, "form", (f"表单字段 '{fid}' 的属性 {REQUIRED_WHEN}",
                                                                 f"form field '{fid}': property {REQUIRED_WHEN}"))


def _check_confirm(doc: Doc, task, field, fid: str, kind: str, properties: dict[str, str]):
    """`confirm` names the choices of an enum field the web asks about before submitting (a
    return, a rejection): a value id the field does not have would never be asked about."""
    if CONFIRM not in properties:
        if properties.get(CONFIRM_TEXT, "").strip():
            yield doc.problem(task, "form", f"表单字段 '{fid}' 有属性 {CONFIRM_TEXT} 却没有 {CONFIRM}，这句话不会显示；请用 "
                              f"{CONFIRM} 列出须确认的选项 (form field '{fid}' has {CONFIRM_TEXT} but no {CONFIRM}: the "
                              f"sentence is never shown; list the choices to confirm in {CONFIRM})")
        yield from _check_returns(doc, task, fid, properties, [])
        return
    listed, values = confirm_ids(properties), field.xpath("./camunda:value/@id", namespaces=NS)
    if kind != "enum":
        yield doc.problem(task, "form", f"表单字段 '{fid}'（{kind}）的属性 {CONFIRM} 只能用于枚举字段，请删去 "
                          f"(form field '{fid}' ({kind}): property {CONFIRM} is for enum fields only; remove it)")
    elif not listed:
        yield doc.problem(task, "form", f"表单字段 '{fid}' 的属性 {CONFIRM} 是空的：请写须确认的选项 id，多个用英文逗号分隔，"
                          f"如 {','.join(values[:2]) or 'return'}；不需要确认的请删去此属性 (form field '{fid}': property "
                          f"{CONFIRM} is empty; write the value ids to confirm, separated by commas, or remove it)")
    else:
        for unknown in [v for v in listed if v not in values]:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的属性 {CONFIRM} 列出的 '{unknown}' 不是它的可选值，可写："
                              f"{', '.join(values)} (form field '{fid}': property {CONFIRM} names '{unknown}', which "
                              f"is not one of its values: {', '.join(values)})")
    yield from _check_returns(doc, task, fid, properties, listed)


def _check_returns(doc: Doc, task, fid: str, properties: dict[str, str], listed: list[str]):
    """`returns` says which of the confirmed choices send the work back to be redone (退回 in the
    inbox); a value it names that `confirm` does not list is never asked about, so never a return."""
    if RETURNS not in properties:
        return
    named = listed_ids(properties, RETURNS)
    for stray in [v for v in named if v not in listed]:
        yield doc.problem(task, "form", f"表单字段 '{fid}' 的属性 {RETURNS} 列出的 '{stray}' 不在 {CONFIRM} 中，不会算作退回；"
                          f"{RETURNS} 只能从 {CONFIRM} 的选项中选：{', '.join(listed) or '—'} (form field '{fid}': property "
                          f"{RETURNS} names '{stray}', which {CONFIRM} does not list, so it is never a return; choose among "
                          f"{CONFIRM}'s choices: {', '.join(listed) or '—'})")


def _check_bounds_order(doc: Doc, task, field, fid: str, kind: str):
    """A literal min above its max (or minlength above maxlength): no value passes, so a
    required field could never be submitted."""
    config = {c.get("name"): (c.get("config") or "").strip()
              for c in field.xpath("./camunda:validation/camunda:constraint", namespaces=NS)}
    pairs = [("minlength", "maxlength")] + ([("min", "max")] if kind in ("long", "date") else [])
    for low, high in pairs:
        a, b = config.get(low, ""), config.get(high, "")
        if kind == "date" and low == "min":
            ordered = not (is_iso_date_or_datetime(a) and is_iso_date_or_datetime(b)) or a <= b
        else:
            ordered = not (_whole_number(a) and _whole_number(b)) or int(a) <= int(b)
        if not ordered:
            yield doc.problem(task, "form", f"表单字段 '{fid}' 的约束 {low} {a} 大于 {high} {b}，任何值都无法满足；请改正 "
                              f"(form field '{fid}': {low} {a} is above {high} {b}, so no value can pass; correct "
                              "them)")


def rule_start_forms(doc: Doc):
    """A start event's camunda:formData is the start form: `start --data` is validated against it."""
    for start in doc.iter("startEvent"):
        has_form = bool(start.xpath("./bpmn:extensionElements/camunda:formData", namespaces=NS))
        if has_form and (not doc.top_level(start) or doc.definitions(start)):
            yield doc.problem(start, "form", "只有流程的空白开始事件可以带启动表单，请把这些字段移到用户任务上 (a start "
                              "form belongs on the process's none start event; move the fields to a user task)")
        elif has_form:
            yield from _check_form(doc, start)
        if start.get(CAMUNDA + "formKey"):
            yield doc.problem(start, "form", "开始事件上的 camunda:formKey 指向 reformflow 没有的页面；请改用表单字段"
                              "（camunda:formData）描述启动表单 (camunda:formKey on a start event names a page "
                              "reformflow does not have; describe the start form with Form fields (camunda:formData) "
                              "instead)", "warning")


def rule_task_types(doc: Doc):
    for task in doc.iter("task", "manualTask"):
        zh, en = ("未指定类型的任务", "a task without a type") if local_name(task) == "task" else \
            ("手工任务", "a manual task")
        yield doc.problem(task, "task-type", f"{zh}：Camunda 会直接通过，reformflow 却会等人办理。请改为用户任务"
                          "（扳手图标 → User task）并设置办理人或候选组，或删除它 "
                          f"({en}: Camunda passes through it at once, reformflow would wait for "
                          "someone to complete it. Make it a user task (wrench icon → User task) with an assignee or "
                          "candidate groups, or remove it)")


def rule_form_field_types(doc: Doc):
    """One variable, one type: a form field of another type than an earlier field of the same id
    (`reviewDays` long on one task, string on another) makes a later form or condition meet a
    value of the wrong type, and start data is typed by only one of them."""
    first: dict[str, tuple[str, str]] = {}  # field id -> (type, element id of its first form)
    for field in doc.root.xpath(".//camunda:formField", namespaces=NS):
        fid, kind = field.get("id"), field.get("type")
        if not fid or kind not in SUPPORTED_TYPES:
            continue  # said by _check_form
        owner = field.getparent().getparent().getparent()  # formData → extensionElements → task
        seen = first.setdefault(fid, (kind, owner.get("id")))
        if seen[0] != kind and seen[1] != owner.get("id"):  # twice on one form is refused by _check_form
            yield doc.problem(owner, "form", f"表单字段 '{fid}' 在此为 {kind}，在 {seen[1]} 为 {seen[0]}：同一个变量应只有一种"
                              f"类型，请统一两处的类型，或给其中一个字段改名 (form field '{fid}' is a {kind} here and a "
                              f"{seen[0]} on {seen[1]}: one variable, one type; give both the same type, or rename "
                              "one of them)", "warning")

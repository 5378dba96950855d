"""Multi-instance: where it may be used and how its collection or cardinality is given."""
from __future__ import annotations

import re

from ..expressions import ENGINE_VARIABLES, is_wrapped
from ..runtime import INSTANCE_LABEL
from ..scripting import MAX_INSTANCES
from .common import CAMUNDA, NS, Doc, check_expression, check_expression_property, local_name, owner_of, script_lines

MULTI_INSTANCE_HOSTS = {"userTask", "subProcess"}


def rule_multi_instance(doc: Doc):
    for loop in doc.iter("multiInstanceLoopCharacteristics"):
        owner = owner_of(loop.getparent())
        if local_name(owner) not in MULTI_INSTANCE_HOSTS:
            yield doc.problem(owner, "multi-instance", f"不支持多实例的 {local_name(owner)}；多实例只能用于用户任务和"
                              f"子流程 (multi-instance {local_name(owner)}s are not supported; "
                              "multi-instance works on user tasks and subprocesses)")
        collection = (loop.get(CAMUNDA + "collection") or "").strip()
        cardinality = loop.find("bpmn:loopCardinality", NS)
        has_cardinality = cardinality is not None and (cardinality.text or "").strip()
        if collection:
            if is_wrapped(collection) or not collection.isidentifier() or collection.startswith("_"):
                bare = collection[2:-1].strip() if is_wrapped(collection) else ""
                hint_zh, hint = (f"请写 camunda:collection=\"{bare}\"", f"write camunda:collection=\"{bare}\"") \
                    if bare.isidentifier() else \
                    ("请先把列表存入一个变量（如表单字段），再写该变量名",
                     "store the list in a variable first (e.g. a form field) and name that variable")
                yield doc.problem(owner, "multi-instance", f"camunda:collection 的值 `{collection}`：reformflow 按变量名读取"
                                  f"集合；{hint_zh} (camunda:collection `{collection}`: reformflow reads the "
                                  f"collection from a variable by name; {hint})")
            if not (loop.get(CAMUNDA + "elementVariable") or "").strip():
                yield doc.problem(owner, "multi-instance", "有 camunda:collection 却没有 camunda:elementVariable：请为每个"
                                  "实例得到的变量命名（如 department） (camunda:collection without "
                                  "camunda:elementVariable: name the variable each instance gets (e.g. department))")
        elif not has_cardinality:
            yield doc.problem(owner, "multi-instance", "多实例须设置 camunda:collection（列表变量）或循环基数 "
                              "(multi-instance needs camunda:collection (a list variable) or a loop cardinality)")
        if has_cardinality:
            yield from check_expression(doc.file, owner, cardinality.text, "multi-instance",
                                        ("循环基数 loopCardinality", "loopCardinality"))
            literal = cardinality.text.strip()
            digits = literal.lstrip("0")
            if not is_wrapped(literal) and not re.fullmatch(r"[0-9]+", literal):
                yield doc.problem(owner, "multi-instance", f"循环基数 {literal[:20]} 须为 0 到 {MAX_INSTANCES} 的整数或 ${{...}} "
                                  f"(loopCardinality {literal[:20]} must be a whole number from 0 to {MAX_INSTANCES}, or ${{...}})")
            elif re.fullmatch(r"[0-9]+", literal) and (len(digits) > 4 or int(digits or "0") > MAX_INSTANCES):
                yield doc.problem(owner, "multi-instance", f"循环基数 {literal[:20]} 过大：最多 {MAX_INSTANCES} 个实例 "
                                  f"(loopCardinality {literal[:20]} is too large: at most {MAX_INSTANCES} instances)")
        element_variable = loop.get(CAMUNDA + "elementVariable")
        if element_variable and (not element_variable.isidentifier() or element_variable.startswith("_")):
            yield doc.problem(owner, "multi-instance", f"camunda:elementVariable '{element_variable}' 须为普通变量名 "
                              f"(camunda:elementVariable '{element_variable}' must be a plain variable name)")
        elif element_variable in ENGINE_VARIABLES:
            yield doc.problem(owner, "multi-instance", f"camunda:elementVariable '{element_variable}' 是引擎自己的变量，"
                              f"请换一个名称 (camunda:elementVariable '{element_variable}' is the engine's own variable: "
                              "choose another name)")
    yield from _instance_labels(doc)
    yield from _element_variables_set_elsewhere(doc)


def _element_variables_set_elsewhere(doc: Doc):
    """Each instance's element variable is the engine's to give. Set by a script or by a form
    field before the activity, every plan reaching it stopped there ("input item already exists");
    set by the activity's own form, each instance's answer was written over its item of the
    collection (['legal', 'reform_office'] became ['同意', '同意'])."""
    setters: dict[str, list] = {}
    for field in doc.root.xpath(".//camunda:formField[@id]", namespaces=NS):
        setters.setdefault(field.get("id"), []).append((owner_of(field.getparent()), "表单字段", "form field"))
    for script in doc.root.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        for target, _ in script_lines(script.text):
            setters.setdefault(target, []).append((owner_of(script), "脚本", "script"))
    for loop in doc.iter("multiInstanceLoopCharacteristics"):
        name = (loop.get(CAMUNDA + "elementVariable") or "").strip()
        for setter, what_zh, what in setters.get(name, [])[:1]:
            yield doc.problem(owner_of(loop), "multi-instance",
                              f"camunda:elementVariable '{name}' 也由 {setter.get('id')} 的{what_zh}设置：它是引擎给每个"
                              f"实例的值，被设置后方案到这里会停下或改写集合，请换一个变量名 (camunda:elementVariable "
                              f"'{name}' is also set by the {what} of {setter.get('id')}: the engine gives it to each "
                              "instance, and set elsewhere it stops the plan here or overwrites the collection; "
                              "choose another name)")


def _instance_labels(doc: Doc):
    """`instanceLabel` names each instance of a multi-instance activity in the inbox, the ledger
    and the trail (engine.runtime.instance_subject): one ${...} expression over the instance's
    data, on the activity itself."""
    for owner in doc.root.xpath("//*[bpmn:extensionElements/camunda:properties/camunda:property[@name=$name]]",
                                name=INSTANCE_LABEL, namespaces=NS):
        if owner.find("bpmn:multiInstanceLoopCharacteristics", NS) is None:
            yield doc.problem(owner, "multi-instance", f"属性 {INSTANCE_LABEL} 只用于多实例的用户任务或子流程，此处不起作用，"
                              f"请删去或移到多实例活动上 (property {INSTANCE_LABEL} names the instances of a "
                              "multi-instance activity; it does nothing here: remove it or move it there)",
                              severity="warning")
            continue
        yield from check_expression_property(doc, owner, INSTANCE_LABEL, "multi-instance",
                                             ("说明每个实例叫什么", "naming each instance"), "${reporter.unit}")

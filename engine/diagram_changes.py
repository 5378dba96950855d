"""What changed in a process from one diagram to the next, said the way an analyst and the reform
office read a change: which steps, flows, gateways, events and lanes were added, removed or
changed, and in what — name, instructions, who does it, deadline, form fields, conditions, timers,
called process, properties. The drawing's layout (positions, waypoints) is not a change of how a
plan runs; a new file that changes only the layout says so. A file that is the same XML once
canonicalised (a Modeler re-save: attribute order, `&#38;` for `&amp;`, namespace declarations,
indentation) is the same content: Engine.deploy keeps its version, and nothing is said to change.

Elements are matched by id, as Camunda Modeler keeps ids stable: an element given a new id shows
as one removed and one added. Both diagrams are read with engine/xmlsafe.py, like every diagram.

    compare(old_xml, new_xml, key)            # two diagrams of process `key`
    same_content(old_xml, new_xml)            # the same XML once canonicalised (deploy: no new version)
    against_deployed(session, files)          # uploaded files against the latest deployed versions
    between_versions(session, key, version)   # a deployed version against the one before it
"""
from __future__ import annotations

import json

from lxml import etree
from sqlalchemy import select

from models import HumanTask, ProcessDefinition, ProcessInstance
from models.process import is_open

from .errors import Invalid, NotFound
from .parser import NS
from .xmlsafe import parse_bpmn_bytes

BPMN = "{%s}" % NS["bpmn"]
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DIAGRAM = "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNDiagram"

# the elements a change is said of, with what a person calls them
KINDS = {
    # a user task is 用户任务 in Chinese BPMN usage: 人工任务/手工任务 is a manual task, which check refuses
    "process": ("流程", "process"), "userTask": ("用户任务", "user task"), "task": ("任务", "task"),
    "manualTask": ("手工任务", "manual task"), "serviceTask": ("服务任务", "service task"),
    "sendTask": ("发送任务", "send task"), "receiveTask": ("接收任务", "receive task"),
    "scriptTask": ("脚本任务", "script task"), "businessRuleTask": ("业务规则任务", "business rule task"),
    "callActivity": ("调用流程", "call activity"), "subProcess": ("子流程", "subprocess"),
    "transaction": ("事务子流程", "transaction"),
    "startEvent": ("开始事件", "start event"), "endEvent": ("结束事件", "end event"),
    "intermediateCatchEvent": ("中间捕获事件", "intermediate catch event"),
    "intermediateThrowEvent": ("中间抛出事件", "intermediate throw event"),
    "boundaryEvent": ("边界事件", "boundary event"),
    "exclusiveGateway": ("排他网关", "exclusive gateway"), "parallelGateway": ("并行网关", "parallel gateway"),
    "inclusiveGateway": ("包容网关", "inclusive gateway"), "eventBasedGateway": ("事件网关", "event-based gateway"),
    "complexGateway": ("复杂网关", "complex gateway"), "sequenceFlow": ("连线", "sequence flow"),
    "lane": ("泳道", "lane"), "dataObjectReference": ("数据对象", "data object"),
    "dataStoreReference": ("数据存储", "data store"),
}
# what changed in an element, in the order it is said
ASPECTS = {
    "type": ("类型", "type"), "name": ("名称", "name"), "documentation": ("办理说明", "documentation"),
    "camunda:assignee": ("办理人", "assignee"), "camunda:candidateGroups": ("候选组", "candidate groups"),
    "camunda:candidateUsers": ("候选人", "candidate users"), "camunda:dueDate": ("办理期限", "due date"),
    "camunda:followUpDate": ("跟进日期", "follow-up date"), "camunda:priority": ("优先级", "priority"),
    "camunda:initiator": ("发起人变量", "initiator variable"),
    "camunda:candidateStarterGroups": ("可发起的组", "candidate starter groups"),
    "camunda:candidateStarterUsers": ("可发起的人", "candidate starter users"),
    "sourceRef": ("起点", "from"), "targetRef": ("终点", "to"), "condition": ("条件", "condition"),
    "default": ("默认连线", "default flow"), "attachedToRef": ("附着于", "attached to"),
    "cancelActivity": ("中断所附着的任务", "interrupting"), "calledElement": ("调用的流程", "called process"),
    "events": ("事件定义", "event definition"), "loop": ("多实例", "multi-instance"),
    "members": ("泳道中的元素", "lane members"), "mappings": ("变量传递", "variable mappings"),
    "script": ("脚本", "script"),
}
FIELD_ASPECTS = {"label": ("标签", "label"), "type": ("类型", "type"), "defaultValue": ("默认值", "default"),
                 "validation": ("校验", "validation"), "values": ("选项", "options"),
                 "properties": ("属性", "properties")}
# camunda elements whose children the Modeler writes kind by kind, in its schema's order
# (camunda-bpmn-moddle's camunda.json): a form field's properties, validation, values. Which kind
# comes first means nothing; the order within a kind (an enum's values) is kept.
_SCHEMA_ORDERED = frozenset(f"{{{NS['camunda']}}}{name}" for name in
                            ("formField", "inputOutput", "connector", "executionListener", "taskListener"))
_SKIPPED_CHILDREN = {"documentation", "incoming", "outgoing", "flowNodeRef", "conditionExpression",
                     "extensionElements", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
                     "script", "childLaneSet"}


def local_name(element) -> str:
    """An element's tag without its namespace (userTask, BPMNShape)."""
    return etree.QName(element).localname


def _text(element) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _attribute_name(name: str) -> str:
    qname = etree.QName(name)
    return f"camunda:{qname.localname}" if qname.namespace == NS["camunda"] else qname.localname


def find_process(root, key: str, file_name: str):
    """The process `key` of a parsed file (its root element); Invalid naming the file if it has none
    (here, and for the 流程图, engine/diagram_svg.py)."""
    for process in root.iterfind("bpmn:process", NS):
        if process.get("id") == key:
            return process
    raise Invalid(f"{file_name}: 没有标识为 {key} 的流程 (no process with id {key})")


def _names_of(tree, tag: str) -> dict[str, str]:
    """Messages, signals, errors and escalations by id: an event is said by the name it refers to."""
    return {e.get("id"): e.get("name") or e.get("id") for e in tree.getroot().iterfind(f"bpmn:{tag}", NS)}


def _elements(process, tree) -> dict[str, dict]:
    """Each element of the process (the process itself included), in document order, by id:
    its kind, its name and every aspect a change is said of."""
    refs = {tag: _names_of(tree, tag) for tag in ("message", "signal", "error", "escalation")}
    found = {}
    for element in process.iter(f"{BPMN}*"):
        kind = local_name(element)
        if kind in KINDS and element.get("id"):
            found[element.get("id")] = _aspects(element, kind, refs)
    return found


def _aspects(element, kind: str, refs: dict) -> dict:
    aspects: dict = {"type": kind, "name": element.get("name") or ""}
    aspects["documentation"] = _text(element.find("bpmn:documentation", NS))
    for name, value in element.attrib.items():
        said = _attribute_name(name)
        if said not in ("id", "name", "isExecutable") and etree.QName(name).namespace != XSI:
            aspects[said] = value
    if kind == "lane":
        aspects["members"] = ", ".join(sorted(_text(r) for r in element.iterfind("bpmn:flowNodeRef", NS)))
    condition = element.find("bpmn:conditionExpression", NS)
    if condition is not None:
        aspects["condition"] = _text(condition)
    events = []
    for definition in element:
        local = local_name(definition) if isinstance(definition.tag, str) else ""
        if local.endswith("EventDefinition"):
            events.append(_event_definition(definition, local, refs))
    if events:
        aspects["events"] = "; ".join(events)
    loop = element.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is not None:
        parts = [f"{_attribute_name(k)}={v}" for k, v in sorted(loop.attrib.items()) if k != "id"]
        parts += [f"{local_name(c)}={_text(c)}" for c in loop if isinstance(c.tag, str)]
        aspects["loop"] = ", ".join(parts)
    script = element.find("bpmn:script", NS)
    if script is not None:
        aspects["script"] = _text(script)
    extensions = element.find("bpmn:extensionElements", NS)
    if extensions is not None:
        _extensions(extensions, aspects)
    return aspects


def _event_definition(definition, local: str, refs: dict) -> str:
    kind = local[: -len("EventDefinition")]
    if kind == "timer":
        return "timer " + ", ".join(f"{local_name(c)}={_text(c)}" for c in definition if isinstance(c.tag, str))
    for attribute, table in (("messageRef", "message"), ("signalRef", "signal"), ("errorRef", "error"),
                             ("escalationRef", "escalation")):
        if definition.get(attribute):
            return f"{kind} {refs[table].get(definition.get(attribute), definition.get(attribute))}"
    return kind


def _extensions(extensions, aspects: dict) -> None:
    """camunda:properties one aspect each (`property:NAME`), the form a dict of fields, call
    mappings, and anything else (listeners, input/output, another platform's settings) by its
    elements' names and attributes."""
    others = []
    for child in extensions:
        if not isinstance(child.tag, str):
            continue
        local = local_name(child)
        if local == "properties":
            values: dict[str, list[str]] = {}
            for p in child.iterfind("camunda:property", NS):
                values.setdefault(p.get("name") or "", []).append(p.get("value") or "")
            for name, listed in values.items():
                aspects[f"property:{name}"] = ", ".join(listed)
        elif local == "formData":
            aspects["form"] = {f.get("id"): _field(f) for f in child.iterfind("camunda:formField", NS)}
        elif local in ("in", "out"):
            aspects.setdefault("mappings", []).append(
                f"{local}: " + ", ".join(f"{k}={v}" for k, v in sorted(child.attrib.items())))
        else:
            others.append(_readable(child))
    if "mappings" in aspects:
        aspects["mappings"] = "; ".join(sorted(aspects["mappings"]))
    if others:
        aspects["other"] = "; ".join(others)


def _readable(element) -> str:
    """An extension element as a person reads it, not as XML: its name as the file writes it,
    its attributes, its text, its elements in brackets; no namespace declarations
    (`zeebe:assignmentDefinition candidateGroups="legal_experts"`)."""
    said = " ".join([_prefixed(element.tag, element),
                     *(f'{_prefixed(name, element)}="{value}"' for name, value in element.attrib.items())])
    if text := _text(element):
        said += f"：{text}"
    inner = [_readable(child) for child in element if isinstance(child.tag, str)]
    return f"{said} ({'; '.join(inner)})" if inner else said


def _prefixed(name: str, element) -> str:
    """A tag or attribute name with the prefix the file gives its namespace (zeebe:formDefinition)."""
    qname = etree.QName(name)
    prefix = next((p for p, uri in element.nsmap.items() if p and uri == qname.namespace), None)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _field(field) -> dict:
    said = {"label": field.get("label") or "", "type": field.get("type") or "",
            "defaultValue": field.get("defaultValue") or ""}
    said["validation"] = ", ".join(
        f"{c.get('name')}={c.get('config')}" if c.get("config") is not None else c.get("name")
        for c in field.iterfind("camunda:validation/camunda:constraint", NS))
    said["values"] = ", ".join(f"{v.get('id')}={v.get('name')}" for v in field.iterfind("camunda:value", NS))
    said["properties"] = ", ".join(f"{p.get('id')}={p.get('value')}"
                                   for p in field.iterfind("camunda:properties/camunda:property", NS))
    return said


def _aspect_name(aspect: str) -> tuple[str, str]:
    if aspect.startswith("property:"):
        name = aspect.split(":", 1)[1]
        return f"扩展属性 {name}", f"property {name}"
    if aspect == "other":
        return "其他设置", "other settings"
    return ASPECTS.get(aspect) or (aspect, aspect)


def _canonical(root) -> bytes:
    """The tree as exclusive C14N, after dropping whitespace-only text (indentation, `<a>\n</a>`
    for `<a/>`) and putting schema-ordered children in one order. Changes `root`."""
    for element in root.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    for element in root.iter(*_SCHEMA_ORDERED):
        element[:] = sorted(element, key=lambda child: child.tag if isinstance(child.tag, str) else "")
    return etree.tostring(root, method="c14n", exclusive=True, with_comments=True)


def _bytes(xml: str | bytes) -> bytes:
    return xml.encode("utf-8") if isinstance(xml, str) else xml


def same_content(old_xml: str | bytes, new_xml: str | bytes) -> bool:
    """Whether two files are the same XML once canonicalised: identical bytes at once, else C14N
    (Engine.deploy: a Modeler re-save with no change is no new version)."""
    old, new = _bytes(old_xml), _bytes(new_xml)
    if old == new:
        return True
    return _canonical(parse_bpmn_bytes(old, "deployed").getroot()) \
        == _canonical(parse_bpmn_bytes(new, "new").getroot())


def _layout(root) -> list:
    """The drawing's layout (the bpmndi:BPMNDiagram elements), to compare canonically."""
    return list(root.iterfind(DIAGRAM))


# aspects that are a set of ids: a change is said as what was added and what removed
_SETS = {"members"}


def _differences(old: dict, new: dict) -> list[dict]:
    details = []
    for aspect in [*ASPECTS, *sorted({*old, *new} - set(ASPECTS) - {"form"})]:
        before, after = old.get(aspect, ""), new.get(aspect, "")
        if before != after:
            zh, en = _aspect_name(aspect)
            detail = {"aspect": aspect, "label": zh, "label_en": en, "old": before or None, "new": after or None}
            if aspect in _SETS and before and after:
                detail |= _added_and_removed(before, after)
            details.append(detail)
    details += _form_differences(old.get("form") or {}, new.get("form") or {})
    return details


def _added_and_removed(before: str, after: str) -> dict:
    """What a list of ids gained and lost (old and new stay whole, for --json)."""
    old, new = before.split(", "), after.split(", ")
    return {"added": [i for i in new if i not in old], "removed": [i for i in old if i not in new]}


def _form_differences(old: dict, new: dict) -> list[dict]:
    details = []
    for field_id in [*new, *(f for f in old if f not in new)]:
        before, after = old.get(field_id), new.get(field_id)
        if before == after:
            continue
        label = (after or before)["label"]
        base = {"aspect": f"form:{field_id}", "field": field_id}
        if before is None:
            details.append({**base, "label": f"新增表单字段 {field_id}（{label}）", "label_en": f"form field {field_id} ({label}) added",
                            "old": None, "new": _field_text(after)})
        elif after is None:
            details.append({**base, "label": f"删除表单字段 {field_id}（{label}）", "label_en": f"form field {field_id} ({label}) removed",
                            "old": _field_text(before), "new": None})
        else:
            for part, (zh, en) in FIELD_ASPECTS.items():
                if before[part] != after[part]:
                    details.append({**base, "label": f"表单字段 {field_id}（{label}）的{zh}",
                                    "label_en": f"form field {field_id} ({label}): {en}", "old": before[part] or None,
                                    "new": after[part] or None})
    return details


def _field_text(field: dict) -> str:
    return "; ".join(f"{part}={field[part]}" for part in FIELD_ASPECTS if field[part])


def _summary(aspects: dict) -> list[dict]:
    """What an added or removed element is: its aspects other than its name and kind."""
    return [d for d in _differences({}, aspects) if d["aspect"] not in ("type", "name")]


def _element_changes(old: dict, new: dict) -> list[dict]:
    changes = []
    for element_id, aspects in new.items():
        if element_id not in old:
            changes.append(_change(element_id, aspects, "added", _summary(aspects)))
        elif (details := _differences(old[element_id], aspects)):
            changes.append(_change(element_id, aspects, "changed", details))
    for element_id, aspects in old.items():
        if element_id not in new:
            changes.append(_change(element_id, aspects, "removed", []))
    return changes


def first_version(tree, key: str) -> list[dict]:
    """A process not deployed yet: each of its elements, as added (what version 1 will be)."""
    return _element_changes({}, _elements(find_process(tree.getroot(), key, "new"), tree))


def compare(old_xml: str | bytes, new_xml: str | bytes, key: str, *, old_file: str = "deployed",
            new_file: str = "new") -> dict:
    """The changes to process `key` from the old diagram to the new one."""
    trees = [parse_bpmn_bytes(_bytes(xml), file_name) for xml, file_name in ((old_xml, old_file), (new_xml, new_file))]
    old = _elements(find_process(trees[0].getroot(), key, old_file), trees[0])
    new = _elements(find_process(trees[1].getroot(), key, new_file), trees[1])
    changes = _element_changes(old, new)
    if changes:
        return {"key": key, "changes": changes, "unchanged": False, "layout_only": False, "file_only": False}
    old_root, new_root = trees[0].getroot(), trees[1].getroot()
    if _canonical(old_root) == _canonical(new_root):
        return {"key": key, "changes": [], "unchanged": True, "layout_only": False, "file_only": False}
    # nothing a plan follows changed: the drawing did, or only something else in the file (a comment,
    # a text annotation, the Modeler's version)
    moved = [_canonical(d) for d in _layout(old_root)] != [_canonical(d) for d in _layout(new_root)]
    return {"key": key, "changes": [], "unchanged": False, "layout_only": moved, "file_only": not moved}


def _change(element_id: str, aspects: dict, kind: str, details: list[dict]) -> dict:
    zh, en = KINDS[aspects["type"]]
    return {"element_id": element_id, "element_type": aspects["type"], "type_name": zh, "type_name_en": en,
            "name": aspects["name"], "change": kind, "details": details}


def process_keys(tree) -> list[str]:
    return [p.get("id") for p in tree.getroot().iterfind("bpmn:process", NS) if p.get("id")]


def against_deployed(session, files: list[tuple[str, bytes]]) -> list[dict]:
    """For each process in the uploaded files: its changes against its latest deployed version,
    `new_process` with all its elements for one not deployed yet, `unchanged` for the same
    content again (as deploy says it). A file that cannot be read is left out (the check names
    its problem)."""
    results = []
    for file_name, data in files:
        try:
            tree = parse_bpmn_bytes(data, file_name)
        except Invalid:
            continue
        for key in process_keys(tree):
            latest = _definition(session, key)
            item = {"key": key, "file_name": file_name, "old_version": latest.version if latest else None}
            if latest is None:  # listed whole: the reader sees what version 1 will be
                results.append({**item, "new_process": True, "changes": first_version(tree, key), "layout_only": False})
            elif latest.bpmn_xml.encode("utf-8") == data:
                results.append({**item, "unchanged": True, "changes": [], "layout_only": False, "file_only": False})
            else:
                result = compare(latest.bpmn_xml, data, key, old_file=f"{key} v{latest.version}", new_file=file_name)
                _note_waiting_plans(session, key, latest.bpmn_xml, result["changes"])
                results.append({**item, **result})
    return results


def looks_changed_only(changed: list[dict]) -> list[dict]:
    """The processes of against_deployed's list that deploy would make a new version of though
    plans would run exactly as before: only the layout moved, or only a comment or a text
    annotation changed. Deploy asks before adding such a version (a stray save, not a change)."""
    return [p for p in changed if not p.get("unchanged") and not p.get("new_process")
            and (p.get("layout_only") or p.get("file_only"))]


def between_versions(session, key: str, version: int) -> dict:
    """Version `version` of process `key` against the version before it."""
    new = _definition(session, key, version)
    if new is None:
        raise NotFound(f"流程 {key} 没有第 {version} 版 (process {key} has no version {version})")
    if version == 1:
        raise Invalid(f"{key} 第 1 版是它的第一个版本，没有可比较的上一版 (version 1 is the first: nothing to compare with)")
    old = _definition(session, key, version - 1)
    result = compare(old.bpmn_xml, new.bpmn_xml, key, old_file=f"{key} v{version - 1}", new_file=f"{key} v{version}")
    _note_waiting_plans(session, key, old.bpmn_xml, result["changes"], before=version)
    return {"key": key, "name": new.name, "old_version": version - 1, "new_version": version,
            "old_file": old.file_name, "new_file": new.file_name, **result}


def _note_waiting_plans(session, key: str, old_xml: str, changes: list[dict], *, before: int | None = None) -> None:
    """A removed step (or one whose id changed) that running plans wait in: its change gets
    `waiting` {plans, versions}, so the reader knows they finish there on the version they
    started on. Read from the open inbox rows; with `before`, only plans on an earlier version."""
    removed = [c for c in changes if c["change"] == "removed"]
    if not removed:
        return
    found = waiting_plans(session, key, _scopes(old_xml, key), [c["element_id"] for c in removed])
    for change in removed:
        plans = {plan: v for plan, v in found.get(change["element_id"], {}).items() if before is None or v < before}
        if plans:
            change["waiting"] = {"plans": len(plans), "versions": sorted(set(plans.values()))}


def _scopes(xml: str, key: str) -> set[str]:
    """The names an inbox row of process `key` carries as its process_key: the process's own, or
    that of the embedded subprocess the step is in (SpiffWorkflow runs each as a workflow)."""
    process = find_process(parse_bpmn_bytes(_bytes(xml), key).getroot(), key, key)
    return {key, *(e.get("id") for e in process.iter(f"{BPMN}subProcess", f"{BPMN}transaction") if e.get("id"))}


def waiting_plans(session, key: str, scopes: set[str], element_ids: list[str]) -> dict[str, dict[int, int]]:
    """element id -> {plan id: the version of `key` it runs} for the running plans with an open
    inbox row at one of `element_ids` of process `key` (the plan's own process or one it calls)."""
    versions = dict(session.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                                    .where(ProcessDefinition.key == key)).all())
    rows = session.execute(
        select(HumanTask.element_id, HumanTask.instance_id, ProcessInstance.definition_id,
               ProcessInstance.subprocess_definitions)
        .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id)
        .where(HumanTask.element_id.in_(element_ids), HumanTask.process_key.in_(scopes), is_open(HumanTask.status),
               ProcessInstance.status == "running"))
    found: dict[str, dict[int, int]] = {}
    for element_id, plan, definition_id, called in rows:
        bound = definition_id if definition_id in versions else json.loads(called or "{}").get(key)
        if bound in versions:
            found.setdefault(element_id, {})[plan] = versions[bound]
    return found


def _definition(session, key: str, version: int | None = None):
    query = select(ProcessDefinition).where(ProcessDefinition.key == key)
    query = query.where(ProcessDefinition.version == version) if version is not None \
        else query.order_by(ProcessDefinition.version.desc()).limit(1)
    return session.execute(query).scalars().first()

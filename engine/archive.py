"""A plan's decision archive (决策档案): the records of the five statutory procedures of a major
decision — public participation, expert argumentation, risk assessment, legality review,
collective discussion and decision (《重大行政决策程序暂行条例》 Art. 33) — gathered from the
audit trail, each record with the audit event that proves it.

Which procedure a user task belongs to is the diagram's to say: the task's extension property
`procedure` (Camunda Modeler: Extensions → Properties), a code or Chinese name of engine/procedures.py.
Completed tasks without one are kept too, as the plan's other records, each with the files
attached to its task. Each record's event is checked against its hash and its links to the
events before and after it, and each file against the SHA-256 its upload recorded; `audit
verify` walks the whole chain.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ProcessDefinition, Unit, User

from . import documents
from .audit import check_events
from .history import load_trail
from .ledger import LEAD_UNIT
from .parser import NS, property_values
from .procedures import PROCEDURES, PROPERTY as PROCEDURE, procedure_code
from .queries import iso
from .xmlsafe import parse_bpmn_bytes

OTHER = ("other", "其他办理记录", "other records")


def decision_archive(session: Session, instance_id: int, now: datetime) -> dict:
    trail = load_trail(session, instance_id)
    plan = trail.plan
    procedures = _task_procedures(session, plan)
    units = _units(session, set(trail.names))
    files = {}
    for d in documents.listed(session, instance_id):
        files.setdefault(d["task_id"], []).append(d)
    sections = {code: [] for code in [*PROCEDURES, OTHER[0]]}
    proved = []
    for e in trail.events:
        task = trail.tasks.get(e.task_id)
        if e.event_type != "task_completed" or task is None:
            continue
        item = trail.describe(e)
        code = procedures.get((task.process_key, task.element_id)) or OTHER[0]
        sections[code].append({"seq": e.seq, "hash": e.hash, "occurred_at": item["occurred_at"],
                               "actor": e.actor, "actor_name": item["actor_name"],
                               # 委托办理: the colleague away they completed it for, if any
                               "on_behalf_of": item.get("on_behalf_of"), "on_behalf_name": item.get("on_behalf_name"),
                               # the unit they acted for, kept with the completion; today's for older events
                               "actor_unit": item["payload"]["unit"] if "unit" in item["payload"] else units.get(e.actor),
                               "task_id": task.id, "element_id": task.element_id, "name": task.name,
                               "subject": task.subject,
                               "values": item["values"], "documents": files.get(task.id, [])})
        proved.append(e)
    problems = check_events(session, proved) + _unproved(trail, proved) + documents.check(session, instance_id)[1]
    # files on steps with no record (open still, or withdrawn): kept too, as everything attached is
    on_records = {e.task_id for e in proved}
    loose = [d for task_files in files.values() for d in task_files if d["task_id"] not in on_records]
    variables = json.loads(plan.variables_json or "{}")
    return {
        "id": plan.id, "title": plan.title, "business_key": plan.business_key, "status": plan.status,
        "lead_unit": variables.get(LEAD_UNIT), "started_at": iso(plan.started_at), "ended_at": iso(plan.ended_at),
        "exported_at": iso(now),
        "verified": {"ok": not problems, "events": len(proved), "problems": problems},
        # False when no task of the plan's diagrams names a procedure (a process that is no
        # decision, or a version deployed before the property): every record is then "other"
        "classified": bool(procedures),
        "sections": [{"code": code, "name": _names(code)[0], "name_en": _names(code)[1], "records": records}
                     for code, records in sections.items()],
        "other_documents": sorted(loose, key=lambda d: d["id"]),
    }


def _unproved(trail, proved: list) -> list[str]:
    """A completed task without its completion event: the event that proved it was removed (the
    record would else drop out of the archive unremarked). Also a completion event whose task
    row is gone."""
    problems = []
    done = {e.task_id for e in proved}
    for task in sorted(trail.tasks.values(), key=lambda t: t.id):
        if task.status == "completed" and task.id not in done:
            problems.append(f"待办 {task.id}（{task.name}）已办结，但审计记录中没有它的提交事件，该事件被删除 "
                            f"(task {task.id}: completed, but its task_completed event is missing: the event was removed)")
    for e in trail.events:
        if e.event_type == "task_completed" and e.task_id not in trail.tasks:
            problems.append(f"事件 {e.seq} 记录的待办 {e.task_id} 已不存在，该记录未列入档案 "
                            f"(event {e.seq}: its task {e.task_id} is missing, so the record is not listed)")
    return problems


def _names(code: str) -> tuple[str, str]:
    return PROCEDURES.get(code) or OTHER[1:]


def _task_procedures(session: Session, plan) -> dict[tuple[str, str], str]:
    """(process or subprocess id, user task id) -> procedure code, from the diagrams the plan is
    bound to (its own version and its called processes' versions)."""
    ids = [plan.definition_id, *json.loads(plan.subprocess_definitions or "{}").values()]
    found = {}
    for definition in session.execute(select(ProcessDefinition).where(ProcessDefinition.id.in_(ids))).scalars():
        tree = parse_bpmn_bytes(definition.bpmn_xml.encode("utf-8"), definition.file_name)
        for task in tree.getroot().iterfind(".//bpmn:userTask", NS):
            code = procedure_code(next(iter(property_values(task, PROCEDURE)), None))
            if code:
                container = next(task.iterancestors(f"{{{NS['bpmn']}}}subProcess", f"{{{NS['bpmn']}}}process"))
                found[(container.get("id"), task.get("id"))] = code
    return found


def _units(session: Session, usernames: set[str]) -> dict[str, str]:
    return dict(session.execute(select(User.username, Unit.name).join(Unit, User.unit_id == Unit.id)
                                .where(User.username.in_(usernames))).all())

"""A plan's decision archive (决策档案): the records of the five statutory procedures of a major
decision — public participation, expert argumentation, risk assessment, legality review,
collective discussion and decision (《重大行政决策程序暂行条例》 Art. 33) — gathered from the
audit trail, each record with the audit event that proves it.

Which procedure a user task belongs to is the diagram's to say: the task's extension property
`procedure` (Camunda Modeler: Extensions → Properties), a code or Chinese name of engine/procedures.py.
Completed tasks without one are kept too, as the plan's other records, each with the files
attached to its task. Each record's event is checked against its hash and its links to the
events before and after it, and each file against the SHA-256 its upload recorded; `audit
verify` walks the whole chain. A plan the reform office stopped carries its stop (who, when,
why), checked the same way; a stop, an end or a withdrawn step the trail does not hold is named.
A record whose stated time is far from when it was written (`--now`, a fixed clock) says both.
A procedure without records says why, as a task's 送审材料一览 does (Records.states): in progress,
not needed by the plan's own answers (engine/procedure_gates.py reads the reason from the
diagram's gateways), not reached yet, or none.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ProcessDefinition, Unit, User
from models.process import OPEN_STATUSES

from . import documents
from .audit import CLOCK_TOLERANCE, check_events, off_clock
from .history import Trail, load_trail
from .ledger import LEAD_UNIT
from .procedure_gates import Container, Library, containers, deciding
from .procedures import PROCEDURES
from .queries import iso

OTHER = ("other", "其他办理记录", "other records")
# the event that must account for a plan's or a step's status (engine/runtime.py records them)
STATUS_EVENTS = {"cancelled": "instance_cancelled", "completed": "instance_ended"}
ENDED = tuple(STATUS_EVENTS)  # a plan's statuses once it has ended
# how far a record's stated time may be from when it was written before the archive shows both:
# the tolerance `audit verify` notes such events with
TOLERANCE_MINUTES = int(CLOCK_TOLERANCE.total_seconds() // 60)


@dataclass
class Records:
    """A plan's completed steps filed under their procedures: what the archive lists, and what a
    task's page sums up for a reviewer (送审材料一览, engine/task_page.py), before any check."""
    trail: Trail
    procedures: dict[tuple[str, str], str]  # (process or subprocess id, user task id) -> procedure code
    units: dict[str, str]
    files: dict[int | None, list[dict]]  # task id -> its files, oldest first
    sections: dict[str, list[dict]]  # procedure code (then OTHER's) -> its records, oldest first
    proved: list  # the task_completed events the records come from
    # procedure code -> why the plan does not need it (engine/procedure_gates.py: the gateway and
    # the way the plan takes, 是否涉及群众切身利益：不涉及), None where its diagrams have no step of it
    not_needed: dict[str, str | None]

    def states(self) -> dict[str, dict]:
        """Each procedure's state, as the archive and a task's 送审材料一览 both say it: `open`
        (a step of it is open: 办理中), `done` (recorded: 已办), `not_needed` (不需要, with the
        `reason`), `not_reached` (the plan runs and has not come to it: 尚未到达) or `none` (the
        plan ended without a record of it: 无记录)."""
        open_codes = {self.procedures.get((t.process_key, t.element_id)) for t in self.trail.tasks.values()
                      if t.status in OPEN_STATUSES}
        ended = self.trail.plan.status in ENDED
        states = {}
        for code in PROCEDURES:
            state = "open" if code in open_codes else "done" if self.sections[code] else \
                "not_needed" if code in self.not_needed else "none" if ended else "not_reached"
            states[code] = {"state": state, "reason": self.not_needed.get(code) if state == "not_needed" else None}
        return states


def procedure_records(session: Session, instance_id: int, trail: Trail | None = None) -> Records:
    """The plan's records by procedure; `trail`: the plan's, if the caller has read it already."""
    trail = trail or load_trail(session, instance_id)
    procedures, library, own = _task_procedures(session, trail.plan)
    units = trail.then.now_units if trail.then is not None else _units(session, set(trail.names))
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
        sections[code].append({**_who_and_when(e, item, units),
                               "task_id": task.id, "element_id": task.element_id, "name": task.name,
                               "subject": task.subject,
                               "values": item["values"], "documents": files.get(task.id, [])})
        proved.append(e)
    return Records(trail, procedures, units, files, sections, proved, _not_needed(trail.plan, library, own))


def _not_needed(plan, library: Library, own: Container | None) -> dict[str, str | None]:
    """The procedures the plan does not need by its own variables, and those its diagrams have no
    step of (None), for a plan whose diagrams name procedures at all."""
    if own is None or not library.within(own):
        return {}
    decide = deciding(json.loads(plan.variables_json or "{}"))
    found = {}
    for code in PROCEDURES:
        if code not in library.within(own):
            found[code] = None
        elif (reason := library.not_needed(own, code, decide)) is not None:
            found[code] = reason
    return found


def decision_archive(session: Session, instance_id: int, now: datetime) -> dict:
    found = procedure_records(session, instance_id)
    trail, plan, units, files, sections, proved = \
        found.trail, found.trail.plan, found.units, found.files, found.sections, found.proved
    procedures = found.procedures
    states = found.states() if procedures else {}
    stop_event = _stop_event(trail)
    checked = proved + ([stop_event] if stop_event is not None else [])
    problems = check_events(session, checked) + _unproved(trail, proved) + documents.check(session, instance_id)[1]
    # files on steps with no record (open still, or withdrawn): kept too, as everything attached is
    on_records = {e.task_id for e in proved}
    loose = [d for task_files in files.values() for d in task_files if d["task_id"] not in on_records]
    variables = json.loads(plan.variables_json or "{}")
    return {
        "id": plan.id, "title": plan.title, "business_key": plan.business_key, "status": plan.status,
        "lead_unit": variables.get(LEAD_UNIT), "started_at": iso(plan.started_at), "ended_at": iso(plan.ended_at),
        "exported_at": iso(now),
        "verified": {"ok": not problems, "events": len(proved), "stop_checked": stop_event is not None,
                     "problems": problems},
        # False when no task of the plan's diagrams names a procedure (a process that is no
        # decision, or a version deployed before the property): every record is then "other"
        "classified": bool(procedures),
        "sections": [{"code": code, "name": _names(code)[0], "name_en": _names(code)[1], "records": records,
                      **states.get(code, {"state": "done" if records else "none", "reason": None})}
                     for code, records in sections.items()],
        "other_documents": sorted(loose, key=lambda d: d["id"]),
        # the reform office's stop of the plan (reformflow cancel): the decision this file ends with
        "stop": _stop(trail, stop_event, units),
        "tolerance_minutes": TOLERANCE_MINUTES,
    }


def _who_and_when(e, item: dict, units: dict[str, str]) -> dict:
    """Who acted, for whom and for which unit, when they said and when it was written, and the
    event that proves it."""
    behalf = item.get("on_behalf_of")
    return {"seq": e.seq, "hash": e.hash, "occurred_at": item["occurred_at"],
            # when it was written, and whether that is far from the time stated (--now, a fixed clock)
            "recorded_at": iso(e.recorded_at), "off_clock": off_clock(e),
            "actor": e.actor, "actor_name": item["actor_name"],
            # renamed or moved since (QA auditor finding 13): today's name and unit beside those of then
            "actor_name_now": item.get("actor_name_now"),
            # the unit they acted for, kept with the event; for older events as the trail's user
            # changes say it was then (engine/names_then.py), else today's
            "actor_unit": item["payload"]["unit"] if "unit" in item["payload"]
            else item["actor_unit"] if "actor_unit" in item else units.get(e.actor),
            "actor_unit_now": _unit_now(item, units.get(e.actor)),
            # 委托办理: the colleague away they acted for, and that colleague's unit, kept with the
            # event (today's for older events): the step is that unit's (a legality review is the
            # 法制机构's, whoever stood in)
            "on_behalf_of": behalf, "on_behalf_name": item.get("on_behalf_name"),
            "on_behalf_unit": item["payload"].get("on_behalf_of_unit") or units.get(behalf) if behalf else None}


def _unit_now(item: dict, today: str | None) -> str | None:
    """Today's unit of who acted, where it differs from the unit the record names."""
    then = item["payload"]["unit"] if "unit" in item["payload"] else item.get("actor_unit", today)
    return today if today and (then or None) != today else None


def _stop_event(trail):
    """The event that stopped a cancelled plan (its last, should it have several)."""
    if trail.plan.status != "cancelled":
        return None
    return next((e for e in reversed(trail.events) if e.event_type == "instance_cancelled"), None)


def _stop(trail, e, units: dict[str, str]) -> dict | None:
    if e is None:
        return None
    item = trail.describe(e)
    withdrawn = [trail.describe(c)["name"] for c in trail.events
                 if c.event_type == "task_cancelled" and json.loads(c.payload).get("reason") == "plan_cancelled"]
    return {**_who_and_when(e, item, units), "reason": item["payload"].get("reason"), "withdrawn": withdrawn}


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
    problems += _unaccounted(trail)
    for e in trail.events:
        if e.event_type == "task_completed" and e.task_id not in trail.tasks:
            problems.append(f"事件 {e.seq} 记录的待办 {e.task_id} 已不存在，该记录未列入档案 "
                            f"(event {e.seq}: its task {e.task_id} is missing, so the record is not listed)")
    return problems


def _unaccounted(trail) -> list[str]:
    """A plan stopped or ended, or a step withdrawn, with no event saying so: the event was
    removed (a cut-back tail takes the stop with it, and the status alone cannot say who or why)."""
    problems = []
    kinds = {e.event_type for e in trail.events}
    plan = trail.plan
    if plan.status == "cancelled" and STATUS_EVENTS["cancelled"] not in kinds:
        problems.append(f"方案 {plan.id} 已终止，但审计记录中没有终止事件（instance_cancelled），谁在何时、为何终止无据可查，"
                        f"该事件被删除 (plan {plan.id}: cancelled, but its instance_cancelled event is missing: who "
                        "stopped it, when and why is not on record; the event was removed)")
    if plan.status == "completed" and STATUS_EVENTS["completed"] not in kinds:
        problems.append(f"方案 {plan.id} 已办结，但审计记录中没有办结事件（instance_ended），该事件被删除 "
                        f"(plan {plan.id}: completed, but its instance_ended event is missing: the event was removed)")
    withdrawn = {e.task_id for e in trail.events if e.event_type == "task_cancelled"}
    for task in sorted(trail.tasks.values(), key=lambda t: t.id):
        if task.status == "cancelled" and task.id not in withdrawn:
            problems.append(f"待办 {task.id}（{task.name}）已撤销，但审计记录中没有它的撤销事件，该事件被删除 "
                            f"(task {task.id}: cancelled, but its task_cancelled event is missing: the event was removed)")
    return problems


def _names(code: str) -> tuple[str, str]:
    return PROCEDURES.get(code) or OTHER[1:]


def _task_procedures(session: Session, plan) -> tuple[dict[tuple[str, str], str], Library, Container | None]:
    """(process or subprocess id, user task id) -> procedure code, from the diagrams the plan is
    bound to (its own version and its called processes' versions); those processes, and the
    plan's own. A diagram is parsed once per content (its SHA-256): a task's page asks on every view."""
    ids = [plan.definition_id, *json.loads(plan.subprocess_definitions or "{}").values()]
    found, processes = {}, {}
    rows = {i: (sha, key) for i, sha, key in session.execute(
        select(ProcessDefinition.id, ProcessDefinition.sha256, ProcessDefinition.key).where(ProcessDefinition.id.in_(ids)))}
    # read once: another thread may empty the cache meanwhile
    diagrams = {sha: _DIAGRAMS.get(sha) for sha, _ in rows.values()}
    missing = [i for i, (sha, _) in rows.items() if diagrams[sha] is None]
    for definition in session.execute(select(ProcessDefinition).where(ProcessDefinition.id.in_(missing))).scalars() \
            if missing else ():
        if len(_DIAGRAMS) >= DIAGRAMS_KEPT:  # every version a task's page showed was kept for good
            _DIAGRAMS.clear()
        diagrams[definition.sha256] = _DIAGRAMS[definition.sha256] = _diagram(definition)
    for sha, _ in rows.values():
        found.update(diagrams[sha][0])
        processes.update(diagrams[sha][1])
    own_sha, own_key = rows.get(plan.definition_id, (None, None))
    own = diagrams[own_sha][1].get(own_key) if own_sha else None
    bound = tuple(sorted({sha for sha, _ in rows.values()}))  # the gates are found once per set of diagrams
    if bound not in _LIBRARIES:
        if len(_LIBRARIES) >= DIAGRAMS_KEPT:
            _LIBRARIES.clear()
        _LIBRARIES[bound] = Library(processes)
    return found, _LIBRARIES[bound], own


DIAGRAMS_KEPT = 64  # diagrams (and sets of them) parsed for tasks' pages, kept at most
# a diagram's SHA-256 -> its tasks' procedures and its processes (engine/procedure_gates.py)
_DIAGRAMS: dict[str, tuple[dict[tuple[str, str], str], dict[str, Container]]] = {}
_LIBRARIES: dict[tuple[str, ...], Library] = {}  # the SHA-256s of a plan's diagrams -> their Library


def _diagram(definition) -> tuple[dict[tuple[str, str], str], dict[str, Container]]:
    processes = containers(definition.bpmn_xml.encode("utf-8"), definition.file_name)
    found = {}

    def walk(c: Container):
        found.update({(c.id, task): code for task, code in c.procedures.items()})
        for inner in c.inner.values():
            walk(inner)
    for c in processes.values():
        walk(c)
    return found, processes


def _units(session: Session, usernames: set[str]) -> dict[str, str]:
    return dict(session.execute(select(User.username, Unit.name).join(Unit, User.unit_id == Unit.id)
                                .where(User.username.in_(usernames))).all())

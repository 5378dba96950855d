"""Read-side views: inbox lists, a plan's page, the definition list. Plain dicts, JSON-ready."""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from functools import partial
from typing import Callable

from sqlalchemy import Connection, bindparam, case, false, func, null, or_, select
from sqlalchemy.orm import Session

from models import AuditEvent, Group, HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate, Unit, User
from models.identity import memberships

from . import bound_sources, clock, forms
from .errors import Forbidden, Invalid, NotFound
from .forms import Limit
from .judged_due import due_by_sql, judged_due, judged_sql
from .provisional import counts_working_days, mark
from .runtime import OPEN_STATUSES, STARTER_UNIT, is_open

SCOPES = ("mine", "claimable", "all")  # open tasks: the inbox, counted on every page
DONE = "done"  # the steps someone completed (已办), newest first
LISTS = SCOPES + (DONE,)
ADMIN_GROUP = "reform_office"  # the reform office: assigns tasks, sees every plan, deploys


_NOBODY = null().label("on_behalf_of")  # rows in a list by one's own rights


def iso(value) -> str | None:
    return value.isoformat() if value else None


def task_dict(task) -> dict:
    """A HumanTask, or a row of human_tasks: the same names."""
    return {
        "id": task.id, "instance_id": task.instance_id, "process_key": task.process_key,
        "element_id": task.element_id, "name": task.name, "subject": task.subject, "lane": task.lane,
        "status": task.status, "assignee": task.assignee,
        "candidate_groups": json.loads(task.candidate_groups),
        "candidate_users": json.loads(task.candidate_users), "candidate_unit": task.candidate_unit,
        "due_at": iso(task.due_at), "due_in_working_days": counts_working_days(getattr(task, "due_basis", None)),
        # the deadline it is judged overdue by: its first when a later one was ordered (限期报送)
        "judged_due_at": iso(judged_due(getattr(task, "first_due_at", None), task.due_at)),
        "follow_up_at": iso(task.follow_up_at),
        "priority": task.priority, "created_at": iso(task.created_at),
        "claimed_at": iso(task.claimed_at), "completed_at": iso(task.completed_at),
        "completed_by": task.completed_by, "reminded_at": iso(task.reminded_at),
        "documentation": task.documentation,
        "form": json.loads(task.form_json), "version": task.version,
    }


def as_typed(text: str) -> list[str]:
    """A search text as typed and, if it differs, NFKC-folded: ＤＴ-２０１５ from a Chinese input
    method's full-width mode finds DT-2015, while 方案（第一稿）, full-width as titles write
    brackets, still finds itself."""
    folded = unicodedata.normalize("NFKC", text)
    return [text] if folded == text else [text, folded]


def unknown_user(username: str) -> Forbidden:
    """The refusal of a name that is no active user's, saying where to find the right one."""
    return Forbidden(f"用户 {username} 不存在或已停用；请核对用户名，在岗人员见 reformflow users list "
                     "(unknown or inactive user: check the name; `reformflow users list` lists who is active)")


def urgent_first(now: datetime) -> tuple:
    """The inbox's order: the steps past their deadline first, then the diagram's priority (an
    escalation or an urging step above an ordinary one), then the deadline (soonest first, none
    last). By priority alone a step overdue for weeks came below one due next month. The deadline
    is the one the step is judged by (engine/judged_due.py: a filing's first after 限期报送)."""
    due = judged_sql(HumanTask.due_at, HumanTask.first_due_at)
    return (case((due < now, 0), else_=1), HumanTask.priority.desc(), due.is_(None), due, HumanTask.id)


def list_tasks(session: Session, username: str, scope: str = "mine",
               instance_id: int | None = None, overdue_at: datetime | None = None, *,
               text: str | None = None, limit: int | None = None, offset: int = 0,
               newest_first: bool = False, due_between: tuple[datetime, datetime] | None = None,
               step: str | None = None) -> list[dict]:
    """mine: claimed by me; claimable: open and I am a candidate; all: both, or — for the
    reform office, which monitors every plan — every open task; done: the steps I completed,
    the latest first. `overdue_at`: only the open tasks whose deadline had passed by then, or the
    done ones completed after their deadline. `due_between` (after, until): only the open tasks
    due after the one instant and by the other (due soon). `step`: only the tasks of that diagram
    element (Task_FileDocument: every filing). `text`: only those whose plan (title, business key)
    or step (name, subject) contains it. `limit`/`offset`: a page of them. Open tasks come
    overdue first, then by priority and deadline (urgent_first), or with `newest_first` the latest
    opened first."""
    query, behalf, may_claim = _listed(session, username, scope, instance_id, overdue_at, text)
    query = _narrowed(query, due_between, step).add_columns(behalf, may_claim)
    if scope == DONE:
        query = query.order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    elif newest_first:
        query = query.order_by(HumanTask.created_at.is_(None), HumanTask.created_at.desc(), HumanTask.id.desc())
    else:
        query = query.order_by(*urgent_first(clock.now()))
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return mark(session.connection(), [
        task_dict(task) | {"plan_title": title, "business_key": business_key, "on_behalf_of": behalf,
                           "may_claim": bool(claim)}
        for task, title, business_key, behalf, claim in session.execute(query)])


def count_listed(session: Session, username: str, scope: str, instance_id: int | None = None,
                 overdue_at: datetime | None = None, text: str | None = None,
                 due_between: tuple[datetime, datetime] | None = None, step: str | None = None) -> int:
    """How many tasks `list_tasks` gives without a limit (a page of done steps says of how many)."""
    query = _listed(session, username, scope, instance_id, overdue_at, text)[0]
    return session.execute(select(func.count()).select_from(_narrowed(query, due_between, step).subquery())).scalar_one()


def _narrowed(query, window: tuple[datetime, datetime] | None, step: str | None):
    """Only the tasks due after the window's first instant and by its second (due soon), and
    only those of the diagram element `step`."""
    if window is not None:
        due = judged_sql(HumanTask.due_at, HumanTask.first_due_at)
        query = query.where(due > window[0], due <= window[1])
    return query if step is None else query.where(HumanTask.element_id == step)


def count_open_listed(session: Session, username: str, scope: str, now: datetime, *, soon_by: datetime,
                      text: str | None = None, step: str | None = None) -> tuple[int, int, int]:
    """For a page of an open list, in one SELECT: how many tasks it holds, how many of them are
    overdue at `now`, and how many are due soon (after `now`, by `soon_by`)."""
    listed = _narrowed(_listed(session, username, scope, None, None, text)[0], None, step).subquery()
    due = judged_sql(listed.c.due_at, listed.c.first_due_at)
    return tuple(session.execute(select(func.count(), func.count(case((due <= now, 1))),
                                        func.count(case(((due > now) & (due <= soon_by), 1))))
                                 .select_from(listed)).one())


def _listed(session: Session, username: str, scope: str, instance_id: int | None, overdue_at: datetime | None,
            text: str | None):
    """The SELECT of a list, the column saying for whom each row is there (委托办理), and the one
    saying whether the person may claim it (the office's 全部 lists tasks it may only assign)."""
    if scope not in LISTS:
        raise Invalid(f"范围须为 {'、'.join(LISTS)} 之一 (scope must be one of {', '.join(LISTS)})")
    scopes = None if scope == DONE else _scopes(session, username)
    condition = _done_by(session, username) if scopes is None else scopes[scope]
    # with the plan each task belongs to: an inbox row must say which plan it is about
    query = select(HumanTask, ProcessInstance.title, ProcessInstance.business_key).join(
        ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(condition)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if overdue_at is not None:
        # judged by its first deadline when a later one was ordered (engine/judged_due.py)
        query = query.where(due_by_sql(HumanTask.due_at, HumanTask.first_due_at,
                                       HumanTask.completed_at if scope == DONE else overdue_at))
    if text:
        query = query.where(or_(*(column.icontains(typed, autoescape=True) for typed in as_typed(text) for column in (
            ProcessInstance.title, ProcessInstance.business_key, HumanTask.name, HumanTask.subject))))
    if scopes is None:
        return query, _NOBODY, false().label("may_claim")
    return query, scopes["on_behalf_of"], scopes["claimable"].label("may_claim")


def _done_by(session: Session, username: str):
    """The steps `username` completed (a leaver's stay theirs on the record)."""
    if session.execute(select(User.id).where(User.username == username)).first() is None:
        raise unknown_user(username)
    return (HumanTask.status == "completed") & (HumanTask.completed_by == username)


def _person(session: Session, username: str):
    """(user row, unit name) of an active user, or None."""
    user, unit_name = session.execute(select(User, Unit.name).outerjoin(Unit, User.unit_id == Unit.id).where(
        User.username == username)).one_or_none() or (None, None)
    return None if user is None or not user.active else (user, (unit_name or "").strip() or None)


def _own_scopes(username: str, groups: list[str], unit: str | None):
    """(mine, claimable) of one person by their own rights (open_lists applies the same rules to
    rows read already: a change here is one there)."""
    named = select(TaskCandidate.task_id).where(TaskCandidate.kind == "user", TaskCandidate.value == username)
    in_group = select(TaskCandidate.task_id).where(TaskCandidate.kind == "group", TaskCandidate.value.in_(groups))
    # a task kept to one unit (a drafting step: the lead unit) is for that unit's group members only
    own_unit = HumanTask.candidate_unit.is_(None) | (HumanTask.candidate_unit == unit)
    mine = (HumanTask.status == "claimed") & (HumanTask.assignee == username)
    claimable = (HumanTask.status == "open") & (HumanTask.id.in_(named) | (HumanTask.id.in_(in_group) & own_unit))
    return mine, claimable


def open_lists(session: Session, usernames: list[str], now: datetime) -> dict[str, tuple[list[dict], list[dict]]]:
    """username -> (list_tasks(…, "mine"), list_tasks(…, "claimable")) of many people at once (the
    daily digest), in a fixed number of statements: the open tasks, their candidates, the users
    with their units and groups, and the delegations in force today, the lists made here by the
    rules of _own_scopes and _scopes. An unknown or inactive name has empty lists."""
    from .delegations import principals_by_delegate  # here: engine/delegations.py imports this module
    conn = session.connection()
    people = {row.username: row for row in conn.execute(
        select(User.username, User.active, Unit.name.label("unit")).outerjoin(Unit, User.unit_id == Unit.id))}
    groups: dict[str, set[str]] = {}
    for username, code in conn.execute(select(User.username, Group.code).join(memberships, memberships.c.user_id == User.id)
                                       .join(Group, Group.id == memberships.c.group_id)):
        groups.setdefault(username, set()).add(code)
    tasks = {row.id: row for row in conn.execute(
        select(_TASKS, ProcessInstance.title.label("plan_title"), ProcessInstance.business_key.label("plan_key"))
        .join(ProcessInstance, _TASKS.c.instance_id == ProcessInstance.id).where(is_open(_TASKS.c.status)))}
    named: dict[str, set[int]] = {}  # username -> the open tasks naming them
    grouped: dict[str, set[int]] = {}  # group code -> the open tasks of the group
    candidates: dict[int, tuple[set, set]] = {}  # task -> (users named, groups)
    for task_id, kind, value in conn.execute(select(TaskCandidate.task_id, TaskCandidate.kind, TaskCandidate.value)
                                             .join(HumanTask, HumanTask.id == TaskCandidate.task_id)
                                             .where(is_open(HumanTask.status))):
        (named if kind == "user" else grouped).setdefault(value, set()).add(task_id)
        candidates.setdefault(task_id, (set(), set()))[0 if kind == "user" else 1].add(value)
    held: dict[str, set[int]] = {}
    for task in tasks.values():
        if task.status == "claimed" and task.assignee is not None:
            held.setdefault(task.assignee, set()).add(task.id)
    principals = principals_by_delegate(conn, usernames, clock.today())

    def rights(username: str):
        """(the tasks that may concern them, mine(task), claimable(task)) of an active user, else None."""
        person = people.get(username)
        if person is None or not person.active:
            return None
        unit, theirs = (person.unit or "").strip() or None, groups.get(username, set())
        near = held.get(username, set()) | named.get(username, set()) | set().union(*(grouped.get(g, ()) for g in theirs))

        def mine(task) -> bool:
            return task.status == "claimed" and task.assignee == username

        def claimable(task) -> bool:
            users, codes = candidates.get(task.id, ((), ()))
            return task.status == "open" and (username in users or (
                not theirs.isdisjoint(codes) and (task.candidate_unit is None or task.candidate_unit == unit)))
        return near, mine, claimable

    listed = {}
    for username in usernames:
        own = rights(username)
        found = {"mine": [], "claimable": []}
        listed[username] = found
        if own is None:
            continue
        behalf = [(p, r) for p in principals.get(username, []) if (r := rights(p)) is not None]
        for task_id in own[0].union(*(r[0] for _, r in behalf)):
            task = tasks[task_id]
            is_claimable = own[2](task)
            on_behalf_of = next((p for p, r in behalf if r[1](task) or (r[2](task) and not is_claimable)), None)
            in_mine = own[1](task) or any(r[1](task) for _, r in behalf)
            in_claimable = is_claimable or any(r[2](task) for _, r in behalf)
            if in_mine or in_claimable:
                found["mine" if in_mine else "claimable"].append((task, on_behalf_of, in_claimable))
        for rows in found.values():
            rows.sort(key=lambda row: _urgent_first(row[0], now))
    dicts = {task.id: task_dict(task) | {"plan_title": task.plan_title, "business_key": task.plan_key}
             for found in listed.values() for rows in found.values() for task, _, _ in rows}
    mark(conn, list(dicts.values()))
    return {username: tuple([dicts[task.id] | {"on_behalf_of": behalf_of, "may_claim": may_claim}
                             for task, behalf_of, may_claim in found[scope]] for scope in ("mine", "claimable"))
            for username, found in listed.items()}


def _urgent_first(task, now: datetime) -> tuple:
    """urgent_first, of a row read already."""
    due = judged_due(task.first_due_at, task.due_at)
    return (0 if due is not None and due < now else 1, -(task.priority or 0), due is None, due or now, task.id)


def _scopes(session: Session, username: str) -> dict:
    """The SQL condition of each inbox scope for `username` (see list_tasks), and `on_behalf_of`:
    for a row there only through someone they act for today (委托办理), that person's name."""
    from .delegations import principals_of  # here: engine/delegations.py imports this module
    found = _person(session, username)
    if found is None:  # a leaver may not take their group's tasks: no inbox
        raise unknown_user(username)
    user, unit = found
    groups = user.group_codes
    mine, claimable = _own_scopes(username, groups, unit)
    behalf = []
    # what those they stand in for hold and could claim (an open task with no candidates is the
    # office's: not passed on, as the office is never away as a whole)
    for principal in principals_of(session.connection(), username, clock.today()):
        if (theirs := _person(session, principal)) is None:
            continue
        their_mine, their_claimable = _own_scopes(principal, theirs[0].group_codes, theirs[1])
        behalf += [(their_mine, principal), (their_claimable & ~claimable, principal)]
    on_behalf_of = case(*behalf, else_=None).label("on_behalf_of") if behalf else _NOBODY
    mine = or_(mine, *(c for c, _ in behalf[0::2]))
    claimable = or_(claimable, *(c for c, _ in behalf[1::2]))
    everything = is_open(HumanTask.status) if ADMIN_GROUP in groups else mine | claimable
    return {"mine": mine, "claimable": claimable, "all": everything, "on_behalf_of": on_behalf_of}


def count_tasks(session: Session, username: str) -> dict[str, int]:
    """How many tasks each scope of list_tasks holds, in one SELECT of counts (a page header
    shows them on every page: the rows themselves are not read)."""
    scopes = {k: v for k, v in _scopes(session, username).items() if k in SCOPES}
    row = session.execute(select(*[func.count(case((c, 1))) for c in scopes.values()])
                          .select_from(HumanTask).where(is_open(HumanTask.status))).one()
    return dict(zip(scopes, row))


def task_view(session: Session, task_id: int, limit: Limit,
              task_data: Callable[[HumanTask], dict | None] | None = None) -> dict:
    """One task as its page shows it: the inbox row and its plan, and for each form field the
    value it starts from (the task's own data, else the plan's variable, else the field's
    default) and, while it can still be submitted, its min / max as they stand now (`limit`
    evaluates those written as expressions). `task_data(row)` gives the task's own data: a
    multi-instance item's element variable, a parallel branch's values, what a completed task
    held; the plan's variables are one merge of every task's and name one item only."""
    row = session.execute(
        select(HumanTask, ProcessInstance.title, ProcessInstance.business_key, ProcessInstance.variables_json,
               ProcessInstance.status)
        .join(ProcessInstance, HumanTask.instance_id == ProcessInstance.id).where(HumanTask.id == task_id)).one_or_none()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在；请用 reformflow tasks --as 您的用户名 查看待办编号 (no such task: {task_id}; `reformflow tasks --as USER` lists the tasks and their numbers)")
    task, title, business_key, variables_json, plan_status = row
    own = task_data(task) if task_data is not None else None
    variables = json.loads(variables_json) if own is None else own
    if own is not None and task.status in OPEN_STATUSES:
        # a read-only field another branch has set since this task's branch reached it (the
        # reform office's 限期报送 beside the open 报送备案) shows the plan's value, as submitting does
        variables = forms.with_plan_values(json.loads(task.form_json), own, json.loads(variables_json))
    view = task_dict(task) | {"plan_title": title, "business_key": business_key, "plan_status": plan_status}
    mark(session.connection(), [view])
    # an open task starts a `keep` = `false` field afresh, as submitting it does: another
    # reviewer's return reason must not show up, nor be copied back, as this one's; what was
    # given before is still said apart (`earlier`), for the one who must act on it
    fresh = {f["id"] for f in view["form"] if task.status in OPEN_STATUSES and not forms.carries_over(f)}
    view["values"] = {f["id"]: forms.default_value(f) if f["id"] in fresh
                      else variables.get(f["id"], forms.default_value(f)) for f in view["form"]}
    # — only what this same step (its element, and its item of a multi-instance) wrote on an earlier
    # round: returnReason, 会议日期 are shared by several steps, and the risk assessors' reason or the
    # government meeting's date is no earlier entry of 专项小组审核把关 or of the standing committee's
    earlier = _own_earlier(session, task) if fresh else {}
    view["earlier"] = {fid: earlier[fid] for fid in fresh if earlier.get(fid) not in (None, "")}
    # fields nobody has given a value yet (this round): `values` holds the form's default there, which
    # an input starts from, but a page showing values must not read an unticked box's false as 否
    view["unset"] = [f["id"] for f in view["form"] if f["id"] in fresh or f["id"] not in variables]
    # the field holding the plan's unit, if this form has it: the page offers the viewer's own
    unit_field = variables.get(STARTER_UNIT)
    view["unit_field"] = unit_field if any(f["id"] == unit_field for f in view["form"]) else None
    # a closed task's range today says nothing about what was submitted then
    labels = {f["id"]: f["label"] for f in view["form"] if f.get("label")}
    recorded_by = partial(bound_sources.recorded_by, session, task.instance_id)  # asked only for previous()
    view["bounds"] = {f["id"]: b for f in view["form"] if (b := forms.bounds(f, variables, limit, labels, recorded_by))} \
        if task.status in OPEN_STATUSES else {}
    return view


def _own_earlier(session: Session, task: HumanTask) -> dict:
    """The values the latest earlier completion of the same step wrote (the same element of the
    plan, the same item of a multi-instance: its subject), {} if this is its first round."""
    payload = session.execute(
        select(AuditEvent.payload).join(HumanTask, HumanTask.id == AuditEvent.task_id)
        .where(HumanTask.instance_id == task.instance_id, HumanTask.process_key == task.process_key,
               HumanTask.element_id == task.element_id, HumanTask.id != task.id,
               HumanTask.subject.is_not_distinct_from(task.subject), AuditEvent.event_type == "task_completed")
        .order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    return (json.loads(payload).get("new") or {}) if payload else {}


_PLANS, _DEFINITIONS, _TASKS = ProcessInstance.__table__, ProcessDefinition.__table__, HumanTask.__table__
# Prebuilt Core statements (rows, not ORM objects: the ORM's per-row and per-statement work
# cost more than the SQL). The plan with its definition in one SELECT; the workflow state,
# which a read does not need, is left out.
_PLAN_VIEW = select(
    *[c for c in _PLANS.c if c.key != "state_json"],
    _DEFINITIONS.c.key.label("definition_key"), _DEFINITIONS.c.version.label("definition_version"),
    _DEFINITIONS.c.name.label("definition_name"),
).join_from(_PLANS, _DEFINITIONS, _PLANS.c.definition_id == _DEFINITIONS.c.id).where(
    _PLANS.c.id == bindparam("instance_id"))
_OPEN_TASKS = select(_TASKS).where(_TASKS.c.instance_id == bindparam("instance_id"),
                                   is_open(_TASKS.c.status)).order_by(_TASKS.c.id)


def instance_view(conn: Connection, instance_id: int, versions: dict[int, int] | None = None) -> dict:
    """A plan's page, read on a plain connection (`Database.read_connection`). `versions`: a
    cache of definition id -> version kept by the caller for one database (definition rows
    never change after deploy), so called versions are read once."""
    instance = conn.execute(_PLAN_VIEW, {"instance_id": instance_id}).one_or_none()
    if instance is None:
        raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
    tasks = conn.execute(_OPEN_TASKS, {"instance_id": instance_id}).all()
    return {
        "id": instance.id, "status": instance.status, "definition_key": instance.definition_key,
        "definition_version": instance.definition_version, "definition_name": instance.definition_name,
        "business_key": instance.business_key, "title": instance.title,
        "started_by": instance.started_by, "started_at": iso(instance.started_at),
        "ended_at": iso(instance.ended_at), "next_timer_at": iso(instance.next_timer_at),
        "ended_with": ended_with(conn, [instance.id]).get(instance.id) if instance.status == "completed" else None,
        "version": instance.version,
        "called_versions": _called_versions(conn, json.loads(instance.subprocess_definitions),
                                            {} if versions is None else versions),
        "tasks": mark(conn, [task_dict(t) for t in tasks]),  # a row reads like a HumanTask: same names
        "variables": json.loads(instance.variables_json),
    }


def ended_with(conn, plan_ids: list[int]) -> dict[int, str]:
    """The name of the end event each of these completed plans reached (方案未通过, 已备案), as its
    instance_ended event recorded it: a plan turned down and a plan filed both read 已办结."""
    if not plan_ids:
        return {}
    rows = conn.execute(select(AuditEvent.instance_id, AuditEvent.payload).where(
        AuditEvent.event_type == "instance_ended", AuditEvent.instance_id.in_(plan_ids)))
    return {plan_id: name for plan_id, payload in rows if (name := json.loads(payload).get("end_name"))}


def _called_versions(conn: Connection, ids: dict[str, int], versions: dict[int, int]) -> dict[str, int]:
    missing = [i for i in ids.values() if i not in versions]
    if missing:
        versions.update(conn.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                                        .where(ProcessDefinition.id.in_(missing))).all())
    return {key: versions[definition_id] for key, definition_id in ids.items()}


def callers(rows) -> dict[str, list[str]]:
    """{process key: the names of the processes that call it}, from (key, name, called_keys) rows
    of every deployed version, each key's latest version first: a process calls what its latest
    version calls. (The start list says who calls a process; `start` refuses one that others call.)"""
    seen, calling = set(), {}
    for key, name, called in rows:
        if key in seen:
            continue
        seen.add(key)
        for callee in json.loads(called or "[]"):
            if callee != key:
                calling.setdefault(callee, []).append(name)
    return calling


def definitions(session: Session, all_versions: bool = False) -> list[dict]:
    rows = session.execute(select(ProcessDefinition).order_by(
        ProcessDefinition.key, ProcessDefinition.version.desc())).scalars().all()
    seen, out = set(), []
    for d in rows:
        if not all_versions and d.key in seen:
            continue
        seen.add(d.key)
        out.append({"id": d.id, "key": d.key, "name": d.name, "version": d.version,
                    "file_name": d.file_name, "sha256": d.sha256,
                    "deployed_at": iso(d.deployed_at), "deployed_by": d.deployed_by})
    return out

"""Every action a person or the timer worker takes, one method each, one transaction each.

A web view, an API endpoint and a CLI command are each one call into `Engine`. Inside each
command: lock what it changes, load, act, run the engine on, sync the inbox, append audit
events, commit — all of it or nothing.
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import unicodedata
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import astuple, dataclass, replace
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Callable, Iterator
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from models import ApiToken, AuditEvent, CalendarOverride, Comment, Delegation, Document, Group, HumanTask, ProcessDefinition, ProcessInstance, Unit, User
from models.identity import memberships
from models.base import INTEGER_MAX
from models.db import Database

from . import (audit, channels, clock, comments, cycles, deep_trees, delegations, directory, documents, drafts, forms, joins, mail,
               modeler, migration, passwords, provisional, recount, reporting_bodies, runtime, sent_back, start_names,
               timer_lag, tokens)
from .checks import check_files, directory_problems
from .deadlines import TimerValueError
from .errors import Busy, Conflict, Forbidden, Invalid, NotFound, ReformflowError, Unauthorized, ended
from .expressions import ExpressionError, work_budget
from .parser import ParsedProcess, own_name, parse_files, setting as _setting  # a process property as a plan's variable
from .queries import ADMIN_GROUP, callers, instance_view, iso, task_dict, task_view, unknown_user
from .runtime import Context
from .state import spec_to_json
from .visibility import AUDITOR_READS_ONLY, may_see_plan, only_audits, sees_everything
from .workdays import before_entries, pointless_entry

SYSTEM_ACTOR = audit.SYSTEM_ACTOR  # the system's own events: timers, the worker
# refusals the JSON API gives too, before it looks at what was sent (web/api.py: who may first)
ASSIGNS_OFFICE_ONLY = "只有改革办可以指派任务 (only the reform office may assign tasks)"
STOPS_OFFICE_ONLY = "只有改革办可以终止方案 (only the reform office stops a plan)"
# what only a step's holder does before submitting, for `_holding`'s refusals
ATTACHING = ("添加附件", "上传附件", "files can no longer be attached", "attach files")
DRAFTING = ("暂存", "暂存", "nothing can be saved", "save a draft")


@dataclass(frozen=True)
class TimerRetry:
    """A plan whose due timer could not run on: how often it has failed, and when it is tried
    again (the delay doubles from RETRY_FIRST up to RETRY_MAX)."""
    attempts: int
    next_try: datetime

    @classmethod
    def after(cls, previous: "TimerRetry | None", now: datetime) -> "TimerRetry":
        attempts = previous.attempts + 1 if previous else 1
        return cls(attempts, now + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX))


# A broken plan stays broken until someone mends it; trying it every round (30 s) would print
# the same error ~3,000 times a day and hide the others.
RETRY_FIRST, RETRY_MAX = timedelta(minutes=1), timedelta(hours=1)


@dataclass(frozen=True)
class Member:
    """An active user as the permission checks see them."""
    username: str
    display_name: str
    group_codes: list[str]
    unit: str | None = None  # their unit's name, trimmed


@dataclass(frozen=True)
class TokenUser(Member):
    """The owner of an API token, as the API acts for them (`Engine.token_user`): who they are
    now, and which of their tokens the request came with."""
    token_id: int = 0
    token_name: str = ""
    token_expires_at: str | None = None


class Engine:
    def __init__(self, db: Database):
        self.db = db
        # how the actions of this engine's callers reach it (engine/channels.py), recorded on every
        # event: None (not recorded) until bound with `via`, as the web, the CLI and the worker do
        self.channel: channels.Channel | None = None
        # Caches keyed by row id: one engine serves one database, so ids are unique.
        self.workflows = runtime.WorkflowCache()
        self.audit_tip = audit.ChainTip()
        self.specs: OrderedDict = OrderedDict()  # definition id -> restored specs (state.restore_specs)
        self.definition_versions: dict[int, int] = {}  # id -> version; definitions never change
        self.timer_retries: dict[int, TimerRetry] = {}  # plan id -> when its failing timer is tried next
        clock.patch_spiffworkflow_clock()
        joins.install()
        cycles.install()
        deep_trees.install()

    # ----------------------------------------------------------------- plumbing
    def via(self, channel: "channels.Channel") -> "Engine":
        """This engine as the callers of one channel use it (a web request, an API token, the command
        line, the worker): the same database, caches and chain tip, with `channel` on every event
        its commands record. A shallow copy: cheap enough for each request."""
        if channel == self.channel:
            return self
        bound = copy.copy(self)
        bound.channel = channel
        return bound

    @contextmanager
    def command(self, actor: str, *, channel: "channels.Channel | None" = None) -> Iterator[Context]:
        """One command = one transaction; a concurrent change surfaces as Conflict, a database held
        by other work past the wait as Busy. `channel`: this command's, if not the engine's own (the
        timers are the worker's whoever runs them)."""
        try:
            with self.db.transaction() as session:
                ctx = Context(session, actor, clock.now(), workflows=self.workflows, specs=self.specs,
                              audit_tip=self.audit_tip, channel=channel or self.channel)
                yield ctx
                mail.queue(ctx)  # the mails this action calls for, in its transaction
                ctx.log.flush(session)
            for callback in ctx.after_commit:
                callback()
        except StaleDataError:
            raise Conflict("这条记录刚被其他人修改过，请刷新后重试。"
                           " (changed by someone else; reload and try again)") from None
        except OperationalError as exc:
            if not _contended(exc):
                raise
            raise Busy("系统繁忙：数据库正被其他操作占用，未做任何更改，请稍候再试一次。"
                       " (the system is busy: the database is held by other work. Nothing was changed; "
                       "try again in a moment)") from None
        except IntegrityError as exc:
            # two people creating the same thing at once (a user, a calendar day, a definition
            # version): each checked first, the database's unique key decides
            if not _duplicate(exc):
                raise
            raise Conflict("刚有其他人创建了同一记录，请刷新后重试。"
                           " (someone else created the same record just now; reload and try again)") from None

    def _member(self, ctx: Context, username: str, *, hold: bool = False, lock: bool = False) -> "Member":
        """An active user's name and group codes in one prebuilt SELECT, no ORM objects: what
        the permission checks of claim, unclaim, assign and start need. `hold` share-locks their
        row until the commit, for a command that makes them a holder or acts as them: a
        deactivation (which locks the row to update it) then waits for it, or it for the
        deactivation and sees them as left. `lock` locks it for update (setting a delegation: two
        sharing a person queue). Users are locked before plans and tasks."""
        statement = _MEMBER_LOCKED if lock else _MEMBER_HELD if hold else _MEMBER
        member = _active_member(ctx.session.connection(), username, statement)
        if member is None:
            raise unknown_user(username)
        return member

    def _office_member(self, ctx: Context, actor: str, refusal: str) -> "Member":
        """The actor, who must be in the reform office; else Forbidden, saying `refusal`."""
        user = self._member(ctx, actor)
        if ADMIN_GROUP not in user.group_codes:
            raise Forbidden(refusal)
        return user

    def _lock_instance(self, ctx: Context, instance_id: int, *, skip_locked: bool = False) -> runtime.Plan | None:
        instance = runtime.lock_plan(ctx, instance_id, skip_locked=skip_locked)
        if instance is None and not skip_locked:
            raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
        return instance

    def _lock_plan_of_task(self, ctx: Context, task_id: int, actor: str):
        """The task's plan, locked before the task itself: complete, attach and the timer worker
        all lock in this order, so none waits for another in a cycle (a PostgreSQL deadlock).
        Before it, in its own SELECT, the actor's row, share-locked (users before plans, as a
        deactivation locks them): a deactivation under way is waited for and then seen. Read in
        the plan's SELECT, as before, it came from that statement's snapshot, taken before the
        wait for the plan lock, and a leaver could act once their deactivation had committed.
        Returns the plan, the actor (with the unit they act for now) and whom they act for today
        (委托办理), those people's rows share-locked too, before the plan."""
        member = self._member(ctx, actor, hold=True)
        principals = self._acting_for(ctx)
        found = ctx.session.connection().execute(_LOCK_TASK_PLAN, {"task_id": task_id}).one_or_none()
        if found is None:
            raise NotFound(f"任务 {task_id} 不存在；请用 reformflow tasks --as 您的用户名 查看待办编号 (no such task: {task_id}; `reformflow tasks --as USER` lists the tasks and their numbers)")
        return runtime.Plan.from_row(found), member, principals

    def _task(self, ctx: Context, task_id: int, expected_version: int | None):
        """The inbox row, locked: a Core row, read like a HumanTask (same names)."""
        task = ctx.session.connection().execute(_LOCK_TASK, {"task_id": task_id}).one_or_none() \
            if is_row_id(task_id) else None
        if task is None:
            raise NotFound(f"任务 {task_id} 不存在；请用 reformflow tasks --as 您的用户名 查看待办编号 (no such task: {task_id}; `reformflow tasks --as USER` lists the tasks and their numbers)")
        if expected_version is not None and task.version != expected_version:
            raise _stale(task_id)
        return task

    @staticmethod
    def _update_task(ctx: Context, task, **changes) -> SimpleNamespace:
        """Write `changes` to the inbox row read as `task`, checking its version; returns the
        row as it now is."""
        columns = tuple(sorted(changes))
        statement = _TASK_UPDATES.get(columns)
        if statement is None:  # built once per set of columns: building it cost more than running it
            statement = _TASK_UPDATES[columns] = update(_TASKS).where(
                _TASKS.c.id == bindparam("task_id"), _TASKS.c.version == bindparam("old_version")
            ).values({**{c: bindparam(f"new_{c}") for c in columns}, "version": _TASKS.c.version + 1})
        done = ctx.session.connection().execute(
            statement, {"task_id": task.id, "old_version": task.version,
                        **{f"new_{c}": v for c, v in changes.items()}})
        if done.rowcount != 1:
            raise StaleDataError(f"task {task.id} changed under its lock")
        return SimpleNamespace(**{**task._mapping, **changes, "version": task.version + 1})

    @staticmethod
    def _lost_by(ctx: Context, task, actor: str) -> bool:
        """Whether `actor` held the task (created for, claimed by or assigned to them) until someone
        else took it away (handed it back, assigned it on): only asked when a complete is refused,
        to tell a lost race (conflict: reload) from an action not allowed (forbidden) — their own
        hand-back included: they know they gave it up."""
        events = ctx.session.execute(select(AuditEvent.event_type, AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.instance_id == task.instance_id, AuditEvent.task_id == task.id,
            AuditEvent.event_type.in_(("task_created", "task_claimed", "task_assigned", "task_unclaimed")))
            .order_by(AuditEvent.seq)).all()
        held = lost = False
        for kind, by, payload in events:
            data = json.loads(payload)
            holder = None if kind == "task_unclaimed" else (data.get("new") or {}).get("assignee", data.get("assignee"))
            if holder == actor:
                held, lost = True, False
            elif held:
                held, lost = False, by != actor
        return lost

    @staticmethod
    def _may_claim(user: Member, task, *, any_unit: bool = False) -> bool:
        """Whether `user` may take an open task: a named candidate user, or a member of a
        candidate group who works in the unit the task is kept to, if any (`any_unit`: the
        office assigning, which may give it to a group member of another unit)."""
        groups = set(json.loads(task.candidate_groups))
        users = set(json.loads(task.candidate_users))
        if not groups and not users:
            return ADMIN_GROUP in user.group_codes
        in_unit = any_unit or task.candidate_unit is None or user.unit == task.candidate_unit
        return user.username in users or (bool(groups & set(user.group_codes)) and in_unit)

    @staticmethod
    def _not_candidate(user: Member, task, doing_zh: str, doing_en: str) -> Forbidden:
        """Refusing to let `user` claim (or complete) an open task they may not take: naming the
        unit when they are in its group but not in the unit the task is kept to."""
        if task.candidate_unit and set(json.loads(task.candidate_groups)) & set(user.group_codes):
            theirs = user.unit or "未设单位"
            return Forbidden(f"任务 {task.id}「{task.name}」仅限{task.candidate_unit}的人员{doing_zh}，您属于{theirs}；"
                             f"如需由您办理，请联系改革办指派 (the task is kept to {task.candidate_unit}; you are "
                             f"in {user.unit or 'no unit'}: ask the reform office to assign it to you)")
        return Forbidden(f"您不是任务 {task.id}「{task.name}」的候选人，不能{doing_zh}；如需由您办理，请改革办指派"
                         f" (not a candidate for this task, you may not {doing_en} it; the reform office may assign it)")

    # ----------------------------------------------------------------- directory
    def add_group(self, code: str, display_name: str, *, actor: str = SYSTEM_ACTOR) -> dict:
        _check_name("角色代码", "group code", code, Group.__table__.c.code)
        _check_name("名称", "display name", display_name, Group.__table__.c.display_name)
        with self.command(actor) as ctx:
            if actor != SYSTEM_ACTOR:  # the operator's act; a person doing it must be in the office, as for users
                self._office_member(ctx, actor, "只有改革办可以添加角色 (only the reform office adds groups)")
            if ctx.session.execute(select(Group).where(Group.code == code)).scalar_one_or_none():
                raise Conflict(f"角色 {code} 已存在 (the group {code} exists already)")
            ctx.session.add(Group(code=code, display_name=display_name))
            ctx.log.record("group_added", code=code, display_name=display_name)
        return {"code": code, "display_name": display_name}

    def add_user(self, username: str, display_name: str, *, groups: list[str] = (),
                 unit: str | None = None, password: str | None = None, actor: str = SYSTEM_ACTOR,
                 email: str | None = None, password_hash: str | None = None) -> dict:
        """Add a user. From the command line (`actor` system) as it always was; a person adding
        one (the web's people page) must be in the reform office. `password_hash`: one already
        made with passwords.hashed, in place of `password` (the demo hashes its one password
        once for all its users: each hash costs a tenth of a second, by design)."""
        _check_name("用户名", "username", username, User.__table__.c.username)
        _check_username(username)
        _check_name("姓名", "display name", display_name, User.__table__.c.display_name)
        if unit is not None:
            _check_name("单位", "unit", unit, Unit.__table__.c.name)
        email = mail.checked_address(email)
        if password and password_hash:
            raise ValueError("give a password or its hash, not both")
        with self.command(actor) as ctx:
            if actor != SYSTEM_ACTOR:
                self._office_member(ctx, actor, "只有改革办可以添加用户 (only the reform office adds users)")
            self._insert_user(ctx, username, display_name, groups=groups, unit=unit,
                              password_hash=passwords.hashed(password) if password else password_hash,
                              email=email)
        return {"username": username, "display_name": display_name, "groups": sorted(groups), "unit": unit,
                **({"email": email} if email else {})}

    @staticmethod
    def _insert_user(ctx: Context, username: str, display_name: str, *, groups, unit: str | None,
                     password_hash: str | None, email: str | None) -> None:
        """A new user and its `user_added` event, in the command's transaction: `users add`, the
        web's /people/new and each new row of an import (engine/user_import.py), checked alike."""
        s = ctx.session
        if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise Conflict(f"用户 {username} 已存在 (the user {username} exists already)")
        # qa1 and QA1 would stand side by side in every list of people to pick from
        twin = s.execute(select(User.username).where(func.lower(User.username) == username.lower())).scalar()
        if twin is not None:
            raise Conflict(f"用户名 {username} 与已有的 {twin} 只差大小写，请另取一个 "
                           f"(username {username} differs from the existing {twin} only in case: choose another)")
        found = s.execute(select(Group).where(Group.code.in_(groups))).scalars().all()
        missing = set(groups) - {g.code for g in found}
        if missing:
            raise Invalid(f"角色不存在：{', '.join(sorted(missing))}；请先用 `reformflow groups add` 创建 "
                          f"(no such group: {', '.join(sorted(missing))}; add it first)")
        unit_row = None
        if unit:
            unit_row = s.execute(select(Unit).where(Unit.name == unit)).scalar_one_or_none() or Unit(name=unit)
        user = User(username=username, display_name=display_name, unit=unit_row, groups=list(found),
                    password_hash=password_hash, active=True, created_at=ctx.now, email=email)
        s.add(user)
        ctx.log.record("user_added", username=username, display_name=display_name,
                       groups=sorted(groups), unit=unit, **({"email": email} if email else {}))

    def import_users(self, people, *, actor: str = SYSTEM_ACTOR, update: bool = False, dry_run: bool = False,
                     progress: Callable[[str, int, int], None] | None = None) -> dict:
        """Enter a list of people (engine/user_file.py `read`) in one transaction, all or nothing:
        each new user as `users add` adds one (`user_added`), each changed one, with `update`, as
        `users update` changes one (`user_changed`; a user moved out of a unit hands its steps
        back). Any row refused (engine/user_import.py says why, naming row and column): Invalid,
        nothing entered. `dry_run`: only what it would do, the refusals in `refused` (the web's
        preview). The operator (system) may add users, as with `users add`; changing them is the
        reform office's. `progress(stage, done, of)`: "passwords" hashed (before the transaction),
        "users" entered."""
        from . import user_import
        with self.db.reader() as session:
            if actor != SYSTEM_ACTOR:
                _office_reader(session.connection(), actor, "只有改革办可以导入用户 (only the reform office imports users)")
            result, secrets = user_import.plan(people, user_import.known(session), update=update)
        result["dry_run"] = dry_run
        if result["refused"] and not dry_run:
            raise user_import.refusal(result)
        if result["changed"] and actor == SYSTEM_ACTOR and not dry_run:  # the preview shows what it would do
            raise Forbidden("修改已有用户须以改革办用户的身份进行：请加 --as 改革办用户名 "
                            "(changing existing users is the reform office's: add --as with a reform office user)")
        if dry_run or not (result["added"] or result["changed"]):
            return result
        hashes = user_import.hashed(secrets, progress and (lambda done, of: progress("passwords", done, of)))
        entries = result["added"] + result["changed"]
        with self.command(actor) as ctx:
            if actor != SYSTEM_ACTOR:
                self._office_member(ctx, actor, "只有改革办可以导入用户 (only the reform office imports users)")
            # the file's existing users locked first, then read: a colleague's change committed
            # meanwhile is seen (and is a conflict below), never undone by a stale copy
            names = [row.cells.get("username", "").lower() for row in people.rows if row.cells.get("username")]
            ctx.session.execute(select(User.id).where(func.lower(User.username).in_(names)).with_for_update()).all()
            again, _ = user_import.plan(people, user_import.known(ctx.session, fresh=True), update=update)
            if again["refused"]:
                raise user_import.refusal(again)
            if not user_import.same_plan(result, again):
                raise Conflict("刚有其他人添加或修改了文件中的用户，未导入任何用户，请重新检查后再导入 "
                               "(someone else added or changed users of the file just now; nothing was imported: "
                               "check the file again, then import it)")
            for done, entry in enumerate(entries, start=1):
                if "changes" in entry:
                    changes = entry["changes"]
                    user = ctx.session.execute(select(User).where(User.username == entry["username"])
                                               .with_for_update()).scalar_one()
                    old_groups = set(changes["groups"]["old"]) if "groups" in changes else set()
                    new_groups = set(changes["groups"]["new"]) if "groups" in changes else set()
                    self._change_user(ctx, user, display_name=changes.get("display_name", {}).get("new"),
                                      unit=changes.get("unit", {}).get("new"),
                                      add_groups=sorted(new_groups - old_groups),
                                      remove_groups=sorted(old_groups - new_groups),
                                      email=changes.get("email", {}).get("new"))
                else:
                    self._insert_user(ctx, entry["username"], entry["display_name"], groups=entry["groups"],
                                      unit=entry["unit"], password_hash=hashes.get(entry["username"]),
                                      email=entry["email"])
                if progress is not None and (done % 100 == 0 or done == len(entries)):
                    progress("users", done, len(entries))
        return result

    def has_password(self, username: str) -> bool | None:
        """Whether the user has a web inbox password (None: no such user). The command line asks
        before it prompts: a user without one is not asked for a current password."""
        with self.db.reader() as session:
            found = session.execute(select(User.password_hash).where(User.username == username)).first()
        return None if found is None else found[0] is not None

    def users(self, *, group: str | None = None, include_inactive: bool = False) -> list[dict]:
        """Users by username (active ones unless `include_inactive`), with how many open tasks
        each holds."""
        with self.db.reader() as session:
            if group is not None and session.execute(select(Group.id).where(Group.code == group)).first() is None:
                # a mistyped code is not an empty list, as if nobody were in the group
                raise NotFound(f"角色 {group} 不存在；角色代码见 `reformflow groups list` "
                               f"(no such group: {group}; see `reformflow groups list`)")
            return directory.user_rows(session, group=group, include_inactive=include_inactive)

    def groups(self) -> list[dict]:
        with self.db.reader() as session:
            return directory.group_rows(session)

    def update_user(self, username: str, *, actor: str, display_name: str | None = None,
                    unit: str | None = None, add_groups: list[str] = (), remove_groups: list[str] = (),
                    expected: dict | None = None, email: str | None = None, digest: bool | None = None) -> dict:
        """Change a user's name, unit, groups, email address (`email`: "" clears it) or daily
        digest (`digest`: 每日待办摘要 on or off; reform office only): someone moved to another unit
        or took on another role. The tasks they hold stay theirs, but for the steps kept to the
        unit they left, which go back to its members (`returned`; `to_assign`: nobody there may
        take them). Returns the user, with `changed`: the fields that changed (none, and no audit
        event, if nothing did). `expected`: the user's display_name, unit, groups, email and
        digest as the person saw them (a web form); if another office member changed one of them since,
        Conflict rather than one change silently undoing the other."""
        if display_name is not None:
            _check_name("姓名", "display name", display_name, User.__table__.c.display_name)
        if unit is not None:
            _check_name("单位", "unit", unit, Unit.__table__.c.name)
        if set(add_groups) & set(remove_groups):
            raise Invalid(f"同一角色不能既加入又移除：{', '.join(sorted(set(add_groups) & set(remove_groups)))} "
                          "(a group cannot be both added and removed)")
        new_email = mail.checked_address(email) if email is not None else None
        with self.command(actor) as ctx:
            user = self._office_changes_user(ctx, actor, username)
            result = self._change_user(ctx, user, display_name=display_name, unit=unit, add_groups=add_groups,
                                       remove_groups=remove_groups, expected=expected,
                                       email=(new_email or "") if email is not None else None, digest=digest)
        return result

    def _change_user(self, ctx: Context, user: User, *, display_name: str | None = None, unit: str | None = None,
                     add_groups=(), remove_groups=(), expected: dict | None = None, email: str | None = None,
                     digest: bool | None = None) -> dict:
        """update_user's change of one locked user, checked values, in the command's transaction:
        `users update`, the web's user page and each changed row of an import. `email`: None
        leaves it, "" clears it."""
        username = user.username
        new_email = email or None
        s = ctx.session
        found = {g.code: g for g in s.execute(select(Group).where(Group.code.in_([*add_groups, *remove_groups]))).scalars()}
        missing = set(add_groups) - set(found)
        if missing:
            raise Invalid(f"角色不存在：{', '.join(sorted(missing))}；请先用 `reformflow groups add` 创建 "
                          f"(no such group: {', '.join(sorted(missing))}; add it first)")
        if missing := set(remove_groups) - set(found):  # a typo is not "nothing changed"
            raise Invalid(f"角色不存在：{', '.join(sorted(missing))}；角色代码见 `reformflow groups list` "
                          f"(no such group: {', '.join(sorted(missing))}; see `reformflow groups list`)")
        old = {"display_name": user.display_name, "unit": user.unit.name if user.unit else None,
               "groups": user.group_codes, "email": user.email, "digest": user.mail_digest}
        if expected is not None and any(old[f] != expected[f] for f in old if f in expected):
            raise Conflict(f"用户 {username} 刚被其他人修改过，请刷新后重试 "
                           f"(the user {username} was changed by someone else just now; reload and try again)")
        if display_name is not None:
            user.display_name = display_name
        if email is not None:
            user.email = new_email
        if digest is not None:
            user.mail_digest = digest
        if unit is not None and unit != old["unit"]:
            user.unit = s.execute(select(Unit).where(Unit.name == unit)).scalar_one_or_none() or Unit(name=unit)
            s.flush()  # a new unit gets its row now, so the user's unit reads back by name
        user.groups = sorted({g for g in user.groups if g.code not in remove_groups}
                             | {found[code] for code in add_groups}, key=lambda g: g.code)
        new = {"display_name": user.display_name, "unit": user.unit.name if user.unit else None,
               "groups": [g.code for g in user.groups], "email": user.email, "digest": user.mail_digest}
        if ADMIN_GROUP in old["groups"] and ADMIN_GROUP not in new["groups"] and user.active:
            self._keep_an_office_member(ctx, user)
        changed = [field for field in old if old[field] != new[field]]
        if changed:
            ctx.log.record("user_changed", username=username, old={f: old[f] for f in changed},
                           new={f: new[f] for f in changed})
        ctx.session.flush()
        handed = self._hand_back_unit_steps(ctx, username, old["unit"]) if "unit" in changed else {}
        return {**directory.user_dict(user, directory.holding(ctx.session, username)), "changed": changed,
                **handed}

    def set_email(self, username: str, email: str | None, *, actor: str, digest: bool | None = None) -> dict:
        """A person's own address for mail notifications (or the reform office setting someone's);
        empty clears it; `digest`, if given, turns their daily digest (每日待办摘要) on or off. On the
        trail as one `user_changed` of what changed, like the office's changes."""
        email = mail.checked_address(email)
        with self.command(actor) as ctx:
            if actor == username:
                self._member(ctx, actor)
            else:
                self._office_member(ctx, actor, "只有本人或改革办可以修改邮箱地址 "
                                                "(only the person or the reform office may change an email address)")
            user = ctx.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if user is None:
                raise unknown_user(username)
            old = {"email": user.email, "digest": user.mail_digest}
            user.email = email
            if digest is not None:
                user.mail_digest = digest
            new = {"email": user.email, "digest": user.mail_digest}
            changed = [field for field in old if old[field] != new[field]]
            if changed:
                ctx.log.record("user_changed", username=username, old={f: old[f] for f in changed},
                               new={f: new[f] for f in changed})
            return {"username": username, "email": email, "digest": user.mail_digest, "changed": changed}

    @staticmethod
    def _hand_back(ctx: Context, held: list, username: str, reason: str) -> tuple[list, list]:
        """Give the tasks `username` holds back to their other candidates (`reason` on each
        task_unclaimed); those nobody else may take stay with them, listed second for the office."""
        returned, to_assign = [], []
        for task in held:
            if not directory.others_may_take(ctx.session, task, username):
                to_assign.append(task)
                continue
            task.assignee, task.status, task.claimed_at = None, "open", None
            ctx.log.record("task_unclaimed", instance_id=task.instance_id, task_id=task.id,
                           element_id=task.element_id, old={"assignee": username}, new={"assignee": None},
                           reason=reason)
            returned.append(task)
        ctx.session.flush()
        return returned, to_assign

    def _hand_back_unit_steps(self, ctx: Context, username: str, unit: str | None) -> dict:
        """Someone moved out of `unit` (their old one): the steps they hold kept to it are that
        unit's, and go back to its members, as a leaver's do; those nobody there may take stay
        with them, listed for the office. The plans first, then the tasks, as deactivation locks."""
        unit = (unit or "").strip() or None
        if unit is None:
            return {"returned": [], "to_assign": []}
        for plan_id in directory.plans_held_in(ctx.session, username):
            runtime.lock_plan(ctx, plan_id)
        kept = [t for t in directory.held_tasks(ctx.session, username) if t.candidate_unit == unit]
        returned, to_assign = self._hand_back(ctx, kept, username, "unit_changed")
        return {"returned": directory.tasks_summary(returned), "to_assign": directory.tasks_summary(to_assign)}

    def deactivate_user(self, username: str, *, actor: str) -> dict:
        """Someone left (停用, reform office only): they can no longer sign in or act, and every
        open task they hold goes back to its other candidates (their group), in one transaction.
        A task nobody else may take (held by them, or open with them as its only candidate) is
        left as it is and listed under `to_assign`, for the office to assign to someone. Tasks
        the diagrams give them later go to the task's candidates (runtime.sync_tasks)."""
        with self.command(actor) as ctx:
            if username == actor:
                raise Forbidden("不能停用自己的账号；请由改革办另一位同事操作 (you cannot deactivate yourself)")
            user = self._office_changes_user(ctx, actor, username)
            if not user.active:
                raise Conflict(f"用户 {username} 已停用 (the user {username} is deactivated already)")
            if ADMIN_GROUP in user.group_codes:  # two members deactivating each other at once
                self._keep_an_office_member(ctx, user)
            # their delegations, given and received, end with them: right after their row, before
            # any plan, as a claim for them share-locks the user before anything else
            ended = delegations.end_all_of(ctx.session, ctx.log, username, actor, ctx.now, "user_deactivated")
            # the plans first, then the tasks, in the order every other command locks them
            for plan_id in directory.plans_held_in(ctx.session, username):
                runtime.lock_plan(ctx, plan_id)
            held = directory.held_tasks(ctx.session, username)
            user.active = False
            user.session_generation += 1  # their web sessions stay over if they are reactivated
            ctx.log.record("user_deactivated", username=username, old={"active": True}, new={"active": False})
            revoked = tokens.revoke_all(ctx.session, ctx.log, username, ctx.now, "user_deactivated")  # and their API tokens
            returned, to_assign = self._hand_back(ctx, held, username, "user_deactivated")
            to_assign += directory.only_candidate_of(ctx.session, username)
            result = {**directory.user_dict(user, len(held) - len(returned)), "returned": directory.tasks_summary(returned),
                      "to_assign": directory.tasks_summary(to_assign), "tokens_revoked": revoked,
                      "delegations_ended": ended}
        return result

    def reactivate_user(self, username: str, *, actor: str) -> dict:
        """Someone back (启用, reform office only). Tasks handed on while they were away stay where they are."""
        with self.command(actor) as ctx:
            user = self._office_changes_user(ctx, actor, username)
            if user.active:
                raise Conflict(f"用户 {username} 未停用 (the user {username} is active)")
            user.active = True
            ctx.log.record("user_reactivated", username=username, old={"active": False}, new={"active": True})
            return directory.user_dict(user, directory.holding(ctx.session, username))

    def set_password(self, username: str, new_password: str, *, actor: str,
                     current_password: str | None = None, first: bool = False) -> dict:
        """A new web inbox password: a person changes their own, giving the current one (even a
        reform office member: a browser left signed in must not be enough to take the account);
        the reform office resets anyone else's, e.g. one forgotten (`password_reset`, else
        `password_set` in the trail, which never holds the password nor its hash). Every web
        session of the user ends at its next request (users.session_generation, web/auth.py):
        after a reset the person signs in with the new password; the web page that changed one's
        own keeps its session going with the returned `session_generation`.

        `first`: a user who has no password yet (added without one, as the first reform office
        user is) sets their first without a current one. Only the command line passes it: it
        holds the database's credentials anyway, while a web session or an API token must never
        be enough to give a passwordless account a password. A user who has one needs it still."""
        passwords.checked(username, new_password)
        with self.command(actor) as ctx:
            if username == actor:
                self._member(ctx, actor)  # active, as for every --as
                user = ctx.session.execute(select(User).where(User.username == username).with_for_update()).scalar_one()
                if first and user.password_hash is None:
                    pass  # the first password: there is no current one to give
                elif not passwords.matches(user.password_hash, current_password or ""):
                    raise Forbidden("当前密码不正确，密码未修改 (the current password is wrong; the password is unchanged)")
                if passwords.matches(user.password_hash, new_password):
                    raise Invalid("新密码与当前密码相同 (the new password is the current one)")
                event = "password_set"
            else:
                self._office_member(ctx, actor, "只有改革办可以重设他人的密码 "
                                                "(only the reform office resets another person's password)")
                user = ctx.session.execute(select(User).where(User.username == username).with_for_update()).scalar_one_or_none()
                if user is None:
                    raise NotFound(f"用户 {username} 不存在 (no such user: {username})")
                event = "password_reset"
            user.password_hash = passwords.hashed(new_password)
            user.session_generation += 1
            ctx.log.record(event, username=username)
            # a reset takes the account back (forgotten, or in the wrong hands): the API tokens
            # made with it end with its sessions, or a token minted by whoever had it would outlive both
            revoked = tokens.revoke_all(ctx.session, ctx.log, username, ctx.now, reason=event) \
                if event == "password_reset" else 0
            return {"username": username, "display_name": user.display_name, "reset": event == "password_reset",
                    "active": user.active, "session_generation": user.session_generation,
                    "tokens_revoked": revoked}

    # ----------------------------------------------------------------- API tokens
    # Personal access tokens of the JSON API (engine/tokens.py, web/api.py): a person's key for
    # their office's other systems, acting as them. Made and revoked one command each, with its
    # event in the trail; the secret is returned once, by create_token, and never kept.
    def create_token(self, actor: str, name: str, expires_at: datetime | date | None = None, *,
                     current_password: str | None = None) -> dict:
        """A new token of `actor`, valid until `expires_at` (an instant, or a date: to the end of
        that day, Beijing time) or until revoked. Returns it with its `secret`, this once.

        `current_password`: the web asks for it, as for a new password: a token outlives the
        session (sign-out and password changes end sessions, not tokens), so a browser left
        signed in must not be enough to mint one. The command line passes None: it holds the
        database's credentials anyway."""
        name = tokens.checked_name(name)
        with self.command(actor) as ctx:
            self._member(ctx, actor)  # active, as for every --as
            if current_password is not None:
                held = ctx.session.execute(select(User.password_hash).where(User.username == actor)).scalar_one()
                if not passwords.matches(held, current_password):
                    raise Forbidden("当前密码不正确，令牌未创建 (the current password is wrong; no token was made)")
            if isinstance(expires_at, datetime):
                if expires_at.tzinfo is None or expires_at <= ctx.now:
                    raise Invalid("有效期须为将来的时刻 (the token must expire in the future)")
            else:
                expires_at = tokens.expiry(expires_at, ctx.now)
            created = tokens.add(ctx.session, actor, name, expires_at, ctx.now)
            ctx.log.record(tokens.CREATED, username=actor,
                           new={"id": created["id"], "name": name, "expires_at": created["expires_at"]})
        return created

    def tokens(self, actor: str, *, owner: str | None = None) -> list[dict]:
        """`actor`'s tokens (the reform office: `owner`'s), newest first, never their secrets."""
        owner = owner or actor
        with self.db.reader() as session:  # a read, but --as is checked like every command's
            ctx = Context(session, actor, clock.now(), specs=self.specs)
            if owner != actor:
                self._office_member(ctx, actor, "只有改革办可以查看他人的访问令牌 "
                                                "(only the reform office lists another person's tokens)")
            else:
                self._member(ctx, actor)
            return tokens.listed(ctx.session, owner, ctx.now)

    def revoke_token(self, actor: str, token_id: int) -> dict:
        """Revoke a token for good: by its owner, or by the reform office (a token leaked, a
        system retired). Its next request is refused (401)."""
        with self.command(actor) as ctx:
            member = self._member(ctx, actor)
            token = ctx.session.execute(select(ApiToken).where(ApiToken.id == token_id).with_for_update()) \
                .scalar_one_or_none()
            if token is None:
                raise NotFound(f"访问令牌 {token_id} 不存在 (no such access token: {token_id})")
            if token.username != actor and ADMIN_GROUP not in member.group_codes:
                raise Forbidden("只有令牌的所有者或改革办可以撤销令牌 (only its owner or the reform office revokes a token)")
            if token.revoked_at is not None:
                raise Conflict(f"访问令牌 {token_id}「{token.name}」已撤销 (the access token {token_id} “{token.name}” was revoked already)")
            tokens.revoke(ctx.log, token, ctx.now)
            return tokens.token_dict(token, ctx.now)

    def token_user(self, secret: str, *, address: str | None = None) -> TokenUser:
        """The person an API request's secret acts for, as they are now; Unauthorized for a secret
        no token has, a token revoked or expired, or a deactivated owner. A read, no event: the
        API's requests are not each written to the trail, the actions they take are. A revoked or
        expired token sent from `address` is (`token_refused`, tokens.record_refusal)."""
        now = clock.now()
        try:
            with self.db.read_connection() as conn:
                token = tokens.owner(conn, secret, now)
                member = _active_member(conn, token.username)
        except tokens.TokenRefused as refused:
            if tokens.refusal_to_record(refused.token, now):
                self._record_token_refusal(refused, now, address)
            raise
        if member is None:
            raise Unauthorized(f"访问令牌的所有者 {token.username} 已停用 (the token's owner {token.username} is deactivated)")
        if tokens.use_to_record(token, now):
            self._record_token_use(token.id, now)
        return TokenUser(*astuple(member), token.id, token.name, iso(token.expires_at))

    def _record_token_refusal(self, refused, now, address: str | None) -> None:
        """`token_refused`, in a command of its own in the owner's name (the token acts as them;
        who sent it is not known, only from where). Like a last use, it gives way to actions: a
        busy database leaves it to the next refused request."""
        try:
            with self.command(refused.token.username) as ctx:
                tokens.record_refusal(ctx.session.connection(), ctx.log, refused, now, address)
        except (Conflict, Busy):
            pass

    def _record_token_use(self, token_id: int, now) -> None:
        """When the token was last used, in a short transaction of its own. Not an action of
        anyone's, so no event; and only a help to whoever decides whether a token can go: when
        the write has to wait (SQLite busy with an action), the request goes on without it and a
        later one writes it."""
        try:
            with self.db.transaction() as session:
                tokens.record_use(session.connection(), token_id, now)
        except OperationalError as exc:
            if not _contended(exc):
                raise

    # ----------------------------------------------------------------- delegations (委托办理)
    # Someone away names a colleague to act for them for a period (engine/delegations.py has the
    # rules); each permission check below asks `_acting_for` whom the actor stands in for today.
    def delegate(self, principal: str, *, to: str, starts_on: date, ends_on: date, reason: str,
                 actor: str) -> dict:
        """`to` acts for `principal` from `starts_on` to `ends_on` (Beijing dates, both included).
        Set by the principal themself, or by the reform office for anyone."""
        reason = delegations.checked_reason(reason)
        if principal == to:
            raise Invalid("不能委托给自己，请选择另一位同事 (you cannot delegate to yourself: choose a colleague)")
        with self.command(actor) as ctx:
            member = self._member(ctx, actor)
            if actor != principal and ADMIN_GROUP not in member.group_codes:
                raise Forbidden("只有本人或改革办可以为其设置委托 (only the person themself or the reform office "
                                "sets who acts for them)")
            delegations.checked_period(starts_on, ends_on, ctx.now)
            # both rows locked, in name order (users first): two delegations sharing a person queue,
            # so neither an overlap nor a chain slips between their checks; a deactivation too
            for name in sorted({principal, to}):
                self._member(ctx, name, lock=True)
            delegations.check_no_clash(ctx.session, principal, to, starts_on, ends_on)
            row = delegations.add(ctx.session, principal, to, starts_on, ends_on, reason, actor, ctx.now)
            ctx.log.record(delegations.CREATED, username=principal, new=delegations.event_fields(row))
            return delegations.delegation_dict(row, delegations.today(ctx.now))

    def end_delegation(self, delegation_id: int, *, actor: str) -> dict:
        """End a delegation now (back early, or set by mistake): its principal, its delegate or the
        reform office. Its rights end with this command."""
        with self.command(actor) as ctx:
            member = self._member(ctx, actor)
            row = ctx.session.get(Delegation, delegation_id)
            if row is None:
                raise NotFound(f"委托 {delegation_id} 不存在 (no such delegation: {delegation_id})")
            # the two people first (users before anything), then the row: a claim under way for
            # the principal finishes first, and the next one sees the delegation ended
            for name in sorted({row.principal, row.delegate}):
                ctx.session.connection().execute(_LOCK_USER, {"username": name})
            row = ctx.session.execute(select(Delegation).where(Delegation.id == delegation_id)
                                      .with_for_update().execution_options(populate_existing=True)).scalar_one()
            delegations.may_end(row, actor, ADMIN_GROUP in member.group_codes)
            delegations.end(ctx.log, row, actor, ctx.now)
            return delegations.delegation_dict(row, delegations.today(ctx.now))

    def delegations(self, actor: str, *, user: str | None = None, everyone: bool = False) -> list[dict]:
        """`actor`'s delegations, given and received; the reform office's: `user`'s, or with
        `everyone` all current and upcoming ones."""
        with self.db.reader() as session:  # a read, but --as is checked like every command's
            ctx = Context(session, actor, clock.now(), specs=self.specs)
            if everyone or (user is not None and user != actor):
                self._office_member(ctx, actor, "只有改革办可以查看他人的委托 "
                                                "(only the reform office lists other people's delegations)")
            else:
                self._member(ctx, actor)
            return delegations.listed(session, ctx.now, None if everyone else (user or actor))

    def acting_for(self, username: str) -> list[Member]:
        """The active people `username` acts for today (a read: the web's check of which
        tasks and plans a delegate may see)."""
        with self.db.read_connection() as conn:
            names = delegations.principals_of(conn, username, clock.today())
            return [m for name in names if (m := _active_member(conn, name)) is not None]

    def _acting_for(self, ctx: Context) -> list[Member]:
        """Whom the command's actor acts for today, each share-locked as `_member(hold=True)`
        locks the actor, and read again after: a deactivation (which ends their delegations in
        its transaction) is waited for, then seen. Users before plans and tasks."""
        conn = ctx.session.connection()
        on = delegations.today(ctx.now)
        names = delegations.principals_of(conn, ctx.actor, on)
        if not names:
            return []
        held = {name: m for name in names if (m := _active_member(conn, name, _MEMBER_HELD)) is not None}
        return [held[name] for name in delegations.principals_of(conn, ctx.actor, on) if name in held]

    # ----------------------------------------------------------------- web sign-ins
    # Every sign-in leaves a trace (MLPS 2.0): the web inbox (web/auth.py) records each one here,
    # one event in one transaction. None of them holds a password. Their actor is the name the
    # person gave, cut to 64 like every actor: for a refused sign-in that names the account tried.
    SIGN_IN_REFUSALS = ("wrong_password", "unknown_user", "deactivated", "throttled")
    SESSION_ENDINGS = ("idle", "too_long")

    def signed_in(self, username: str, *, address: str) -> None:
        with self.command(username) as ctx:
            ctx.log.record("signed_in", username=username, address=address[:64])

    def sign_in_refused(self, name: str, *, address: str, reason: str) -> None:
        """`name` as typed, whether a user has it or not: wrong passwords and unknown names take
        this same way, so neither answers faster (tests/test_web_security.py)."""
        if reason not in self.SIGN_IN_REFUSALS:
            raise ValueError(f"unknown sign-in refusal {reason!r}")
        with self.command(name[:64]) as ctx:
            ctx.log.record("sign_in_refused", username=name[:64], address=address[:64], reason=reason)

    PASSWORD_CHANGE_REFUSALS = ("wrong_current_password", "throttled")

    def password_change_refused(self, username: str, *, address: str, reason: str) -> None:
        """Someone signed in tried to change their password with a wrong current one (or too often):
        a browser left open being used to take the account leaves a trace, as a refused sign-in does."""
        if reason not in self.PASSWORD_CHANGE_REFUSALS:
            raise ValueError(f"unknown password change refusal {reason!r}")
        with self.command(username) as ctx:
            ctx.log.record("password_change_refused", username=username, address=address[:64], reason=reason)

    def signed_out(self, username: str, *, address: str) -> None:
        """Signing out ends every copy of the session, in every browser: the generation counts up."""
        with self.command(username) as ctx:
            ctx.session.execute(update(User).where(User.username == username)
                                .values(session_generation=User.session_generation + 1))
            ctx.log.record("signed_out", username=username, address=address[:64])

    def session_expired(self, username: str, *, address: str, reason: str, last_seen: datetime,
                        signed_in_at: datetime) -> None:
        """A web session ended by itself: `idle` (no request for too long) or `too_long` (the most
        hours a session may last)."""
        if reason not in self.SESSION_ENDINGS:
            raise ValueError(f"unknown session ending {reason!r}")
        with self.command(username) as ctx:
            ctx.log.record("session_expired", username=username, address=address[:64], reason=reason,
                           last_seen=iso(last_seen), signed_in_at=iso(signed_in_at))

    def sign_ins(self, username: str, *, refused: int = 10) -> dict:
        """For the office's page of a user: their last sign-in and latest refused ones, from the trail."""
        with self.db.reader() as session:
            return directory.sign_ins(session, username, refused=refused)

    @staticmethod
    def _keep_an_office_member(ctx: Context, leaving: User) -> None:
        """Refuse to take the last active member out of the reform office: nobody could then
        change users, enter the calendar or assign tasks. The office's group row is locked, so
        that two members taking each other out at once are counted one after the other."""
        ctx.session.execute(select(Group.id).where(Group.code == ADMIN_GROUP).with_for_update())
        others = ctx.session.execute(select(func.count()).select_from(User).where(
            User.active.is_(True), User.id != leaving.id, User.groups.any(Group.code == ADMIN_GROUP))).scalar_one()
        if not others:
            raise Conflict(f"改革办至少要有一位在岗成员：{leaving.username} 是改革办唯一的在岗成员，请先为接替的人加上 "
                           f"{ADMIN_GROUP} 角色 (the reform office needs at least one active member: add "
                           f"{ADMIN_GROUP} to whoever takes over first)")

    def _office_changes_user(self, ctx: Context, actor: str, username: str) -> User:
        """The user `username`, locked, after checking that the actor is in the reform office."""
        self._office_member(ctx, actor, "只有改革办可以修改用户 (only the reform office changes users)")
        user = ctx.session.execute(select(User).where(User.username == username).with_for_update()).scalar_one_or_none()
        if user is None:
            raise NotFound(f"用户 {username} 不存在 (no such user: {username})")
        return user

    # ----------------------------------------------------------------- calendar
    def set_calendar_day(self, day: date, *, working: bool, note: str = "", actor: str,
                         seen: dict | None = None) -> dict:
        """Enter a statutory holiday or a swapped working day for a year the calendar package
        does not know yet (the State Council publishes each year's schedule in late autumn).
        An entry that would change nothing (上班 on a Monday) is refused: it is mostly a mistyped
        date, and would make its year count as entered. `years_begun`: [the day's year] when this
        is the first entry of a year nobody had entered: it now counts as entered, its deadlines no
        longer provisional, though one day is not its schedule. `seen`: see set_calendar_days."""
        done = self.set_calendar_days([(day, working, note)], actor=actor, always=True, seen=seen)
        return {"day": day.isoformat(), "working": working, "note": note, "years_begun": done["years_begun"],
                "counted_through": done["counted_through"]}

    def remove_calendar_day(self, day: date, *, actor: str, seen: dict | None = None) -> dict:
        """Take back an entry (entered by mistake): the day is again as the package, or
        the law's holidays and weekends (workdays.before_entries), have it. A year left without entries counts as not entered again
        (`years_ended`). `counted_through`: see set_calendar_days. `seen`: see set_calendar_days."""
        with self.command(actor) as ctx:
            self._office_member(ctx, actor, _CALENDAR_KEEPERS)
            runtime.lock_calendar(ctx.session.connection(), shared=False)
            row = ctx.session.get(CalendarOverride, day)
            _calendar_as_seen(day, row, seen)
            if row is None:
                raise NotFound(f"{day} 没有录入过，无需撤销 (nothing was entered for {day})")
            ctx.log.record("calendar_changed", day=day.isoformat(), old={"working": row.is_working_day},
                           new={"working": None}, note=row.note)
            ctx.session.delete(row)
            ctx.session.flush()
            # the rest of the year's entries decide whether the law's guessed make-up days still count
            year_entered = not provisional.unknown_years(ctx.session.connection(), {day.year})
        ended = [] if year_entered else [day.year]
        return {"day": day.isoformat(), "working": before_entries(day, year_entered), "removed": True,
                "years_ended": ended, "counted_through": recount.counted_through([day], ended).isoformat()}

    def set_calendar_days(self, days: list[tuple[date, bool, str]], *, actor: str, always: bool = False,
                          seen: dict | None = None) -> dict:
        """Enter several days (day, working, note) in one transaction: a year's schedule. A day
        already entered the same way is left as it is, and not recorded again, unless `always`;
        so importing the same file twice changes nothing the second time. Returns the days
        `entered` and those `unchanged`, each {"day", "working", "note"}.

        `seen` {day: (working, note) or None for nothing entered}: the entries as the person saw
        them (the web page). A day among them entered or changed by someone else since is a
        conflict, and nothing is entered: two offices entering the same day never overwrite
        each other unseen.

        `counted_through`: the last day the entries changed the counting of (ISO; None if nothing
        was entered), for recount_working_days (engine/recount.py counted_through)."""
        result = {"entered": [], "unchanged": [], "years_begun": [], "counted_through": None}
        with self.command(actor) as ctx:
            self._office_member(ctx, actor, _CALENDAR_KEEPERS)
            runtime.lock_calendar(ctx.session.connection(), shared=False)
            # the first entry makes a year count as entered (WorkCalendar.covered) and its deadlines
            # no longer provisional, though one day is not its schedule: said as `years_begun`
            unknown = provisional.unknown_years(ctx.session.connection(), {day.year for day, _working, _note in days})
            for day, working, note in days:
                row = ctx.session.get(CalendarOverride, day)
                _calendar_as_seen(day, row, seen)
                # (a file's lines were checked as it was read, each with its line number)
                if always and (pointless := pointless_entry(day, working)) is not None:
                    zh, en = pointless
                    if row is None or not before_entries(day):  # a holiday by law: its entry is not the mistake
                        raise Invalid(f"{zh} ({en})")
                    raise Invalid(f"{zh}；要恢复为工作日，请撤销该日已录入的{'调休上班' if row.is_working_day else '放假'}"
                                  f"（网页的「撤销」，或 reformflow calendar remove {day} --as {actor}） ({en}; to make it "
                                  f"a plain working day again, remove its entry: “撤销” on the web page, or `reformflow "
                                  f"calendar remove {day} --as {actor}`)")
                old = None if row is None else row.is_working_day
                entry = {"day": day.isoformat(), "working": working, "note": note}
                if not always and row is not None and (old, row.note) == (working, note):
                    result["unchanged"].append(entry)
                    continue
                if row is None:
                    row = CalendarOverride(day=day, is_working_day=working, note=note)
                    ctx.session.add(row)
                row.is_working_day, row.note = working, note
                ctx.log.record("calendar_changed", day=day.isoformat(), old={"working": old},
                               new={"working": working}, note=note)
                result["entered"].append(entry)
            result["years_begun"] = sorted({int(e["day"][:4]) for e in result["entered"]} & unknown)
        if result["entered"]:
            result["counted_through"] = recount.counted_through(
                [date.fromisoformat(e["day"]) for e in result["entered"]], result["years_begun"]).isoformat()
        return result

    def recount_working_days(self, day: date, *, actor: str, progress: Callable[[int, int], None] | None = None,
                             reason: str = "calendar") -> list[dict]:
        """After `day` changed in the calendar: count again the due dates of open tasks, and the
        timers on them, that count working days across it (engine/recount.py), each plan in its
        own transaction. Returns, per plan where something moved, the tasks and timers with
        their old and new times; a plan that could not be counted again (an engine error in its
        due date, say) has `error` and nothing moved, and the plans after it are still counted:
        the calendar change is already saved. `progress(done, of)` is told every 50 plans. `reason` is what the
        trail says: "calendar" (a day entered or taken back) or "calendar_rule" (`calendar
        recount`, after an upgrade that counts a year nobody entered differently)."""
        day_ends = datetime.combine(day + timedelta(days=1), time(), clock.TZ)
        with self.command(actor) as ctx:
            self._office_member(ctx, actor, _CALENDAR_KEEPERS)
            plans = ctx.session.execute(select(HumanTask.instance_id).distinct().join(ProcessInstance).where(
                runtime.is_open(HumanTask.status), HumanTask.created_at < day_ends,
                ProcessInstance.status == "running").order_by(HumanTask.instance_id)).scalars().all()
        moved = []
        for done, plan_id in enumerate(plans, start=1):
            # that plan's transaction is undone on any error; the others are their own
            error = None
            try:
                result = self._recount_plan(plan_id, day_ends, actor, reason)
            except ReformflowError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a plan's state unreadable, a database error
                _log.exception("recounting plan %s", plan_id)
                error = f"内部错误 (internal error: {type(exc).__name__})，详见服务器日志 (see the server's log)"
            if error is not None:
                result = {"instance_id": plan_id, "tasks": [], "timers": [], "error": error}
            if result["tasks"] or result["timers"] or error is not None:
                moved.append(result)
            if progress is not None and done % 50 == 0:
                progress(done, len(plans))
        return moved

    def _recount_plan(self, plan_id: int, day_ends: datetime, actor: str, reason: str) -> dict:
        result = {"instance_id": plan_id, "tasks": [], "timers": []}
        with self.command(actor) as ctx, work_budget():  # one for the due dates, timers and run below
            instance = self._lock_instance(ctx, plan_id)
            if instance.status != "running":
                return result
            rows = ctx.session.connection().execute(_RECOUNT_ROWS, {"plan_id": plan_id, "day_ends": day_ends}).all()
            workflow = runtime.load(ctx, instance)
            env = ctx.environment
            for row in rows:
                task = workflow.get_task_from_id(UUID(row.spiff_task_id))
                if task is None or task.state != TaskState.READY:
                    continue
                name = task.task_spec.bpmn_name
                try:
                    due = recount.recount_due(env, task, task.task_spec.extensions.get("camunda:dueDate"),
                                              row.due_basis)
                    timers = recount.recount_timers(env, task, row.created_at)
                except (ExpressionError, TimerValueError) as exc:
                    raise runtime.engine_error(exc) from None
                # a basis kept by an older release gets its working-day mark: shown 暂定 where it should be
                marked = recount.marked_basis(row.due_basis, task.task_spec.extensions.get("camunda:dueDate"))
                moved = due is not None and due != row.due_at
                if moved or marked is not None:
                    ctx.session.connection().execute(recount.SET_DUE, {
                        "task_id": row.id, "due_at": due if moved else row.due_at, "due_basis": marked or row.due_basis})
                if moved:
                    ctx.log.record("task_due_changed", instance_id=plan_id, task_id=row.id, element_id=row.element_id,
                                   name=name, reason=reason, old={"due_at": iso(row.due_at)},
                                   new={"due_at": iso(due)})
                    result["tasks"].append({"task_id": row.id, "element_id": row.element_id, "name": name,
                                            "old": iso(row.due_at), "new": iso(due)})
                for timer, old, new in timers:
                    spec = timer.task_spec
                    ctx.log.record("timer_moved", instance_id=plan_id, task_id=row.id, element_id=spec.bpmn_id,
                                   name=spec.bpmn_name, reason=reason, old={"due": old}, new={"due": new})
                    result["timers"].append({"element_id": spec.bpmn_id, "name": spec.bpmn_name,
                                             "old": old, "new": new})
            if result["timers"]:
                # saved like any action; a timer now already due fires here and reminds as the worker would
                runtime.run(ctx, instance, workflow, lambda wf: None)
        return result

    # ----------------------------------------------------------------- deploy
    def deploy(self, files: list[tuple[str, bytes]], *, actor: str = SYSTEM_ACTOR) -> list[dict]:
        """Deploy files together, all or nothing. Identical content is a no-op; changed content
        becomes the next version; running plans stay on the version they started on."""
        from .diagram_changes import same_content
        results = []
        # The same checks as `reformflow check`, Camunda Modeler's lint included: run before the
        # write transaction (they take about a second), so other users' actions do not wait.
        with self.db.reader() as s:
            deployed = latest_diagrams(s)
        report = _checked(files, deployed)
        with self.command(actor) as ctx:
            s = ctx.session
            if actor != SYSTEM_ACTOR:  # a person deploying is recorded; as on the web, the reform office
                self._office_member(ctx, actor, "只有改革办可以部署流程；不加 --as 则以系统运维的身份部署 "
                                                "(only the reform office deploys processes; without --as the deploy is the operator's)")
            # Remembered by content: the same answer at once, unless someone deployed meanwhile.
            report = _checked(files, latest_diagrams(s))
            problems = [p for p in report.problems if p["severity"] == "error"]
            if problems:
                raise Invalid("部署被拒绝，图中有错误，请先用 `reformflow check` 查看并修改 (deploy refused): "
                              + "; ".join(f"{p['file']}: {p['element_id'] or '-'}: [{p['rule']}] {p['message']}"
                                          for p in problems), details=problems)
            parsed = _parsed(files)
            # deployed, but said as `check` says it: a variable nothing sets (the plan fails where it
            # reads it), names of groups and users nobody created (a task nobody can claim), …
            warnings: dict[str, list[dict]] = {}
            for w in [p for p in report.problems if p["severity"] == "warning"] \
                    + list(directory_problems(files, *directory_of(s))):
                warnings.setdefault(w["file"], []).append(w)
            for p, spec_json in parsed:
                latest = self._latest(s, p.key)
                # the same bytes, or the same XML once canonicalised (a Modeler re-save with no change)
                if latest is not None and (latest.sha256 == p.sha256 or same_content(latest.bpmn_xml, p.xml)):
                    results.append(self._definition_dict(latest) | {"status": "unchanged"})
                    continue
                definition = ProcessDefinition(
                    key=p.key, version=(latest.version + 1) if latest else 1, name=p.name,
                    file_name=own_name(p.file_name), bpmn_xml=p.xml, sha256=p.sha256,
                    spec_json=spec_json, called_keys=json.dumps(p.called_keys),
                    initiator_variable=p.initiator_variable,
                    start_config=json.dumps({"properties": p.properties, "starter_groups": p.starter_groups,
                                             "starter_users": p.starter_users, "start_form": p.start_form,
                                             "start_names": p.start_names},
                                            ensure_ascii=False),
                    deployed_at=ctx.now, deployed_by=actor)
                s.add(definition)
                s.flush()
                ctx.log.record("deployed", key=p.key, version=definition.version, name=p.name,
                               file=definition.file_name, sha256=p.sha256,
                               previous_version=latest.version if latest else None)
                results.append(self._definition_dict(definition) | {"status": "created"})
        for r, (p, _) in zip(results, parsed):
            r["modeler_lint"] = report.modeler_lint
            r["warnings"] = warnings.get(p.file_name, [])
        return results

    def deploy_errors(self, files: list[tuple[str, bytes]]) -> list[dict]:
        """The errors that would refuse deploying these files now (the same checks, remembered by
        content, so the deploy after it does not run them again). Deploy's question about a
        layout-only file is not asked when the set would be refused anyway."""
        with self.db.reader() as s:
            deployed = latest_diagrams(s)
        return [p for p in _checked(files, deployed).problems if p["severity"] == "error"]

    @staticmethod
    def _latest(session, key: str) -> ProcessDefinition | None:
        return session.execute(select(ProcessDefinition).where(ProcessDefinition.key == key)
                               .order_by(ProcessDefinition.version.desc()).limit(1)).scalar_one_or_none()

    @staticmethod
    def _definition_dict(d: ProcessDefinition) -> dict:
        return {"id": d.id, "key": d.key, "version": d.version, "name": d.name,
                "file_name": d.file_name, "sha256": d.sha256, "deployed_at": d.deployed_at.isoformat(),
                "deployed_by": d.deployed_by}

    def _bind_called(self, session, definition: ProcessDefinition) -> dict[str, ProcessDefinition]:
        """key -> the latest version of every process this one calls, transitively."""
        bound, pending = {}, list(json.loads(definition.called_keys))
        while pending:
            key = pending.pop()
            if key in bound:
                continue
            latest = self._latest(session, key)
            if latest is None:
                raise Invalid(f"流程 {definition.key} 调用的子流程 {key} 尚未部署 (called process not deployed)")
            bound[key] = latest
            pending.extend(json.loads(latest.called_keys))
        return bound

    # ----------------------------------------------------------------- start
    def start(self, key: str, *, actor: str, title: str | None = None,
              business_key: str | None = None, data: dict | None = None) -> dict:
        data = dict(data or {})
        forms.check_submitted(data, ("启动数据", "start data"))
        business_key = business_key_form(business_key)
        with self.command(actor) as ctx:
            s = ctx.session
            user = self._member(ctx, actor, hold=True)  # the first task may be theirs (${initiator})
            definition = self._latest(s, key)
            if definition is None:
                raise NotFound(f"流程 {key} 尚未部署，见 `reformflow definitions` (no process with key {key})")
            config = json.loads(definition.start_config or "{}")
            starters = set(config.get("starter_groups", [])), set(config.get("starter_users", []))
            if (starters[0] or starters[1]) and actor not in starters[1] \
                    and not starters[0] & set(user.group_codes):
                raise Forbidden(f"您无权发起「{definition.name}」：仅限 "
                                f"{'、'.join(sorted(starters[0] | starters[1]))} (you may not start “{definition.name}”: only "
                                f"{', '.join(sorted(starters[0] | starters[1]))} may)")
            if not (starters[0] or starters[1]) and ADMIN_GROUP not in user.group_codes \
                    and (caller := _caller_of(s, key)) is not None:
                # it runs inside its caller; on its own it would open steps in other offices' inboxes
                raise Forbidden(f"「{definition.name}」由「{caller}」调用，不单独发起；单独发起限改革办，或由流程图的"
                                f"发起人（candidateStarterGroups）指定 (it runs inside {caller}: on its own only the "
                                "reform office, or the starters its diagram names, may start it)")
            settings = {name: _setting(value) for name, value in config.get("properties", {}).items()}
            clash = sorted(set(settings) & set(data))
            if clash:
                raise Invalid(f"{'、'.join(clash)} 由流程配置（流程属性）决定，启动时不能指定 "
                              f"(set by the process's properties; change them in the diagram)")
            if business_key and s.execute(select(ProcessInstance.id).where(
                    ProcessInstance.business_key == business_key)).first():
                raise Conflict(_key_used(business_key),
                               reason="business_key_used")
            bound = self._bind_called(s, definition)
            called = {k: d.id for k, d in bound.items()}  # the plan row keeps ids; people read versions
            spec, subprocess_specs = runtime.specs_for(ctx, definition.id, called)
            if config.get("start_form"):  # the start event's form: exactly its fields, validated
                data = {k: v for k, v in data.items() if k == "title"} | forms.validate(
                    config["start_form"], {k: v for k, v in data.items() if k != "title"}, {},
                    runtime.form_limit(ctx, settings, spec=spec, element=runtime.start_event(spec)))
            else:
                names = _start_data_names(spec, subprocess_specs, definition.initiator_variable)
                data = forms.check_variables(names.fields, data)
                _check_not_engine_set(data, names)
            data = _starter_unit(user, definition.name, config, data)
            _check_office_only(user, config, data)
            if bodies := config.get("properties", {}).get(reporting_bodies.PROPERTY):
                reporting_bodies.check(s, bodies, data.get(bodies))
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=ctx.script_engine)
            _check_not_the_starters(data, definition.initiator_variable)
            if not config.get("start_form"):
                start_names.check(data, definition.name, [definition, *bound.values()])
            title = title or data.get("title") or definition.name
            _check_plan_names(title, business_key)
            # `initiator` always names the starter, so a called diagram (filing, legality review)
            # started on its own finds it too; camunda:initiator may add another name.
            variables = {**data, **settings, "title": title, "businessKey": business_key, "initiator": actor}
            if definition.initiator_variable:
                variables[definition.initiator_variable] = actor
            instance = ProcessInstance(
                definition_id=definition.id, subprocess_definitions=json.dumps(called),
                business_key=business_key, title=title, status="running", state_json="{}",
                started_by=actor, started_at=ctx.now)
            instance.definition = definition
            s.add(instance)
            try:
                s.flush()
            except IntegrityError:
                raise Conflict(_key_used(business_key),
                               reason="business_key_used") from None
            ctx.log.record("instance_started", instance_id=instance.id, key=key,
                           version=definition.version, business_key=business_key, title=title,
                           variables=variables,
                           called_versions={k: d.version for k, d in bound.items()})

            def begin(wf):
                wf.get_next_task(state=TaskState.READY).data.update(variables)
            plan = runtime.Plan.from_row(instance)  # the new row, as the other commands read it
            runtime.run(ctx, plan, workflow, begin)
            runtime.remember(ctx, plan, workflow)
            instance_id = instance.id
        return self.instance(instance_id)

    # ----------------------------------------------------------------- tasks
    def claim(self, task_id: int, *, actor: str, expected_version: int | None = None) -> dict:
        with self.command(actor) as ctx:
            user = self._member(ctx, actor, hold=True)  # they become its holder
            principals = self._acting_for(ctx)
            task = self._task(ctx, task_id, expected_version)
            if task.status not in runtime.OPEN_STATUSES:
                raise Conflict(f"任务 {task_id} 已{_STATUS_ZH.get(task.status, task.status)}，不能认领 (task {task_id} is {task.status})",
                               reason=ended(task.status))
            if task.status == "claimed":
                if task.assignee == actor:
                    return self._task_dict(task)
                raise Conflict(f"任务 {task_id} 已被 {task.assignee} 认领：请刷新待办；如需由您办理，请联系 {task.assignee} "
                               f"或请改革办改派 (task {task_id} is already claimed by {task.assignee}: reload your inbox; "
                               f"to take it over, ask {task.assignee} or the reform office to reassign it)", reason="taken")
            # their own right first; else a right of someone they act for today: the task becomes
            # theirs (they do the work), the trail says for whom
            for_whom = None
            if not self._may_claim(user, task):
                for_whom = next((p.username for p in principals if self._may_claim(p, task)), None)
                if for_whom is None:
                    raise self._not_candidate(user, task, "认领", "claim")
            task = self._update_task(ctx, task, assignee=actor, status="claimed", claimed_at=ctx.now)
            ctx.log.record("task_claimed", instance_id=task.instance_id, task_id=task.id,
                           element_id=task.element_id, old={"assignee": None}, new={"assignee": actor},
                           **_behalf(for_whom))
            return self._task_dict(task) | _behalf(for_whom)

    def unclaim(self, task_id: int, *, actor: str, expected_version: int | None = None) -> dict:
        with self.command(actor) as ctx:
            user = self._member(ctx, actor)
            principals = {p.username for p in self._acting_for(ctx)}
            task = self._task(ctx, task_id, expected_version)
            if task.status == "open":
                raise Conflict(f"任务 {task_id} 当前未被认领 (task {task_id} is not claimed)", reason="not_claimed")
            if task.status != "claimed":
                raise Conflict(f"任务 {task_id} 已{_STATUS_ZH.get(task.status, task.status)}，不能交回 (task {task_id} is {task.status})",
                               reason=ended(task.status))
            for_whom = task.assignee if task.assignee in principals else None
            if task.assignee != actor and for_whom is None and ADMIN_GROUP not in user.group_codes:
                raise Forbidden(f"只有办理人 {task.assignee} 或改革办可以交回任务 {task_id} (only the assignee {task.assignee} or the reform office may hand task {task_id} back)")
            old = task.assignee
            task = self._update_task(ctx, task, assignee=None, status="open", claimed_at=None)
            ctx.log.record("task_unclaimed", instance_id=task.instance_id, task_id=task.id,
                           element_id=task.element_id, old={"assignee": old}, new={"assignee": None},
                           **_behalf(for_whom))
            result = self._task_dict(task)
            # kept to a unit where nobody else active may claim it: it would wait unseen, unless
            # they are told the office must assign it (as users deactivate lists it)
            if task.candidate_unit and not directory.others_may_take(ctx.session, task, old):
                result["to_assign"] = True
            return result

    def assign(self, task_id: int, *, to: str, actor: str, expected_version: int | None = None,
               reassign: bool = False) -> dict:
        """Give a task to a candidate. A task someone else holds is taken from them only with
        `reassign`: else an office assigning what it saw open would silently overwrite a claim
        made a moment before."""
        with self.command(actor) as ctx:
            self._office_member(ctx, actor, ASSIGNS_OFFICE_ONLY)
            target = self._member(ctx, to, hold=True)  # they become its holder
            task = self._task(ctx, task_id, expected_version)
            if task.status not in runtime.OPEN_STATUSES:
                raise Conflict(f"任务 {task_id} 已{_STATUS_ZH.get(task.status, task.status)} (task {task_id} is {task.status})",
                               reason=ended(task.status))
            if not self._may_claim(target, task, any_unit=True) and not (
                    ADMIN_GROUP in target.group_codes and directory.candidates_all_left(ctx.session, task)):
                raise Forbidden(f"{target.display_name}（{to}）不是任务 {task_id}「{task.name}」的候选人，"
                                f"只能指派给{_candidates_zh(task)} (the user is not a candidate for this task: "
                                f"assign it to {_candidates_en(task)})")
            if task.assignee not in (None, to) and not reassign:
                raise Conflict(f"任务 {task_id} 已由 {task.assignee} 办理；如确需改派，请加 --reassign"
                               f" (the task is held by {task.assignee}; use --reassign to take it from them)",
                               reason="taken")
            old = task.assignee
            # the office may give a task kept to one unit to another unit's group member: its
            # decision, kept on the trail with both units
            outside = {"candidate_unit": task.candidate_unit, "unit": target.unit} \
                if task.candidate_unit and not self._may_claim(target, task) else {}
            task = self._update_task(ctx, task, assignee=target.username, status="claimed", claimed_at=ctx.now)
            ctx.log.record("task_assigned", instance_id=task.instance_id, task_id=task.id,
                           element_id=task.element_id, old={"assignee": old}, new={"assignee": to}, **outside)
            return self._task_dict(task)

    def complete(self, task_id: int, *, actor: str, data: dict | None = None,
                 expected_version: int | None = None, files: list[tuple[str, bytes]] = (),
                 comment: str | None = None) -> dict:
        """Complete a task with its form data, any files (name, content) and a comment about it
        (批注) sent with it, all in one transaction: a refused form stores none of them."""
        data = dict(data or {})
        forms.check_submitted(data, ("表单数据", "form data"))
        files = documents.checked_all(files)
        comment = comments.checked_text(comment) if (comment or "").strip() else None
        try:
            return self._complete(task_id, actor, data, expected_version, files, comment, catch_up=True)
        except _TimersDue as due:
            # the plan's timers first, as the system's own action, as the worker would have fired
            # them: with the worker stopped, a filing completed after its month, or a re-review
            # requested after its window closed, skipped the deadline's rule for good (the timer on
            # the step dies with it). Then the person's action, on what the timers left.
            try:
                self._fire_plan(due.plan_id)
            except ReformflowError:  # a timer that fails: the worker retries it and says so
                pass
            return self._complete(task_id, actor, data, expected_version, files, comment, catch_up=False)

    def _complete(self, task_id: int, actor: str, data: dict, expected_version: int | None, files: list,
                  comment: str | None, *, catch_up: bool) -> dict:
        with self.command(actor) as ctx:
            instance, member, principal, task, workflow, spiff_task, values = self._completion(
                ctx, task_id, actor, data, expected_version, files, comment, catch_up=catch_up)
            for_whom, holder = principal and principal.username, task.assignee
            old = {k: spiff_task.data.get(k) for k in values}

            def finish(_wf):
                spiff_task.data.update(values)
                spiff_task.run()
            attached = [self._attach_file(ctx, task, *file, actor, for_whom) for file in files]
            noted = self._add_comment(ctx, member, instance.id, task, comment, for_whom) if comment else None
            if task.drafted:  # 暂存: nobody will finish the drafts of a step submitted
                drafts.discard(ctx.session, [task.id])
            task = self._update_task(ctx, task, status="completed", completed_at=ctx.now, completed_by=actor)
            # for a principal, their unit too: a legality review done for 市司法局 by a delegate of
            # the reform office is the 法制机构's record (the decision archive files it so)
            ctx.log.record("task_completed", instance_id=instance.id, task_id=task.id,
                           element_id=task.element_id, name=task.name, old=old, new=values, unit=member.unit,
                           **_behalf(for_whom), **({"on_behalf_of_unit": principal.unit} if principal else {}))
            runtime.run(ctx, instance, workflow, finish)
            result = self._task_dict(task) | _behalf(for_whom)
            if attached:
                result["documents"] = attached
            if noted:
                result["comment"] = noted
            # a step sent back goes to whom it was sent by: its holder
            reopened = self._return_to_sender(ctx, instance, workflow, task, holder)
            if reopened:
                result["reopened"] = reopened
        return result

    def check_complete(self, task_id: int, *, actor: str, data: dict | None = None,
                       expected_version: int | None = None, files: list[tuple[str, bytes]] = (),
                       comment: str | None = None) -> dict:
        """Everything `complete` would check of this submission, nothing changed: the values the
        form would write (for a page that asks before a decision that cannot be undone), or the
        refusal `complete` would give."""
        data = dict(data or {})
        forms.check_submitted(data, ("表单数据", "form data"))
        files = documents.checked_all(files)
        comment = comments.checked_text(comment) if (comment or "").strip() else None
        with self.command(actor) as ctx:
            *_, values = self._completion(ctx, task_id, actor, data, expected_version, files, comment)
        return values

    def _completion(self, ctx: Context, task_id: int, actor: str, data: dict, expected_version: int | None,
                    files: list, comment: str | None = None, *, catch_up: bool = False) -> tuple:
        """The checks of a completion, in the command's transaction: the plan and the task locked,
        the actor its holder, the task ready, the form's values valid, a required file given.
        Returns (plan, actor, whom the actor stands in for or None, task row, workflow,
        SpiffWorkflow task, values to write)."""
        instance, member, principals = self._lock_plan_of_task(ctx, task_id, actor)
        if catch_up and instance.status == "running" and instance.next_timer_at is not None \
                and instance.next_timer_at <= ctx.now:
            raise _TimersDue(instance.id)  # nothing done yet: complete fires them, then comes back
        # what became of the step is said before that the page was out of date: "changed
        # elsewhere, reload" helps nobody whose plan was stopped or whose own first click went in
        task = self._task(ctx, task_id, None)
        if task.status == "cancelled" and instance.status == "cancelled":
            # withdrawn with its plan: "cannot submit again" would tell someone who never
            # submitted it that they had
            raise Conflict(f"方案 {instance.id} 已终止，任务 {task_id}「{task.name}」已撤销，无需再办理 "
                           f"(plan {instance.id} was stopped: nothing is left to do on task {task_id} “{task.name}”)", reason="stopped")
        if task.status == "completed" and task.completed_by == actor:
            raise _submitted_before(ctx, task, data, files, comment)
        if expected_version is not None and task.version != expected_version:
            raise _stale(task_id)
        if task.status == "claimed" and (task.assignee == actor or task.assignee in {p.username for p in principals}):
            pass
        elif task.status == "cancelled":
            # withdrawn by the process (a deadline's timer, another branch that ended it): never
            # submitted, so not "cannot submit again"
            raise Conflict(f"任务 {task_id}「{task.name}」已撤销（期限已过或流程已转入其他环节），无需再办理：请刷新待办，"
                           f"在方案页面查看现在的环节 (task {task_id} “{task.name}” was withdrawn by the process, its "
                           f"deadline past or the plan gone another way: reload your inbox and see the plan's page)",
                           reason=ended(task.status))
        elif task.status not in runtime.OPEN_STATUSES:
            raise Conflict(f"任务 {task_id} 已{_STATUS_ZH.get(task.status, task.status)}，不能再次提交 (task {task_id} is {task.status})",
                           reason=ended(task.status))
        elif any(self._lost_by(ctx, task, who) for who in [actor, *(p.username for p in principals)]):
            # it was theirs (or their principal's) until someone else acted: a race lost
            now = f"现由 {task.assignee} 办理" if task.assignee else "现待候选人认领"
            now_en = f"now held by {task.assignee}" if task.assignee else "now waiting to be claimed"
            raise Conflict(f"任务 {task_id} 刚被交回或改派（{now}），请刷新后重试"
                           f" (task {task_id} was handed back or reassigned since you took it, {now_en}; reload)",
                           reason="taken")
        elif task.status == "open" and not any(self._may_claim(m, task) for m in [member, *principals]):
            raise self._not_candidate(member, task, "办理", "complete")
        elif task.status == "open":
            raise Forbidden(f"请先认领任务 {task_id} 再办理 (claim task {task_id} first)")
        else:
            raise Forbidden(f"任务 {task_id} 的办理人是 {task.assignee}，您不能提交 (task {task_id} is held by {task.assignee}: only the assignee may complete it)")
        if ctx.now < task.created_at:
            # a step completed before it existed: a date given with --now (or a fixed clock) would
            # put it on the trail, the ledger and the step times as done before it was begun
            raise Invalid(f"任务 {task_id}「{task.name}」生成于 {_beijing_minute(task.created_at)}，不能以更早的时间 "
                          f"{_beijing_minute(ctx.now)} 提交；请检查 --now 所给的日期 (task {task_id} “{task.name}” was "
                          f"created at {_beijing_minute(task.created_at)}: it cannot be completed at an earlier time, "
                          f"{_beijing_minute(ctx.now)}; check the date given with --now)")
        workflow = runtime.load(ctx, instance)
        spiff_task = workflow.get_task_from_id(UUID(task.spiff_task_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict(f"任务 {task_id} 已不在待办状态 (task {task_id} is no longer ready)", reason="stale")
        form = json.loads(task.form_json)
        # read-only values another branch set since this one reached the task are the plan's (as
        # the task's page shows them), not nothing: submitting must not write them back as empty
        current = spiff_task.data
        if forms.readonly_missing(form, current):
            plan_variables = ctx.session.connection().execute(
                select(_PLANS.c.variables_json).where(_PLANS.c.id == instance.id)).scalar()
            current = forms.with_plan_values(form, current, json.loads(plan_variables or "{}"))
        values = forms.validate(form, data, current, runtime.form_limit(ctx, spiff_task.data, spiff_task,
                                                                        plan_id=instance.id))
        stands_in_for = self._stands_in_for(member, principals, task)
        _check_unit_change(stands_in_for or member, spiff_task.data, values)
        if not files and documents.required(spiff_task.task_spec) and (missing := documents.missing_on(ctx.session, task)):
            raise missing
        return instance, member, stands_in_for, task, workflow, spiff_task, values

    def _stands_in_for(self, member: "Member", principals: list["Member"], task) -> "Member | None":
        """Whom the actor completes `task` for (委托办理): its holder, when the actor acts on a task
        their principal holds; or, when they hold it themselves by a right that is not their own
        (they claimed it as a delegate), the principal whose right it is. Else None."""
        if task.assignee != member.username:
            return next(p for p in principals if p.username == task.assignee)
        if self._may_claim(member, task):
            return None
        return next((p for p in principals if self._may_claim(p, task)), None)

    def attach(self, task_id: int, file_name: str, content: bytes, *, actor: str,
               expected_version: int | None = None, after: int | None = None) -> dict:
        """Attach a file to a task the actor holds (the draft, a report, a record), before completing
        it. The task itself is not changed: its version stays, so a complete that follows with the
        version the person loaded is not refused. `after`: the newest file the sender's page
        showed; the same file sent again since (a reload) returns the first, marked `repeated`."""
        name, media_type = documents.checked(file_name, content)
        with self.command(actor) as ctx:
            task, for_whom = self._holding(ctx, task_id, actor, expected_version, ATTACHING)
            if after is not None and (first := documents.sent_again(ctx.session, task_id, actor, name, content,
                                                                     after)) is not None:
                return {**first, "repeated": True}
            return self._attach_file(ctx, task, name, media_type, content, actor, for_whom)

    def check_holding(self, task_id: int, *, actor: str, doing: tuple[str, str, str, str]) -> None:
        """Refused (Conflict, Forbidden) as `_holding` refuses, unless `actor` holds the open task;
        nothing changed: the API asks it before saying what was wrong with a request's body."""
        with self.command(actor) as ctx:
            self._holding(ctx, task_id, actor, None, doing)

    def _holding(self, ctx: Context, task_id: int, actor: str, expected_version: int | None,
                 doing: tuple[str, str, str, str]) -> tuple:
        """For what only a step's holder does to it before submitting (attach a file, save a draft):
        the plan locked, then the task (a complete under way finishes first). Returns the task row
        and whom the actor stands in for (委托办理), or None if it is their own. `doing`: the action
        said as no longer possible and as refused, in Chinese, then in English the same two."""
        # the plan first: a file's row refers to it, and on PostgreSQL inserting it waits for
        # a complete that holds the plan (FOR KEY SHARE against FOR UPDATE)
        _, _, acting = self._lock_plan_of_task(ctx, task_id, actor)
        principals = {p.username for p in acting}
        task = self._task(ctx, task_id, expected_version)
        no_more_zh, refused_zh, no_more_en, refused_en = doing
        if task.status not in runtime.OPEN_STATUSES:
            raise Conflict(f"任务 {task_id} 已{_STATUS_ZH.get(task.status, task.status)}，不能再{no_more_zh} "
                           f"(task {task_id} is {task.status}: {no_more_en})", reason=ended(task.status))
        if task.status == "open":
            raise Forbidden(f"请先认领任务 {task_id} 再{refused_zh} (claim task {task_id} first)")
        for_whom = task.assignee if task.assignee in principals else None
        if task.assignee != actor and for_whom is None:
            raise Forbidden(f"任务 {task_id} 的办理人是 {task.assignee}，只有办理人可以{refused_zh} "
                            f"(task {task_id} is held by {task.assignee}: only the assignee may {refused_en})")
        return task, for_whom

    def save_draft(self, task_id: int, values: dict, *, actor: str, comment: str = "") -> dict:
        """暂存: keep what the holder typed into the step's form (and a comment beside it) without
        submitting it, replacing their earlier draft; the step and its version are unchanged, so
        the page's submission afterwards is not refused. Only the form's editable fields are kept
        (engine/drafts.py); the trail records the save and which fields held something."""
        with self.command(actor) as ctx:
            task, for_whom = self._holding(ctx, task_id, actor, None, DRAFTING)
            kept = drafts.cleaned(json.loads(task.form_json), values)
            draft = drafts.save(ctx.session, task, actor, kept, comment, ctx.now)
            ctx.log.record(drafts.EVENT, instance_id=task.instance_id, task_id=task.id, element_id=task.element_id,
                           name=task.name, new={"fields": sorted(k for k, v in kept.items() if v not in ("", False)),
                                                "comment": bool(draft.comment)}, **_behalf(for_whom))
            return drafts.shown(draft)

    def draft(self, task_id: int, *, actor: str) -> dict | None:
        """The actor's draft of a step still open ({"values", "comment", "saved_at"}), or None."""
        with self.db.reader() as session:
            return drafts.of(session, task_id, actor)

    @staticmethod
    def _attach_file(ctx: Context, task, name: str, media_type: str, content: bytes, actor: str,
                     for_whom: str | None = None) -> dict:
        attached = documents.add(ctx.session, task, name, media_type, content, actor, ctx.now)
        ctx.log.record(documents.EVENT, instance_id=task.instance_id, task_id=task.id, element_id=task.element_id,
                       name=task.name, new={k: attached[k] for k in ("id", "file_name", "media_type", "size", "sha256")},
                       **_behalf(for_whom))
        return attached

    def _return_to_sender(self, ctx: Context, instance, workflow: BpmnWorkflow, done, actor: str) -> list[dict]:
        """A step that this action opened again (a check sent the submission back for a missing
        reason, or the meeting will discuss again) goes back to the person who submitted it,
        claimed, instead of to the whole group. Not a task with another assignee of its own, not
        one the person may not claim, not the next item of a sequential multi-instance task. A
        step whose own assignee is the sender (the drafter's ${initiator}) is theirs already, and
        is said as returned too: else the same step reappears with nothing to say why. Each says
        `because`: the diagram's gateways and flows that sent it back (engine/sent_back.py)."""
        created = [e for e in ctx.log.pending if e[0] == "task_created" and e[1] == done.instance_id
                   and e[3]["element_id"] == done.element_id and e[3]["process"] == done.process_key]
        if not created:
            return []
        member = self._member(ctx, actor)
        reopened = []
        done_spiff = workflow.get_task_from_id(UUID(done.spiff_task_id))
        for _, instance_id, task_id, _ in created:
            row = self._task(ctx, task_id, None)
            spiff = workflow.get_task_from_id(UUID(row.spiff_task_id))
            if runtime.is_multi_instance_item(spiff):
                continue
            if row.assignee != actor or row.status != "claimed":
                if row.assignee or not self._may_claim(member, row):
                    continue
                row = self._update_task(ctx, row, assignee=actor, status="claimed", claimed_at=ctx.now)
                ctx.log.record("task_assigned", instance_id=instance_id, task_id=row.id, element_id=row.element_id,
                               old={"assignee": None}, new={"assignee": actor}, reason="returned")
            reopened.append(self._task_dict(row) | {"because": sent_back.reasons(ctx.session, instance, done_spiff, spiff)})
        return reopened

    # ----------------------------------------------------------------- timers
    def fire_due_timers(self, *, batch: int = 100, progress: Callable[[int], None] | None = None,
                        on_error: Callable[[int, ReformflowError, TimerRetry], None] | None = None,
                        on_fired: Callable[[int], None] | None = None) -> list[dict]:
        """Fire every timer due now, each plan in its own transaction: `batch` plans at a time,
        earliest due first, until none is left due (a backlog after the worker was down is
        cleared in one call; `progress(plans so far)` is told after each full batch). A plan
        locked by another worker is skipped (PostgreSQL: SKIP LOCKED) and picked up on the next
        round; neither it nor a plan that fired nothing is tried again in this call.

        A plan whose timer cannot run on (say, an expression after it fails) keeps its state;
        with `on_error` it is reported there with when this engine tries it again (a minute
        later, then twice as long each time, at most an hour: `timer_retries`), and the others
        go on; without, the error is raised at once. Otherwise the earliest-due broken plan would
        stop every round before the plans due after it. `on_fired(plan id)` is told as each plan's
        transaction commits with timers fired: a round cut short by a lost connection returns
        nothing, though the plans before it are done.

        Returns a dict a plan fired: its `instance_id`, `business_key`, `title`, `timers` (the
        element ids) and `fired`, each timer with its name, due time and how late it fired
        (`late_seconds`; `late`: more than engine/timer_lag.py's GRACE, the worker was behind)."""
        fired: dict[int, dict] = {}
        now = clock.now()
        passed = {plan for plan, retry in self.timer_retries.items() if retry.next_try > now}
        while True:
            due = self._due_plans(batch, exclude=passed)
            for instance_id in due:
                try:
                    timers = self._fire_plan(instance_id)
                except (Conflict, Busy):
                    timers = None  # someone acted on the plan at that moment: next round, not a failure
                except ReformflowError as exc:
                    if on_error is None:
                        raise
                    retry = self.timer_retries[instance_id] = TimerRetry.after(
                        self.timer_retries.get(instance_id), now)
                    on_error(instance_id, exc, retry)
                    timers = None
                else:
                    self.timer_retries.pop(instance_id, None)
                if timers:
                    plan = fired.setdefault(instance_id, {"instance_id": instance_id, **timers["plan"], "timers": [],
                                                          "fired": []})
                    plan["timers"].extend(t["timer"] for t in timers["fired"])
                    plan["fired"].extend(timers["fired"])
                    if on_fired is not None:
                        on_fired(instance_id)
                else:
                    passed.add(instance_id)
            if len(due) < batch:
                break
            if progress is not None:
                progress(len(fired))
        return list(fired.values())

    def _due_plans(self, limit: int, *, exclude: set[int]) -> list[int]:
        query = select(ProcessInstance.id).where(ProcessInstance.status == "running",
                                                 ProcessInstance.next_timer_at <= clock.now())
        if exclude:
            query = query.where(ProcessInstance.id.not_in(exclude))
        with self.db.reader() as s:
            return s.execute(query.order_by(ProcessInstance.next_timer_at, ProcessInstance.id)
                             .limit(limit)).scalars().all()

    def _fire_plan(self, instance_id: int) -> dict | None:
        """The timers fired in one plan: {"plan": its business key and title, "fired": each timer as
        engine/timer_lag.py `fired_timer` says it}; {} if it had none due after all; None if another
        worker holds the plan or got there first."""
        with self.command(SYSTEM_ACTOR, channel=channels.WORKER_CHANNEL) as ctx:
            instance = self._lock_instance(ctx, instance_id, skip_locked=True)
            if instance is None or instance.status != "running" or instance.next_timer_at is None \
                    or instance.next_timer_at > ctx.now:
                return None
            # kept in the workflow cache only if it was there: a backlog of plans nobody works on
            # now would push out those people do (and hold ~1.7 MB each)
            workflow = runtime.load(ctx, instance, cache=False)
            runtime.run(ctx, instance, workflow, lambda wf: wf.refresh_timers())
            timers = [e[3] for e in ctx.log.pending if e[0] == "timer_fired"]
            if not timers:
                return {}
            # for the log to name the plan (the command's Plan row has neither column)
            plan = ctx.session.execute(select(ProcessInstance.business_key, ProcessInstance.title)
                                       .where(ProcessInstance.id == instance_id)).one()._asdict()
            return {"plan": plan, "fired": [timer_lag.fired_timer(t, ctx.now) for t in timers]}

    def cancel_plan(self, instance_id: int, *, reason: str, actor: str) -> dict:
        """Stop a running plan for good (终止, reform office only): started by mistake, on bad
        data, twice, or overtaken by events. Its open tasks are withdrawn, its timers no longer
        fire, and it leaves the ledger's running plans; its state and trail are kept as they
        were. The reason is required and recorded."""
        reason = (reason or "").strip()
        with self.command(actor) as ctx:
            # who may before what they wrote: nobody is asked for a reason for what they may not do
            self._office_member(ctx, actor, STOPS_OFFICE_ONLY)
            if not reason:
                raise Invalid("须写明终止理由 (give the reason for stopping the plan)")
            instance = self._lock_instance(ctx, instance_id)
            if instance.status != "running":
                raise Conflict(f"方案 {instance_id} 已{_PLAN_STATUS_ZH.get(instance.status, instance.status)}，"
                               f"不能终止 (plan {instance_id} is {instance.status})", reason=ended(instance.status))
            withdrawn = runtime.cancel_plan(ctx, instance, reason)
            drafts.discard(ctx.session, [t["task_id"] for t in withdrawn])
        return {**self.instance(instance_id), "withdrawn": withdrawn}

    @contextmanager
    def _migration_reader(self, actor: str | None) -> Iterator[Context]:
        """A read for the migration previews: a Context without a lock; with `actor`, refused
        unless they are in the reform office."""
        with self.db.reader() as session:
            if actor is not None:
                _office_reader(session.connection(), actor, _MIGRATE_REFUSAL)
            yield Context(session, SYSTEM_ACTOR, clock.now(), specs=self.specs)

    def migration_preview(self, instance_id: int, *, to_version: int | None = None,
                          actor: str | None = None) -> dict:
        """What moving a running plan to a newer version of its process would do (engine/migration.py),
        nothing changed: its open steps kept or changed, the changes ahead, and why it may not move,
        if it may not. With `actor`, refused unless they are in the reform office."""
        with self._migration_reader(actor) as ctx:
            plan = runtime.read_plan(ctx, instance_id)
            if plan is None:
                raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
            _migratable(plan)
            move, _ = migration.prepare(ctx, plan, runtime.load(ctx, plan), to_version, self._latest)
            return migration.preview(ctx, move)

    def migration_candidates(self, key: str, *, from_version: int | None = None, to_version: int | None = None,
                             actor: str | None = None) -> dict:
        """Every running plan a move of process `key` to `to_version` (the latest by default) concerns,
        each with its preview (engine/migration.py), nothing changed: the plans of `key` on an older
        version (or on `from_version`), and, moving to the latest, the plans inside a called `key`
        bound to an older version (these keep their own version: `to_version` of their preview is
        it). A plan that may not move carries its reasons. The caller moves each with
        migrate_plan, one transaction per plan. With `actor`, refused unless in the reform office."""
        with self._migration_reader(actor) as ctx:
            session = ctx.session
            latest = self._latest(session, key)
            if latest is None:
                raise NotFound(f"没有流程 {key}，见 `reformflow definitions` (no process {key})")
            target = latest if to_version is None else session.execute(select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version == to_version)).scalar_one_or_none()
            if target is None:
                raise NotFound(f"流程 {key} 没有第 {to_version} 版，见 `reformflow definitions` "
                               f"(process {key} has no version {to_version})")
            plans = []
            found = migration.candidates(session, key, target, from_version, latest)
            lines = migration.plan_lines(session, [plan_id for plan_id, _ in found])
            definitions = migration.Definitions(self._latest, target)  # looked up once for every preview
            definitions.remember_latest(latest)
            for plan_id, called in found:
                plan = runtime.read_plan(ctx, plan_id)
                # a plan inside the called `key` keeps its own version
                version = session.get(ProcessDefinition, plan.definition_id).version if called else target.version
                try:
                    move, _ = migration.prepare(ctx, plan, runtime.load(ctx, plan), version, definitions)
                    preview = migration.preview(ctx, move)
                except ReformflowError as exc:
                    preview = {"instance_id": plan_id, "allowed": False, "refusals": [exc.message],
                               "expected_version": plan.version}
                plans.append({**lines[plan_id], "via_called": called, "preview": preview})
            return {"key": key, "to_version": target.version, "from_version": from_version, "plans": plans}

    def migrate_plan(self, instance_id: int, *, actor: str, reason: str, to_version: int | None = None,
                     expected_version: int | None = None, expected_called: dict[str, int] | None = None) -> dict:
        """Move a running plan to a newer version of its process (迁移到新版本, reform office only):
        its open steps stay with their holders, what it has not reached follows the new version,
        its history is untouched. Refused whole, naming each step in the way, or done whole; the
        reason is required and recorded. `expected_version`: the plan row's version the preview
        showed (a plan acted on since is a conflict); `expected_called`: the called versions it
        showed (`called_versions`: a called process deployed since is a conflict too)."""
        reason = (reason or "").strip()
        with self.command(actor) as ctx:
            self._office_member(ctx, actor, _MIGRATE_REFUSAL)  # who may, before what they wrote (as cancel_plan)
            if not reason:
                raise Invalid("须写明迁移理由 (give the reason for moving the plan)")
            instance = self._lock_instance(ctx, instance_id)
            _migratable(instance)
            if expected_version is not None and instance.version != expected_version:
                raise Conflict(f"方案 {instance_id} 在您预览之后已有办理或变动，未做任何更改，请刷新后重新预览 "
                               f"(plan {instance_id} changed since you previewed the move: nothing was changed; reload and preview again)")
            moved = migration.migrate(ctx, instance, to_version, reason, self._latest, expected_called)
        return {**self.instance(instance_id), "migration": moved}

    def anchor(self, *, actor: str, database: str) -> dict:
        """Record an anchor of the chain's tip (audit.anchor): by an auditor or the reform office;
        anyone else is refused (QA auditor finding 12). No operator's default: who anchored is said
        (`audit anchor --as`, as from cron: --as the auditor). Returns the anchor document."""
        with self.command(actor) as ctx:
            _anchorer(self._member(ctx, actor))
            return audit.anchor(ctx.session, actor, ctx.now, database, ctx.channel)

    def may_anchor(self, actor: str) -> None:
        """Refused (Forbidden) unless `actor` may anchor: asked before the whole chain is verified,
        which takes a minute on a trail of years, so that nobody waits for it to be refused."""
        with self.db.reader() as session:
            member = _active_member(session.connection(), actor)
        if member is None:
            raise unknown_user(actor)
        _anchorer(member)

    def comment(self, instance_id: int, text: str, *, actor: str, task_id: int | None = None,
                after: int | None = None) -> dict:
        """A comment on a plan (批注/留言), optionally about one of its tasks: a question to the
        drafter, a note for the next reviewer, without completing a step. Whoever may see the
        plan (engine/visibility.py) may comment while it runs; on a plan that has ended or was
        stopped only the reform office may (a note for the record), the others are told to ask
        it. Comments are never changed or deleted: a correction is a new comment. `after`: the
        newest comment the sender's page showed; the same text sent again since (a reload, a
        double click) returns the first, marked `repeated`, and adds nothing."""
        text = comments.checked_text(text)
        with self.command(actor) as ctx:
            member = self._member(ctx, actor, hold=True)  # acts as them: a deactivation is waited for
            if only_audits(member):  # the auditor's role is read-only (QA auditor finding 12)
                raise Forbidden(AUDITOR_READS_ONLY)
            principals = self._acting_for(ctx)
            instance = self._lock_instance(ctx, instance_id)  # its status holds until the commit
            # about a task held by someone they act for: said for them, and seen as they see it
            held = ctx.session.get(HumanTask, task_id) if task_id is not None and is_row_id(task_id) else None
            for_whom = next((p for p in principals if held is not None and held.status == "claimed"
                             and held.assignee == p.username), None)
            if not may_see_plan(ctx.session, member, instance_id) and not (
                    for_whom is not None and may_see_plan(ctx.session, for_whom, instance_id)):
                raise Forbidden(f"您无权查看方案 {instance_id}，不能留言 (you may not see plan {instance_id}, "
                                f"so you may not comment on it)")
            if not comments.open_to(instance.status, ADMIN_GROUP in member.group_codes):
                raise Conflict(f"方案 {instance_id} 已{_PLAN_STATUS_ZH[instance.status]}，不能再留言；"
                               f"如需补充说明，请联系改革办 (plan {instance_id} is {instance.status}: ask the reform office "
                               f"to add a note)", reason=ended(instance.status))
            task = None
            if task_id is not None:
                task = held
                if task is None or task.instance_id != instance_id:
                    raise NotFound(f"方案 {instance_id} 没有任务 {task_id} (plan {instance_id} has no task {task_id})")
            if after is not None and (first := comments.sent_again(ctx.session, instance_id, task_id, actor, text,
                                                                    after)) is not None:
                return {**first, "repeated": True}
            return self._add_comment(ctx, member, instance_id, task, text, for_whom and for_whom.username)

    @staticmethod
    def _add_comment(ctx: Context, member: "Member", instance_id: int, task, text: str,
                     for_whom: str | None = None) -> dict:
        added = comments.add(ctx.session, instance_id, task, text, member.username, member.unit, ctx.now)
        ctx.log.record(comments.EVENT, instance_id=instance_id, task_id=added["task_id"],
                       element_id=task.element_id if task is not None else None,
                       name=task.name if task is not None else None,
                       new={"id": added["id"], "text": text}, unit=member.unit, **_behalf(for_whom))
        return {**added, "author_name": member.display_name, **_behalf(for_whom)}

    # ----------------------------------------------------------------- reads
    def instance(self, instance_id: int) -> dict:
        with self.db.read_connection() as conn:
            return instance_view(conn, instance_id, self.definition_versions)

    def documents(self, instance_id: int) -> list[dict]:
        """A plan's attached files, oldest first, without their content."""
        with self.db.reader() as session:
            if session.get(ProcessInstance, instance_id) is None:
                raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
            return documents.listed(session, instance_id)

    def comments(self, instance_id: int) -> list[dict]:
        """A plan's comments, oldest first, with who wrote each (name and unit) and when."""
        with self.db.reader() as session:
            if session.get(ProcessInstance, instance_id) is None:
                raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
            return comments.listed(session, instance_id)

    def newest_comments(self, instance_id: int, shown: int) -> dict:
        """A plan's newest `shown` comments, oldest first, and how many it has (`total`)."""
        with self.db.reader() as session:
            if session.get(ProcessInstance, instance_id) is None:
                raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
            return comments.newest(session, instance_id, shown)

    def document(self, document_id: int) -> tuple[dict, bytes]:
        """One attached file and its content, checked against the SHA-256 its upload recorded."""
        with self.db.reader() as session:
            return documents.read(session, document_id)

    def ledger(self, **filters) -> list[dict]:
        """The ledger of plans with their three-colour warnings (engine/ledger.py), as of now."""
        from .ledger import ledger
        with self.db.read_connection() as conn:
            return ledger(conn, clock.now(), **filters)

    def ledger_line(self, instance_id: int) -> dict | None:
        """One plan's row of the ledger (engine/ledger.py `plan_line`), as of now; None: no such plan."""
        from .ledger import plan_line
        with self.db.read_connection() as conn:
            return plan_line(conn, clock.now(), instance_id)

    def ledger_years(self) -> list[int]:
        """The years the ledger can be asked for (engine/ledger.py `years`), newest first."""
        from .ledger import years
        with self.db.read_connection() as conn:
            return years(conn, clock.today())

    def bulletin(self, quarter: str | None = None, **filters) -> dict:
        """The reform office's quarterly bulletin (engine/bulletin.py) for `quarter` (2026Q4,
        2026年第四季度), by default the latest quarter that has ended, as of now."""
        from .bulletin import bulletin, last_ended, parse_quarter
        now = clock.now()
        which = parse_quarter(quarter) if quarter is not None else last_ended(now.astimezone(clock.TZ).date())
        with self.db.read_connection() as conn:
            return bulletin(conn, now, which, **filters)

    def supervision(self, **filters) -> dict:
        """The reform office's supervision and rectification ledger (engine/supervision.py), as of now."""
        from .supervision import supervision
        with self.db.read_connection() as conn:
            return supervision(conn, clock.now(), **filters)

    def step_times(self, actor: str, since: date | str | None = None, until: date | str | None = None,
                   process: str | None = None) -> dict:
        """How long each step takes (engine/step_times.py, 办理时效统计), for the reform office only:
        the steps completed from `since` to `until` (Beijing dates, both included; by default this
        calendar year) and those open now, of one process key or all. Read-only."""
        from .step_times import period, step_times
        now = clock.now()
        since, until = period(now.astimezone(clock.TZ).date(), since, until)
        with self.db.read_connection() as conn:
            _office_reader(conn, actor, "只有改革办可以查看办理时效统计 (only the reform office sees how long steps take)")
            return step_times(conn, now, runtime.calendar_of(conn), since, until, process)

    def overview(self, actor: str) -> dict:
        """工作台 (engine/overview.py), for the reform office only: this year's ledger in colours, the
        open steps overdue and due soon, the units most behind, filings, what the office may
        claim and the rectifications open, as of now. Read-only."""
        from .overview import overview
        now = clock.now()
        with self.db.reader() as session:
            _office_reader(session.connection(), actor, "只有改革办可以查看工作台 (only the reform office sees the overview)")
            return overview(session, now, actor)

    def task_view(self, task_id: int) -> dict:
        """A task's page (queries.task_view), its values and bounds from the task's own data in
        the plan's workflow, bounds evaluated by the safe evaluator as on submit."""
        with self.db.reader() as session:
            # no workflow cache: taking a plan's workflow from it would evict it for the next action
            ctx = Context(session, SYSTEM_ACTOR, clock.now(), specs=self.specs)

            specs = []

            def task_data(task) -> dict | None:
                plan = runtime.read_plan(ctx, task.instance_id)
                if plan is None:
                    return None
                spiff_task = runtime.load(ctx, plan).get_task_from_id(UUID(task.spiff_task_id))
                if spiff_task is None:
                    return None
                specs.append(spiff_task.task_spec)
                return spiff_task.data
            view = task_view(session, task_id, runtime.form_limit(ctx, {}), task_data)
            view["documents"] = documents.listed(session, view["instance_id"], task_id)
            view["attachments_required"] = bool(specs) and documents.required(specs[0])
            view["files_of"] = documents.files_of(specs[0]) if specs else []  # the steps whose files it reviews
            if view["status"] == "completed":  # by a delegate: for whom (委托办理), as the trail says
                payload = session.execute(select(AuditEvent.payload).where(
                    AuditEvent.task_id == task_id, AuditEvent.event_type == "task_completed")).scalar()
                view["completed_on_behalf_of"] = json.loads(payload).get("on_behalf_of") if payload else None
            return view

    def plan_diagram(self, instance_id: int, *, standalone: bool = False) -> list[dict]:
        """流程图 (engine/plan_diagram.py): the plan's process, then each called process it entered,
        each with name, key, version, `svg` (or the `problem` that keeps it from being drawn),
        each element's state and the steps listed. `standalone`: each SVG carries its colours,
        for a file (a page has them in its style sheet). Read-only, no lock, no workflow cache."""
        from .plan_diagram import plan_diagrams
        with self.db.reader() as session:
            return plan_diagrams(Context(session, SYSTEM_ACTOR, clock.now(), specs=self.specs), instance_id,
                                 standalone=standalone)

    def definition_diagram(self, key: str, version: int) -> dict:
        """A deployed version's 流程图 with no plan's states: as plan_diagram gives one process."""
        from .plan_diagram import definition_diagram
        with self.db.reader() as session:
            return definition_diagram(session, key, version)

    @staticmethod
    def _task_dict(task) -> dict:
        return task_dict(task)


def _stale(task_id: int) -> Conflict:
    """The refusal of an action on a task that changed since the person's page showed it."""
    return Conflict(f"任务 {task_id} 已在别处处理或修改（其他人，或您在另一个页面），请刷新后重试。 "
                    f"(task {task_id} changed since you loaded it, by someone else or in another page: "
                    "reload and try again)", reason="stale")


def _submitted_before(ctx: Context, task, data: dict, files: list, comment: str | None) -> Conflict:
    """The refusal of a step its sender already submitted. The same values again (a second click, a
    page sent again) went in the first time: nothing more to do (`already_yours`). Other values (a
    second tab, the command line racing the web) were not kept, and are said so, by the form's
    labels (`already_yours_differs`): compared as `forms.validate` writes them with the values the
    completion's `task_completed` event recorded; a comment or a file the completion did not keep
    differs too."""
    session = ctx.session
    payload = session.execute(select(AuditEvent.payload).where(
        AuditEvent.task_id == task.id, AuditEvent.event_type == "task_completed")
        .order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    recorded = (json.loads(payload).get("new") or {}) if payload else {}
    # each as (detail for a program, the Chinese name, the English one)
    differs = [({"field": f["id"], "label": f["label"] or f["id"]}, f"「{f['label'] or f['id']}」", f"“{f['label'] or f['id']}”")
               for f in forms.differing(json.loads(task.form_json), data, recorded)]
    if comment is not None and comment not in session.execute(select(Comment.text).where(
            Comment.task_id == task.id, Comment.author == ctx.actor)).scalars().all():
        differs.append(({"field": "comment"}, "留言", "the comment"))
    kept = set(session.execute(select(Document.file_name, Document.sha256).where(Document.task_id == task.id)).all())
    differs += [({"field": "files", "file_name": name}, f"附件「{name}」", f"the file “{name}”")
                for name, _media, content in files if (name, hashlib.sha256(content).hexdigest()) not in kept]
    at, at_zh = _beijing_minute(task.completed_at), _beijing_minute(task.completed_at, chinese=True)
    if not differs:
        return Conflict(f"您已于 {at_zh} 提交「{task.name}」（任务 {task.id}），无需再次提交 "
                        f"(you already submitted “{task.name}” (task {task.id}) at {at}: nothing more to do)",
                        reason="already_yours")
    return Conflict(f"您已于 {at_zh} 提交「{task.name}」（任务 {task.id}）；这次提交的{'、'.join(zh for _, zh, _en in differs)}"
                    f"与当时提交的不同，没有保存。当时提交的内容请在方案页查看 "
                    f"(you already submitted “{task.name}” (task {task.id}) at {at}; what you sent now differs in "
                    f"{', '.join(en for *_, en in differs)} and was NOT saved: see the plan's page for what was submitted)",
                    reason="already_yours_differs",
                    details=[detail | {"code": "differs", "message": f"{zh}与当时提交的不同，没有保存 ({en} differs from what was "
                                                                      "submitted: not saved)"} for detail, zh, en in differs])


def _beijing_minute(moment, chinese: bool = False) -> str:
    """An instant as a person reads it in a message: Beijing time, to the minute (2026-12-06 09:51;
    `chinese`: 2026年12月6日 09:51, as the Chinese pages write their dates)."""
    from .display import minute
    return minute(iso(moment), chinese) if moment is not None else ""


def _behalf(principal: str | None) -> dict:
    """`on_behalf_of` for an event or a result when the actor stands in for someone, else nothing."""
    return {"on_behalf_of": principal} if principal else {}


def _duplicate(exc: IntegrityError) -> bool:
    """A unique key violated (PostgreSQL 23505, SQLite "UNIQUE constraint failed")."""
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def _contended(exc: OperationalError) -> bool:
    """A deadlock, a serialization failure or a lock still held by another transaction after
    lock_timeout (PostgreSQL 55P03), or a database still locked by another writer after the busy
    timeout (SQLite; both models.db.LOCK_WAIT_SECONDS): nothing was written, the user may simply
    retry."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001", "55P03") or "database is locked" in str(exc.orig)


_SERVER_GONE = ("57P01", "57P02", "57P03", "53300")  # shut down, crashed, starting up, too many connections


def unreachable(exc: BaseException) -> str | None:
    """The reason, one line, when `exc` says the database server cannot be reached or will not
    let this role in (down, unknown host, refused, role or password refused, a connection lost
    mid-request, SQLite's file missing or unopenable); None for anything else, which is a refusal
    or a bug. The web answers the first with 503 (web/health.py), the command line with advice
    about the URL and the server instead of `reformflow init`."""
    from sqlalchemy.exc import DBAPIError
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    if exc.connection_invalidated:
        return reason
    if type(orig).__module__.startswith("sqlite3"):
        opened = ("unable to open database file", "disk I/O error", "no database file")
        return reason if isinstance(exc, OperationalError) and any(o in reason for o in opened) else None
    code = getattr(orig, "sqlstate", None)
    # psycopg: what the server says inside a session has its SQLSTATE; a connection that failed
    # or broke (libpq's own message) has none
    if isinstance(exc, OperationalError) and (code is None or code.startswith("08") or code in _SERVER_GONE):
        return reason
    return None


# in a username: what would split it where people type it (a space; a comma in the reporting
# bodies' lines, where a leading @ names a group). A slash stays allowed: an OA system's
# "dept/name" sign-in names have their pages (tests/test_web_people.py).
_USERNAME_REFUSED = re.compile(r"[\s,，]|^@")


def _check_username(username: str) -> None:
    if found := _USERNAME_REFUSED.search(username):
        shown = found.group(0) if found.group(0).strip() else "空格"
        raise Invalid(f"用户名不能含有空格或逗号，也不能以 @ 开头（含有「{shown}」），请用字母、数字、点、下划线、连字符或斜杠 "
                      f"(a username may not hold a space or comma, nor begin with @: use letters, digits, dots, "
                      f"underscores, hyphens or slashes)")


def _check_name(what: str, what_en: str, value: str, column) -> None:
    """A name someone types for a user or group: not blank, no spaces around it (nobody could
    type it back after --as), no control or invisible character, and it fits its column (SQLite would keep a longer one,
    PostgreSQL would fail on it)."""
    if not value or value != value.strip():
        raise Invalid(f"{what}不能为空，首尾也不能有空格 ({what_en} must not be empty or begin or end with a space)")
    # a line break splits the users list's lines, an escape sequence runs in a terminal, a
    # right-to-left mark reverses what follows: as in file names (documents.checked_name)
    if (hidden := documents.first_hidden(value)) is not None:
        raise Invalid(f"{what}含有控制字符或不可见字符（U+{ord(hidden):04X}，如换行、从右至左覆盖符、零宽字符），请重新输入 "
                      f"({what_en} has a control or invisible character, U+{ord(hidden):04X}: type it again)")
    if len(value) > column.type.length:
        raise Invalid(f"{what}最多 {column.type.length} 个字符，现有 {len(value)} 个 "
                      f"({what_en} longer than {column.type.length} characters)")


def _candidates(task) -> tuple[list[str], list[str]]:
    groups, users = json.loads(task.candidate_groups), json.loads(task.candidate_users)
    return (groups, users) if groups or users else ([ADMIN_GROUP], [])  # no candidates: the reform office


def _candidates_zh(task) -> str:
    """Whom a task may be assigned to, for the refusal: the office can pick one of them."""
    groups, users = _candidates(task)
    return "、".join([f"角色 {g} 的成员" for g in groups] + [f"用户 {u}" for u in users])


def _candidates_en(task) -> str:
    groups, users = _candidates(task)
    return " or ".join([f"a member of {g}" for g in groups] + [f"the user {u}" for u in users])


_MIGRATE_REFUSAL = "只有改革办可以将方案迁移到新版本 (only the reform office moves a plan to a new version)"


def _migratable(plan) -> None:
    if plan.status != "running":
        raise Conflict(f"方案 {plan.id} 已{_PLAN_STATUS_ZH.get(plan.status, plan.status)}，不能迁移到新版本 "
                       f"(plan {plan.id} is {plan.status}: only a running plan moves)")


@dataclass(frozen=True)
class StartDataNames:
    """What the process says of the names start data may give (derived from its specs alone)."""
    fields: dict            # every form field of the process and the processes it calls, by id
    set_by_scripts: frozenset
    per_instance: frozenset  # multi-instance element variables
    later_steps: dict       # a field only a later step's handler enters -> that step's name


def _start_data_names(spec, subprocess_specs: dict, initiator_variable: str | None) -> StartDataNames:
    """StartDataNames of `spec` with these called and embedded specs, worked out once per set of
    specs (the engine keeps them while their versions are deployed) rather than at every start:
    it compiles every script and assignee of the process."""
    key = (initiator_variable, *sorted((name, id(sub)) for name, sub in subprocess_specs.items()))
    known = spec.__dict__.setdefault("_reformflow_start_data_names", {})
    if key not in known:  # the value keeps the specs it was made from, so no id is reused meanwhile
        known[key] = (_work_out_start_data_names(spec, subprocess_specs, initiator_variable),
                      tuple(subprocess_specs.values()))
    return known[key][0]


def _work_out_start_data_names(spec, subprocess_specs: dict, initiator_variable: str | None) -> StartDataNames:
    from .expressions import compile_script
    from .scripting import FUNCTION_NAMES
    fields, set_by_scripts, per_instance, starters, others = {}, set(), set(), set(), {}
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            if isinstance(getattr(task_spec, "script", None), str):
                set_by_scripts.update(compile_script(task_spec.script, FUNCTION_NAMES).assigned)
            if getattr(task_spec, "input_item", None) is not None:
                per_instance.add(task_spec.input_item.bpmn_id)
            form = forms.describe(getattr(task_spec, "form", None))
            for field in form:
                fields.setdefault(field["id"], field)
            editable = [f["id"] for f in form if "readonly" not in f["constraints"]]
            if editable and _starters_step(task_spec, initiator_variable):
                starters.update(editable)
            else:
                for fid in editable:
                    others.setdefault(fid, task_spec.bpmn_name or task_spec.bpmn_id)
    return StartDataNames(fields, frozenset(set_by_scripts), frozenset(per_instance),
                          {name: step for name, step in others.items() if name not in starters})


def _check_not_the_starters(data: dict, initiator_variable: str | None) -> None:
    """Who starts a plan, and its business key, are the command's own: start data naming them
    was overwritten without a word (an OA client sending `initiator` believed it had started the
    plan for someone else)."""
    named = sorted(set(data) & {"initiator", "businessKey", *([initiator_variable] if initiator_variable else [])})
    if named:
        raise Invalid(f"{'、'.join(named)} 由系统设定（发起人即发起操作的用户，业务编号用 --business-key / business_key 给出），"
                      f"启动数据中不能指定 ({', '.join(named)}: set by the system, the starter being whoever starts "
                      "the plan and the business key given on its own; start data cannot give it)")


def _check_not_engine_set(data: dict, names: StartDataNames) -> None:
    """Start data may not name what the process itself sets: what a script task sets
    (reform_plan's `rejectedOn`, which the ledger reads as the day a plan was dropped: the
    diagram decides it, not the starter); a multi-instance activity's element variable, which
    the engine gives each instance (given at start, the plan stopped at the activity); or a field
    of a later step that is not the starter's own (assignee `${initiator}`): the office's new
    filing deadline or a committee's decision is for them to enter (given at start, an overdue
    filing showed green, an approved plan ended as rejected by a meeting that never sat)."""
    if named := sorted(set(data) & names.set_by_scripts):
        raise Invalid(f"{'、'.join(named)} 由流程中的脚本设定，启动时不能指定 (set by a script of the process; "
                      "start data cannot give it)")
    if named := sorted(set(data) & names.per_instance):
        raise Invalid(f"{'、'.join(named)} 是多实例活动给每个实例的变量，启动时不能指定 (the variable a "
                      "multi-instance activity gives each instance; start data cannot give it)")
    if named := sorted(set(data) & names.later_steps.keys()):
        steps = "、".join(f"{name}（「{names.later_steps[name]}」）" for name in named)
        raise Invalid(f"{steps} 由后面环节的办理人填写，启动时不能指定 ({', '.join(named)}: entered at a later step "
                      "by whoever does it; start data cannot give it)")


def _starters_step(task_spec, initiator_variable: str | None) -> bool:
    """Whether a user task is done by whoever started the plan: its assignee reads `initiator`
    (or the process's camunda:initiator variable), as `${initiator}` or
    `${empty leadUser ? initiator : leadUser}` do."""
    from .expressions import compile_expression, is_wrapped
    from .scripting import FUNCTION_NAMES
    assignee = ((getattr(task_spec, "extensions", None) or {}).get("camunda:assignee") or "").strip()
    if not is_wrapped(assignee):
        return False
    names = compile_expression(assignee, FUNCTION_NAMES).names
    return "initiator" in names or (initiator_variable is not None and initiator_variable in names)


def _caller_of(session, key: str) -> str | None:
    """The name of a deployed process (latest version) that calls `key`, if any."""
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.name, ProcessDefinition.called_keys)
                           .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
    return next(iter(callers(rows).get(key, [])), None)


_log = logging.getLogger(__name__)
_CHECK_CACHE: dict = {}
_PARSE_CACHE: dict = {}


def _remembered(cache: dict, key, limit: int, make):
    """cache[key], made once; the cache emptied when it holds more than `limit`. Read once: another
    thread's deploy may empty it meanwhile."""
    value = cache.get(key)
    if value is None:
        value = make()
        if len(cache) > limit:
            cache.clear()
        cache[key] = value
    return value


def _parsed(files: list[tuple[str, bytes]]) -> list[tuple[ParsedProcess, str]]:
    """parse_files, each process with its spec's JSON, remembered by content like the checks:
    parsing the library takes about a tenth of a second, and a running server deploying the same
    bytes again (a re-deploy that changes nothing, a second try after a conflict) parsed them
    again. Kept without the spec objects (their JSON is what deploy writes); deploy only reads
    what is kept."""
    key = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files)
    return _remembered(_PARSE_CACHE, key, 16, lambda: [
        (replace(p, spec=None, embedded={}), spec_to_json(p.spec, p.embedded)) for p in parse_files(files)])


def directory_of(session) -> tuple[dict[str, str], dict[str, str]]:
    """(group codes, active usernames), each with its display name: who a diagram may name, and
    the names `check` recognises when a diagram writes one for its code."""
    return (dict(session.execute(select(Group.code, Group.display_name)).all()),
            dict(session.execute(select(User.username, User.display_name).where(User.active.is_(True))).all()))


def latest_diagrams(session) -> dict[str, tuple[str, str]]:
    """key -> (sha256, BPMN XML) of the latest version of every deployed process."""
    latest = select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version")) \
        .group_by(ProcessDefinition.key).subquery()
    rows = session.execute(select(ProcessDefinition.key, ProcessDefinition.sha256, ProcessDefinition.bpmn_xml)
                           .join(latest, (ProcessDefinition.key == latest.c.key)
                                 & (ProcessDefinition.version == latest.c.version))).all()
    return {r.key: (r.sha256, r.bpmn_xml) for r in rows}


def _checked(files: list[tuple[str, bytes]], deployed: dict[str, tuple[str, str]]):
    """check_files, remembered by content: the Modeler lint starts Node.js (about a second),
    and the same library is often deployed again unchanged."""
    key = (tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files),
           frozenset((k, sha) for k, (sha, _) in deployed.items()), modeler.toolchain_status())
    return _remembered(_CHECK_CACHE, key, 64, lambda: check_files(
        files, deployed_keys=set(deployed), deployed_xml=[xml for _, xml in deployed.values()]))


_TASKS, _PLANS, _USERS = HumanTask.__table__, ProcessInstance.__table__, User.__table__
_GROUPS = Group.__table__
# Prebuilt Core statements for the commands people use all day (claim, complete): the ORM's
# per-statement and per-object work cost more than the SQL itself.
TITLE_MAX, BUSINESS_KEY_MAX = 200, 100  # characters: what a list can show (the columns hold more)


def business_key_form(business_key: str | None) -> str | None:
    """A business key as it is kept and looked up: Unicode's composed form (NFC), so that `é`
    typed as one character or as `e` and an accent is one key, not two plans with keys that
    look the same."""
    return unicodedata.normalize("NFC", business_key) if isinstance(business_key, str) else business_key


def is_row_id(number: int) -> bool:
    """Whether a column could hold `number` as an id: one past it (2**31 in an API's body) is no
    row, and PostgreSQL refuses to compare with it (a 500) where SQLite finds nothing."""
    return -INTEGER_MAX - 1 <= number <= INTEGER_MAX


def _check_plan_names(title: str, business_key: str | None) -> None:
    """A plan's name and business key within what every list shows: a 5,000-character title was
    taken and squeezed every other column of the inbox to one character a line (and PostgreSQL's
    column would have refused it with a database error)."""
    if not str(title).strip():
        raise Invalid("方案名称不能为空 (the plan needs a title)")
    forms.refuse_nul([title, business_key], ("方案名称或业务编号", "the title or business key"))
    # a right-to-left override or a zero-width character shows a name as what it is not
    for text in (str(title), business_key or ""):
        if (char := documents.first_hidden(text)) is None:
            continue
        raise Invalid(f"方案名称或业务编号含有控制字符或不可见字符（U+{ord(char):04X}，如从右至左覆盖符、零宽字符），"
                      f"请删去后重新输入 (the title or business key has a control or invisible character, "
                      f"U+{ord(char):04X}: remove it and try again)")
    if len(str(title)) > TITLE_MAX:
        raise Invalid(f"方案名称最多 {TITLE_MAX} 个字，现有 {len(str(title))} 个 "
                      f"(a title has at most {TITLE_MAX} characters; this one has {len(str(title))})")
    if business_key is not None and len(business_key) > BUSINESS_KEY_MAX:
        raise Invalid(f"业务编号最多 {BUSINESS_KEY_MAX} 个字符 (a business key has at most {BUSINESS_KEY_MAX} characters)")


STARTER_UNIT = runtime.STARTER_UNIT


def _starter_unit(user: Member, process_name: str, config: dict, data: dict) -> dict:
    """A process whose property `starterUnit` names a start variable (leadUnit) is started by a
    member of the unit it names, or by the reform office for any unit: a drafter cannot open an
    adjustment, with its steps for that unit and its line on the ledger, in another unit's name.
    Left empty by a starter outside the reform office, the unit is theirs: it could be no other,
    and left empty the plan's first step was open to every drafter in the city, who then saw the
    plan and its files. Returns the start data, with that unit filled in."""
    variable = config.get("properties", {}).get(STARTER_UNIT)
    if not variable:
        return data
    unit = str(data.get(variable) or "").strip()
    if unit:
        if not _may_name_unit(user, unit):
            own = user.unit or "未设单位 no unit"
            raise Forbidden(f"您只能为本单位（{own}）发起「{process_name}」，{'启动表单' if config.get('start_form') else '启动数据'}的 {variable} 填的是「{unit}」，"
                            f"请由该单位的人员发起 (you may start this process only for your own unit, “{own}”; "
                            f"{variable} names “{unit}”: a member of that unit starts it)")
        return data
    if ADMIN_GROUP in user.group_codes:
        return data  # the office's plan asks for the unit at its first step (reform_plan has no start form)
    if not user.unit:
        # the plan would be no unit's: its first step open to every drafter in the city
        raise Forbidden(f"您未设所属单位，不能发起「{process_name}」：请改革办在用户管理中为您设置单位，或由改革办代为发起 "
                        f"(you belong to no unit, so you cannot start “{process_name}”: ask the reform office to set "
                        "your unit on the users page, or to start it for your unit)")
    return {**data, variable: user.unit}


def _key_used(business_key: str) -> str:
    return (f"业务编号 {business_key} 已被使用：请换一个编号，或留空；已有的方案可在方案列表中按此编号查找 "
            f"(the business key “{business_key}” is in use already: choose another, or leave it empty; search the "
            "plans list for it to see the plan that has it)")


def _may_name_unit(user: Member, unit: str, *, keeping: str | None = None) -> bool:
    """The starterUnit rule of both checks: the reform office names any unit; anyone else their
    own, or keeps the one the plan has."""
    return ADMIN_GROUP in user.group_codes or unit in ((user.unit or ""), keeping)


def _check_unit_change(user: Member, data: dict, values: dict) -> None:
    """The unit named by `starterUnit`, when a step's form sets it (reform_plan's 确认方案任务信息),
    is changed by the reform office to any unit, by anyone else only to their own: a drafter
    cannot hand a plan, its later drafting steps and its line on the ledger, to another unit.
    `data`: the plan's variables, where the process's properties are (read-only) variables too."""
    variable = data.get(STARTER_UNIT)
    if not isinstance(variable, str) or variable not in values:
        return
    unit, was = str(values[variable] or "").strip(), str(data.get(variable) or "").strip()
    if _may_name_unit(user, unit, keeping=was):
        return
    own = user.unit or "未设单位"
    raise Forbidden(f"牵头单位（{variable}）只能填本单位（{own}）；改为「{unit}」请由改革办办理，或由该单位的人员发起方案 "
                    f"(the lead unit, {variable}, may name only your own unit, “{user.unit or 'none'}”: the reform "
                    f"office sets it to “{unit}”, or a member of that unit starts the plan)")


OFFICE_ONLY = "officeOnly"


def _check_office_only(user: Member, config: dict, data: dict) -> None:
    """A start form field with the property `officeOnly` (implementation's leadUser: who acts for
    the lead unit) is the reform office's to fill when it starts a plan on a unit's behalf; anyone
    else leaves it empty or names themselves. A drafter naming someone put that person's name on
    every step of the plan, whatever their unit or role."""
    if ADMIN_GROUP in user.group_codes:
        return
    for field in config.get("start_form") or []:
        value = data.get(field["id"])
        if (field["properties"].get(OFFICE_ONLY) or "").strip().lower() == "true" and value not in (None, "", user.username):
            raise Forbidden(f"「{field['label'] or field['id']}」只能由改革办代为发起时填写；您发起时请留空（即由您本人办理）"
                            f" ({field['id']} is filled by the reform office only, when it starts a plan on a unit's "
                            f"behalf: leave it empty, and the steps are yours)")


_MEMBER = (select(_USERS.c.display_name, _USERS.c.active, _GROUPS.c.code, Unit.__table__.c.name.label("unit"))
           .select_from(_USERS)
           .outerjoin(Unit.__table__, Unit.__table__.c.id == _USERS.c.unit_id)
           .outerjoin(memberships, memberships.c.user_id == _USERS.c.id)
           .outerjoin(_GROUPS, _GROUPS.c.id == memberships.c.group_id)
           .where(_USERS.c.username == bindparam("username")).order_by(_GROUPS.c.code))
# The same, the user's row share-locked (FOR SHARE OF users: PostgreSQL; SQLite's BEGIN
# IMMEDIATE has already serialised writers): see Engine._member's `hold`.
_MEMBER_HELD = _MEMBER.with_for_update(read=True, of=_USERS)
_MEMBER_LOCKED = _MEMBER.with_for_update(of=_USERS)
_LOCK_USER = select(_USERS.c.id).where(_USERS.c.username == bindparam("username")).with_for_update()


def _anchorer(member: Member) -> None:
    if not sees_everything(member):
        raise Forbidden("只有审计人员和改革办可以记录审计锚点；请以审计人员的用户名 --as 办理 "
                        "(only auditors and the reform office anchor the trail: --as an auditor's username)")


def _office_reader(conn, actor: str, refusal: str) -> Member:
    """The actor of a read only the reform office may make (step times, the overview), as
    `Engine._office_member` is for its commands; else unknown_user, or Forbidden saying `refusal`."""
    member = _active_member(conn, actor)
    if member is None:
        raise unknown_user(actor)
    if ADMIN_GROUP not in member.group_codes:
        raise Forbidden(refusal)
    return member


def _active_member(conn, username: str, statement=_MEMBER) -> Member | None:
    """`username` as the permission checks see them (one prebuilt SELECT), or None if no active
    user has that name."""
    rows = conn.execute(statement, {"username": username}).all()
    if not rows or not rows[0].active:
        return None
    return Member(username, rows[0].display_name, [r.code for r in rows if r.code is not None],
                  (rows[0].unit or "").strip() or None)


_TASK_UPDATES: dict[tuple, object] = {}  # columns -> UPDATE human_tasks ... (see _update_task)
_RECOUNT_ROWS = select(_TASKS.c.id, _TASKS.c.spiff_task_id, _TASKS.c.element_id, _TASKS.c.created_at,
                       _TASKS.c.due_at, _TASKS.c.due_basis).where(
    _TASKS.c.instance_id == bindparam("plan_id"), runtime.is_open(_TASKS.c.status),
    _TASKS.c.created_at < bindparam("day_ends")).order_by(_TASKS.c.id)
_LOCK_TASK = select(_TASKS).where(_TASKS.c.id == bindparam("task_id")).with_for_update()
# The plan of a task, locked.
_LOCK_TASK_PLAN = select(*runtime.Plan.COLUMNS).where(
    _PLANS.c.id == select(_TASKS.c.instance_id).where(_TASKS.c.id == bindparam("task_id")).scalar_subquery()
).with_for_update(of=_PLANS)

class _TimersDue(Exception):
    """Raised inside a completion whose plan has a timer due (the worker behind): the command is
    undone, `complete` fires the plan's timers in their own transaction, and tries once more."""

    def __init__(self, plan_id: int):
        super().__init__(plan_id)
        self.plan_id = plan_id


_STATUS_ZH = {"completed": "办结", "cancelled": "取消", "claimed": "被认领", "open": "待认领"}
_CALENDAR_KEEPERS = "只有改革办可以维护节假日安排 (only the reform office maintains the calendar)"


def _calendar_as_seen(day: date, row: CalendarOverride | None, seen: dict | None) -> None:
    """Refuse (Conflict) when `day`'s entry is no longer what the person saw (`seen`, see
    Engine.set_calendar_days); a day they were not shown is not checked."""
    if seen is None or day not in seen:
        return
    now = None if row is None else (row.is_working_day, row.note or "")
    was = None if seen[day] is None else (bool(seen[day][0]), seen[day][1] or "")
    if now != was:
        said = ("未录入", "nothing entered") if now is None else \
            (f"{'调休上班' if now[0] else '放假'}“{now[1]}”", f"{'working' if now[0] else 'off'} '{now[1]}'")
        raise Conflict(f"{day} 刚被其他人修改过，现为{said[0]}，未作更改；请刷新后重试 "
                       f"({day} was changed by someone else meanwhile, now {said[1]}: nothing changed, reload and try again)")
_PLAN_STATUS_ZH = {"completed": "办结", "cancelled": "终止", "error": "出错"}

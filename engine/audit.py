"""The audit trail: every change appends an event, hash-chained to the one before.

An event's hash covers its sequence number, time, actor, type, instance, task, payload, the
previous event's hash, (since migration 0003) the real time it was written and (since migration
0025) the channel the person acted through with its API token's id, so changing,
removing or inserting any event breaks the chain from that point on. The chain's tip is also
kept in `audit_head`; locking that row serialises appends from several web workers and keeps
sequence numbers gap-free.

What a chain alone cannot show is a cut-off end (delete the newest events, set the head back):
that takes an anchor, {"seq", "hash", ...} of a recent event, kept by the auditor outside the
database (`anchor`, and `verify(anchors=...)`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from sqlalchemy import String, bindparam, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AuditEvent, AuditHead

from . import channels, display
from .channels import Channel
from .clock import TZ as _BEIJING
from .clock import real_now
from .errors import ReformflowError
from .tables import EXCEL_CELL, as_text, fits_excel  # noqa: F401 (EXCEL_CELL: the export's limit, as before)

# who the system's own events are by (commands.SYSTEM_ACTOR), and the channel they come by: 系统
SYSTEM_ACTOR, WORKER = "system", channels.WORKER  # commands.SYSTEM_ACTOR is this one

GENESIS_HASH = "0" * 64
EXPORT_FIELDS = ("seq", "occurred_at", "actor", "event_type", "instance_id", "task_id",
                 "payload", "prev_hash", "hash", "recorded_at", "channel", "token_id")
# How far recorded_at may go back along the chain (clock skew between workers) before verify
# reports it; also how far occurred_at may differ from recorded_at before verify notes it.
CLOCK_TOLERANCE = timedelta(minutes=5)


def canonical_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def event_hash(seq: int, occurred_at: datetime, actor: str, event_type: str,
               instance_id: int | None, task_id: int | None, payload: str, prev_hash: str,
               recorded_at: datetime | None = None, channel: str | None = None,
               token_id: int | None = None) -> str:
    """sha256 of the compact JSON array of the fields; recorded_at is appended as a ninth
    element when present, then the channel and the token's id (null but for the API) as a tenth
    and eleventh when there is a channel. Events written before either existed (NULL) keep their
    8- or 9-field hash; taking an event's channel away changes its hash as much as changing it."""
    return _digest(seq, _stamp(occurred_at), actor, event_type, instance_id, task_id, payload, prev_hash,
                   None if recorded_at is None else _stamp(recorded_at), channel, token_id)


def _digest(seq, occurred_at: str, actor, event_type, instance_id, task_id, payload, prev_hash,
            recorded_at: str | None, channel, token_id) -> str:
    """The hash of an event's fields, its times already written as the trail writes them: one
    field order for writing (event_hash) and for checking an export (row_intact)."""
    fields = [seq, occurred_at, actor, event_type, instance_id, task_id, payload, prev_hash]
    if recorded_at is not None:
        fields.append(recorded_at)
    if channel is not None:
        fields += [channel, token_id]
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


_HEAD, _EVENTS = AuditHead.__table__, AuditEvent.__table__
# the head with the hash of the event it names, in the same statement: a head past the events
# (a restore that mixed tables) is refused before anything is chained onto a gap
_LOCK_HEAD = (select(_HEAD.c.last_seq, _HEAD.c.last_hash, _EVENTS.c.hash)
              .select_from(_HEAD.outerjoin(_EVENTS, _EVENTS.c.seq == _HEAD.c.last_seq))
              .where(_HEAD.c.id == 1).with_for_update(of=_HEAD))
_EVENT_HASH = select(_EVENTS.c.hash).where(_EVENTS.c.seq == bindparam("seq"))
_INSERT_EVENTS = insert(_EVENTS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=bindparam("new_seq"),
                                                         last_hash=bindparam("new_hash"))
_MOVE_HEAD_FROM = update(_HEAD).where(
    _HEAD.c.id == 1, _HEAD.c.last_seq == bindparam("old_seq"), _HEAD.c.last_hash == bindparam("old_hash")
).values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))


class ChainTip:
    """The (seq, hash) this process appended last, kept by the Engine. An append first tries to
    move the head from it with one compare-and-set UPDATE, instead of reading and locking the
    head and then updating it. It is never trusted: the UPDATE matches only while the head
    still holds exactly that seq and hash (a hash cannot repeat); otherwise the append reads
    and locks the head as before."""

    def __init__(self):
        self.value: tuple[int, str] | None = None


@dataclass
class AuditLog:
    """Events recorded during one command, written in one go when the command commits."""
    actor: str
    now: datetime
    pending: list = field(default_factory=list)
    tip: ChainTip | None = None
    channel: "Channel | None" = None  # how the person acted (engine/channels.py); None: not recorded
    # the pending events (by position) the system did, not the actor: a timer that fired during a
    # person's command and what it set off (an escalation, a reminder, the step it opened). After
    # a stopped worker, a lead unit's filer's submission fired their own deadline, and the trail
    # read 宋涛 [命令行] 上报 逾期未整改上报改革办: as if they had escalated themselves.
    by_system: set = field(default_factory=set)

    def record(self, event_type: str, *, instance_id: int | None = None,
               task_id: int | None = None, by_system: bool = False, **payload) -> None:
        """Add an event to write at commit. `by_system`: the system's (SYSTEM_ACTOR, by the worker's
        channel 系统), whoever's command it is."""
        self.pending.append((event_type, instance_id, task_id, payload))
        if by_system:
            self.by_system.add(len(self.pending) - 1)

    def is_by_system(self, index: int) -> bool:
        """Whether the pending event at `index` is the system's, by its actor or by `record(..., by_system=True)`."""
        return self.actor == SYSTEM_ACTOR or index in self.by_system

    def flush(self, session: Session) -> list[dict]:
        """Append the pending events; returns them as column dicts. Plain INSERT and UPDATE
        statements rather than ORM objects: the unit of work cost more than the SQL."""
        if not self.pending:
            return []
        # The command's own ORM changes (task rows it cancels or stamps, the plan) go to the
        # database first, so every row lock a command takes comes before the head lock: else a
        # claim (task, then head) and the timer worker (head, then task at commit) deadlock.
        session.flush()
        # On the session's connection, in its transaction: Core statements, built once, skip the
        # ORM's per-statement work.
        conn = session.connection()
        tip = self.tip.value if self.tip else None
        moved = False
        if tip is not None:
            # The real time: read before the head is locked, but if the head still holds this
            # process's last append, nobody appended since, so recorded_at still grows along
            # the chain. If it moved, the UPDATE (after waiting for that writer) matches nothing.
            written = self._chain(*tip, real_now())
            moved = conn.execute(_MOVE_HEAD_FROM, {"new_seq": written[-1]["seq"], "new_hash": written[-1]["hash"],
                                                   "old_seq": tip[0], "old_hash": tip[1]}).rowcount == 1
        if not moved:
            # Locking the head row serialises writers, so two can never chain onto the same tip.
            last_seq, last_hash, named = conn.execute(_LOCK_HEAD).one()
            if last_seq and named != last_hash:
                # PostgreSQL: a head locked after waiting for another writer is read as that
                # writer committed it, but its event was joined from the statement's older
                # snapshot. A new statement sees the commit: asked only when they differ.
                named = conn.execute(_EVENT_HASH, {"seq": last_seq}).scalar()
                if named != last_hash:
                    raise HeadAhead(last_seq)
            # The real time, read after taking the lock so it grows along the chain. Deliberately
            # not engine.clock's now(): --now and frozen clocks set occurred_at, and recorded_at is
            # what shows an event written "in the past" (backdating). real_now() is the machine's
            # clock, moved only by a test run's day offset (REFORMFLOW_TEST_TODAY).
            written = self._chain(last_seq, last_hash, real_now())
            conn.execute(_MOVE_HEAD, {"new_seq": written[-1]["seq"], "new_hash": written[-1]["hash"]})
        try:
            conn.execute(_INSERT_EVENTS, written)  # one executemany
        except IntegrityError as exc:
            # with the head locked (or matching this process's tip) the next number is free,
            # unless the head was moved back behind events already written: no retry can help.
            # The event number is the table's only unique key.
            if getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig):
                raise HeadBehind(written[0]["seq"]) from exc
            raise
        # Remembered at once, not after the commit: should the commit fail, the head does not
        # hold this tip, and the next append simply takes the locking way.
        if self.tip is not None:
            self.tip.value = (written[-1]["seq"], written[-1]["hash"])
        self.pending.clear()
        self.by_system.clear()
        return written

    def _chain(self, last_seq: int, last_hash: str, recorded_at: datetime) -> list[dict]:
        """The pending events as rows chained onto (last_seq, last_hash)."""
        written = []
        channel = self.channel.kind if self.channel else None
        token_id = self.channel.token_id if self.channel else None
        for index, (event_type, instance_id, task_id, payload) in enumerate(self.pending):
            seq = last_seq + 1
            body = canonical_json(payload)
            actor, how, token = ((SYSTEM_ACTOR, WORKER, None) if index in self.by_system
                                 else (self.actor, channel, token_id))
            digest = event_hash(seq, self.now, actor, event_type, instance_id, task_id,
                                body, last_hash, recorded_at, how, token)
            written.append(dict(seq=seq, occurred_at=self.now, actor=actor,
                                event_type=event_type, instance_id=instance_id, task_id=task_id,
                                payload=body, prev_hash=last_hash, hash=digest, recorded_at=recorded_at,
                                channel=how, token_id=token))
            last_seq, last_hash = seq, digest
        return written


_log = logging.getLogger("reformflow.audit")


class HeadBehind(ReformflowError):
    """The chain's head (audit_head) names an event before the last one written: moved back by
    hand, or a restore that mixed tables. Every action would fail on the same number, said as a
    conflict to retry; it is the operator's, and is logged."""
    kind = "unavailable"

    def __init__(self, seq: int):
        _log.error("audit_head is behind the audit trail: event %s exists already; run `reformflow audit verify`", seq)
        super().__init__(f"审计记录的链头（audit_head）落后于已写入的事件（事件 {seq} 已存在），审计表可能被改动。"
                         "未做任何更改，重试也无济于事：请联系运维人员运行 reformflow audit verify 并按运维手册处理 "
                         f"(the audit trail's head (audit_head) is behind the events written: event {seq} exists "
                         "already, so the audit tables may have been changed. Nothing was changed and trying again "
                         "will not help: ask the operator to run `reformflow audit verify` and follow docs/operations.md)")


class HeadAhead(ReformflowError):
    """The chain's head names an event the trail does not have, or has with another hash: a
    restore that took the head from a newer copy than the events. Chaining on would write events
    after a gap, onto a broken chain; it is the operator's, and is logged."""
    kind = "unavailable"

    def __init__(self, seq: int):
        _log.error("audit_head names event %s, which the audit trail does not hold as recorded; "
                   "run `reformflow audit verify`", seq)
        super().__init__(f"审计记录的链头（audit_head）指向的事件 {seq} 不存在或与记录不符，审计表可能被改动（如恢复时混用了"
                         "不同备份的表）。未做任何更改，重试也无济于事：请联系运维人员运行 reformflow audit verify 并按运维手册处理 "
                         f"(the audit trail's head (audit_head) names event {seq}, which the trail does not hold as "
                         "recorded, so the audit tables may have been changed (a restore mixing tables of different "
                         "backups). Nothing was changed and trying again will not help: ask the operator to run "
                         "`reformflow audit verify` and follow docs/operations.md)")


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    problems: list[str]
    anchors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth a look, but not a broken chain
    files: int = 0  # attached files checked against their uploads' SHA-256
    earlier: dict | None = None  # the latest earlier check that found the trail intact, compared with

    def to_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head_hash": self.head_hash,
                "problems": self.problems, "anchors": self.anchors, "notes": self.notes, "files": self.files,
                "earlier": self.earlier}


class _Problems:
    """The chain's problems in the order of their events, the same problem on consecutive events
    said once with its range: one event inserted or removed (the events after it renumbered)
    makes every later event's content disagree with its hash, which was one line per event
    (817 lines for 817 events) and is now one line for the run."""

    def __init__(self):
        self.found: list[tuple[int, int, str]] = []  # (first event, order, line)
        self.open: dict[str, list] = {}  # kind -> [first, last, extra]

    def add(self, seq: int, line: str) -> None:
        self.found.append((seq, len(self.found), line))

    def run(self, kind: str, seq: int, extra=None) -> None:
        current = self.open.get(kind)
        if current is not None and current[1] == seq - 1 and current[2] == extra:
            current[1] = seq
            return
        if current is not None:
            self._close(kind)
        self.open[kind] = [seq, seq, extra, len(self.found)]
        self.found.append(None)  # its place, filled when the run ends

    def _close(self, kind: str) -> None:
        first, last, extra, at = self.open.pop(kind)
        self.found[at] = (first, at, _run_line(kind, first, last, extra))

    def lines(self) -> list[str]:
        for kind in list(self.open):
            self._close(kind)
        return [line for _, _, line in sorted(self.found)]


def _run_line(kind: str, first: int, last: int, extra) -> str:
    """One problem of the events first..last (one event when first == last, worded as before)."""
    n = last - first + 1
    if kind == "changed":
        if n == 1:
            return (f"事件 {first} 的内容与其哈希不符，该事件被改动 (event {first}: content does not match its hash: "
                    "the event was changed)")
        return (f"事件 {first}–{last}（共 {n} 个）的内容与其哈希不符，这些事件被改动；从某一事件起连续不符，"
                f"正是在其前插入或删除了一个事件、其后的事件都被重新编号的样子 (events {first}–{last}, {n} events: "
                "content does not match their hashes: they were changed; a run starting at one event is what an "
                "event inserted or removed before it looks like, the events after it renumbered)")
    if n == 1:  # no_recorded_at
        return (f"事件 {first} 缺少写入时间，而之前的事件 {extra} 有 "
                f"(event {first} has no recorded_at although event {extra} before it has)")
    return (f"事件 {first}–{last}（共 {n} 个）缺少写入时间，而之前的事件 {extra} 有 "
            f"(events {first}–{last}, {n} events, have no recorded_at although event {extra} before them has)")


def verify(session: Session, batch: int = 2000, anchors: list[dict] = (),
           progress: Callable[[int, int], None] | None = None,
           file_progress: Callable[[int, int, int, int], None] | None = None,
           earlier: dict | None = None) -> VerifyResult:
    """Walk the whole chain; report every changed, removed or inserted event, a real-time
    clock that went backwards, any anchor whose event is gone or different, a trail that now
    ends before, or differs at, the end an `earlier` check found intact (engine/audit_checks.py
    `latest_intact`: an anchor the database itself kept), any attached file that no longer
    matches its upload's SHA-256, and any comment that no longer matches its event.
    `progress(checked, expected)` is called after each batch: a trail of years runs to a
    million events and ~80 s (12,000 events/s measured); `file_progress` likewise for the files
    (documents.check), which are read at 56–546 MB/s."""
    head_row = session.get(AuditHead, 1)
    expected = head_row.last_seq if head_row is not None else 0
    found = _Problems()
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    last_seq = 0
    latest_at, latest_seq = None, 0  # the latest recorded_at so far, and its event
    off_clocks: list[int] = []
    forged_comments: set[int] = set()  # comment events that fail their own hash
    gap = False  # a number missing from the sequence: events removed
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last_seq)
                               .order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for e in rows:
            count += 1
            if e.seq != expected_seq:
                gap = True
                found.add(expected_seq, _missing_line(expected_seq, e.seq - 1))
            if e.prev_hash != prev_hash:  # each on its own: an insertion or a removal breaks one link
                found.add(e.seq, f"事件 {e.seq} 与前一事件的哈希链接断开，之前有事件被删除、插入或改动 (event {e.seq}: "
                                 "previous-hash link broken: an event before it was removed, inserted or changed)")
            if _changed(e):
                found.run("changed", e.seq)
                if e.event_type == COMMENT_EVENT:
                    forged_comments.add(e.seq)
            if e.recorded_at is None:
                if latest_at is not None:  # every event since migration 0003 has one
                    found.run("no_recorded_at", e.seq, latest_seq)
            else:
                if latest_at is not None and e.recorded_at < latest_at - CLOCK_TOLERANCE:
                    found.add(e.seq, f"事件 {e.seq} 的写入时间 {_stamp(e.recorded_at)} 早于之前事件 {latest_seq} 的 "
                                     f"{_stamp(latest_at)} 超过 {_minutes(CLOCK_TOLERANCE)} 分钟 (event {e.seq}: "
                                     f"recorded_at goes back in time along the chain: clock set back or events reordered)")
                if latest_at is None or e.recorded_at > latest_at:
                    latest_at, latest_seq = e.recorded_at, e.seq
                if off_clock(e):
                    off_clocks.append(e.seq)
            prev_hash, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
        session.expunge_all()
        if progress is not None:
            progress(count, max(expected, count))
    problems = found.lines()
    head = session.get(AuditHead, 1)
    end_moved = head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash)
    if end_moved:
        problems.append(f"哈希链止于事件 {last_seq}，而记录的链头是事件 {head.last_seq}，末尾的事件被删除或添加 "
                        f"(chain ends at event {last_seq} but the recorded head is event {head.last_seq}: "
                        "events at the end were removed or added)")
    checked = [_check_anchor(session, a, last_seq, problems) for a in anchors]
    compared = _compare_with_earlier(session, earlier, count, last_seq, problems) if earlier else None
    # files, against the SHA-256 their uploads recorded (imported here: documents → queries → runtime → audit)
    from .documents import check as check_documents
    unrecorded = unrecorded_records(session)
    problems += unrecorded + removed_records(session)
    # records whose creating events are gone: the trail lost events (emptied, cut), rather than
    # each file or comment having been added behind the system's back
    lost = bool(unrecorded) or gap or end_moved or any(c["status"] == "missing" for c in checked) \
        or (compared is not None and compared["status"] == "missing")
    files, file_problems = check_documents(session, progress=file_progress)
    problems += [_lost_line(p) if lost else p for p in file_problems]
    from .comments import check as check_comments  # each comment against the text its event holds
    problems += [_lost_line(p) if lost else _comment_line(p, forged_comments) for p in check_comments(session)]
    notes = []
    if off_clocks:
        notes.append(f"{len(off_clocks)} 个事件的业务时间与实际写入时间相差超过 {_minutes(CLOCK_TOLERANCE)} 分钟，即以"
                     f"实际以外的日期录入（人工指定日期，或演示数据），首个为事件 {off_clocks[0]} "
                     f"({len(off_clocks)} event(s) have a business time more than "
                     f"{_minutes(CLOCK_TOLERANCE)} minutes from the time they were written: entered with a date "
                     f"other than the real one (a date set by hand, or the demo data); first: event {off_clocks[0]})")
    return VerifyResult(not problems, count, prev_hash, problems, checked, notes, files, compared)


# What each kind of record the state tables hold was written with, so that its trail can be asked
# for: (the record in Chinese, in English, its key, which of its rows, the event, and the rows the
# trail holds). A record without its event means the trail lost events: emptied (on PostgreSQL by
# a TRUNCATE before migration 0024) or its end cut off, which the chain alone does not show.
# Files and comments are checked one by one against their events (documents.check, comments.check).
def _coverage() -> list[tuple]:
    from models import Group, HumanTask, ProcessDefinition, ProcessInstance, User

    from .sql_json import json_text
    e, p, t, d = AuditEvent, ProcessInstance, HumanTask, ProcessDefinition

    def of_plan(kind):  # correlated on the plan's id: ix_audit_events_instance_id
        return select(e.seq).where(e.event_type == kind, e.instance_id == p.id).exists()

    def of_task(kind):  # correlated on the task's id: ix_audit_events_task_id_type
        return select(e.seq).where(e.task_id == t.id, e.event_type == kind).exists()

    def sql_text(column):  # a column as SQL text (tables.as_text is a .csv cell's, not this)
        return func.cast(column, String)

    def named(kind, *path):  # the key each event of the kind names, read once (NOT IN a set)
        text = sql_text(json_text(e.payload, *path))
        return select(text).where(e.event_type == kind, text.is_not(None))

    return [
        ("方案", "plan", p.id, None, "instance_started", ~of_plan("instance_started")),
        ("方案", "plan", p.id, p.status == "completed", "instance_ended", ~of_plan("instance_ended")),
        ("方案", "plan", p.id, p.status == "cancelled", "instance_cancelled", ~of_plan("instance_cancelled")),
        ("待办", "task", t.id, None, "task_created", ~of_task("task_created")),
        ("待办", "task", t.id, t.status == "completed", "task_completed", ~of_task("task_completed")),
        ("待办", "task", t.id, t.status == "cancelled", "task_cancelled", ~of_task("task_cancelled")),
        ("用户", "user", User.username, None, "user_added", User.username.not_in(named("user_added", "username"))),
        ("角色", "group", Group.code, None, "group_added", Group.code.not_in(named("group_added", "code"))),
        ("流程", "process", d.key + " v" + sql_text(d.version), None, "deployed",
         (d.key + " v" + sql_text(d.version)).not_in(
             select(sql_text(json_text(e.payload, "key")) + " v" + sql_text(json_text(e.payload, "version")))
             .where(e.event_type == "deployed"))),
    ]


SHOWN_IDS = 10  # of the records without their event, named one by one; the rest counted


def _first_ones(zh: list[str], en: list[str]) -> tuple[str, str]:
    """The first SHOWN_IDS of a list of records, in Chinese and English, the rest counted."""
    more = len(zh) > SHOWN_IDS
    return ("、".join(zh[:SHOWN_IDS]) + (f" 等共 {len(zh)} 个" if more else ""),
            ", ".join(en[:SHOWN_IDS]) + (f", … ({len(en)} in all)" if more else ""))


def unrecorded_records(session: Session) -> list[str]:
    """Records the database holds whose creating (or closing) event is not in the trail: one
    query a kind of record (NOT EXISTS, NOT IN), not a walk of the rows in Python. A line each
    kind, naming the first SHOWN_IDS records and counting them all."""
    problems = []
    for zh, en, key, only, event_type, unrecorded in _coverage():
        query = select(key).where(unrecorded)
        if only is not None:
            query = query.where(only)
        found = session.execute(query.order_by(key)).scalars().all()
        if not found:
            continue
        more = len(found) > SHOWN_IDS
        ids_zh, ids_en = _first_ones([str(k) for k in found], [str(k) for k in found])
        plural, verb = ("es" if en.endswith("s") else "s", "have") if len(found) > 1 else ("", "has")
        problems.append(f"审计记录缺失事件：{zh} {ids_zh}{'' if more else ' '}仍在数据库中，却没有 {event_type} 事件，审计记录被清空、截断或"
                        f"删去了事件 (the audit trail is missing events for records that exist: {en}{plural} {ids_en} "
                        f"{verb} no {event_type} event; the trail was emptied, cut or had events removed)")
    return problems


def removed_records(session: Session) -> list[str]:
    """The other way round: plans and steps the trail says were created whose rows the database
    no longer holds. reformflow never deletes either; the app role can (section 1 of
    docs/operations.md), and a deleted step hides what was decided on it from every page, while the
    chain stays intact. One query a kind, a line each, naming the first SHOWN_IDS."""
    from models import HumanTask, ProcessInstance
    e = AuditEvent
    problems = []
    for zh, en, event_type, column, table_key in (
            ("方案", "plan", "instance_started", e.instance_id, ProcessInstance.id),
            ("待办", "task", "task_created", e.task_id, HumanTask.id)):
        rows = session.execute(select(e.seq, column).where(
            e.event_type == event_type, column.is_not(None), ~select(table_key).where(table_key == column).exists())
            .order_by(e.seq)).all()
        if not rows:
            continue
        listed_zh, listed_en = _first_ones([f"事件 {seq} 记录的{zh} {key}" for seq, key in rows],
                                           [f"the {en} {key} of event {seq}" for seq, key in rows])
        problems.append(f"{zh}记录被删除：{listed_zh} 已不在数据库中，其办理情况因此从各页面消失 ({en} records were deleted: "
                        f"{listed_en}; they are no longer in the database, so what was done on them is gone from every page)")
    return problems


def _lost_line(problem: str) -> str:
    """A file's or comment's missing event said as the trail's loss, once the trail is known to
    have lost events (`unrecorded_records`, a gap, a cut end), instead of "added behind the
    system's back"."""
    if m := re.match(r"(附件 \d+（.*?）)没有上传的审计记录，是绕过系统添加的 \(file (\d+) ", problem):
        return (f"{m[1]}的上传事件不在审计记录中：审计记录缺失事件（见上），而非附件绕过系统添加 (file {m[2]}: its "
                "upload event is not in the audit trail, which has lost events (see above), rather than the file "
                "having been added behind the system's back)")
    if m := re.match(r"留言 (\d+) 没有审计记录，是绕过系统添加的", problem):
        return (f"留言 {m[1]} 的事件不在审计记录中：审计记录缺失事件（见上），而非留言绕过系统添加 (comment {m[1]}: its "
                "event is not in the audit trail, which has lost events (see above), rather than the comment having "
                "been added behind the system's back)")
    return problem


def _missing_line(first: int, last: int) -> str:
    if first == last:
        return f"事件 {first} 缺失 (event {first} missing: sequence jumps to {last + 1})"
    return f"事件 {first}–{last}（共 {last - first + 1} 个）缺失 (events {first}–{last} missing: sequence jumps to {last + 1})"


COMMENT_EVENT = "comment_added"  # engine/comments.py EVENT (imported there from runtime → audit: not here)


def _comment_line(problem: str, forged: set[int]) -> str:
    """A comment problem (engine/comments.py `check`) said again when its event itself fails its hash:
    then the event is what was forged or changed, and no comment need have been deleted or changed."""
    if gone := re.match(r"审计事件 (\d+) 登记的留言 (\d+) 已不存在", problem):
        seq, comment = int(gone[1]), gone[2]
        if seq in forged:
            return (f"审计事件 {seq} 登记的留言 {comment} 不存在，而该事件本身与其哈希不符：该事件可能是伪造或插入的，"
                    f"而非留言被删除 (comment {comment} of audit event {seq} does not exist, and the event itself does "
                    "not match its hash: the event may have been forged or inserted, rather than the comment deleted)")
    if differs := re.match(r"留言 (\d+) 与审计事件 (\d+) 登记的内容不符", problem):
        comment, seq = differs[1], int(differs[2])
        if seq in forged:
            return (f"留言 {comment} 与审计事件 {seq} 登记的内容不符，而该事件本身与其哈希不符：被改动的可能是该事件，"
                    f"而非留言 (comment {comment} does not match audit event {seq}, and the event itself does not "
                    "match its hash: the event may be what was changed, rather than the comment)")
    return problem


def check_events(session: Session, events: list[AuditEvent]) -> list[str]:
    """Problems with some events of the chain, each checked against its own hash and its links to
    the events before and after it (whichever plan they belong to): what one plan's records can
    prove without walking the whole chain, as `verify` does. The link from the event after it
    shows an event rewritten with its hash recomputed; the chain's last is held by the head."""
    before = {e.seq - 1 for e in events} - {0}
    hashes = dict(session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(before))).all())
    hashes[0] = GENESIS_HASH
    # the head first: an event appended meanwhile is then in `after` (read committed)
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.id == 1)).first()
    after = dict(session.execute(select(AuditEvent.seq, AuditEvent.prev_hash)
                                 .where(AuditEvent.seq.in_({e.seq + 1 for e in events}))).all())
    problems = []
    for e in events:
        if changed := _changed(e):
            problems.append(changed)
        if hashes.get(e.seq - 1) != e.prev_hash:
            # the event before may be another plan's: say so, this record itself is not in question
            problems.append(f"事件 {e.seq} 与前一事件 {e.seq - 1} 的哈希链接断开：事件 {e.seq - 1}（可能属于其他方案）被改动或删除，"
                            f"或其间插入了事件 (event {e.seq}: previous-hash link broken: event {e.seq - 1}, perhaps "
                            "another plan's, was changed or removed, or an event was inserted)")
        # the chain's last event is linked from the head
        following = head.last_hash if head is not None and e.seq == head.last_seq else after.get(e.seq + 1)
        if following != e.hash:
            problems.append(f"事件 {e.seq} 与后一事件的哈希链接断开，该事件被改写或其后的事件被删除 (event {e.seq}: "
                            "the next event does not link to it: it was rewritten, or the event after it removed)")
    return problems


def intact(e: AuditEvent) -> bool:
    """Does the event's content still match its own stored hash? One sha256, no other event read:
    cheap enough for every line a page shows. The chain's links (the event before, removals,
    a rewritten event with its hash recomputed) are `verify`'s work."""
    return event_hash(e.seq, e.occurred_at, e.actor, e.event_type, e.instance_id, e.task_id, e.payload,
                      e.prev_hash, e.recorded_at, e.channel, e.token_id) == e.hash


def _changed(e: AuditEvent) -> str | None:
    """The problem if an event's content no longer matches its hash, else None."""
    if intact(e):
        return None
    return (f"事件 {e.seq} 的内容与其哈希不符，该事件被改动 (event {e.seq}: content does not match its hash: "
            "the event was changed)")


def off_clock(e: AuditEvent) -> bool:
    """Was the event written at a time far from the one it states (--now, a fixed clock, the demo
    data)? Further apart than CLOCK_TOLERANCE, the limit `verify` notes such events with. Events
    from before migration 0003 have no recorded_at and are never said to be."""
    return e.recorded_at is not None and abs(e.occurred_at - e.recorded_at) > CLOCK_TOLERANCE


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _hash_at(session: Session, seq: int) -> str | None:
    """The stored hash of event `seq`, None if there is no such event."""
    return session.execute(select(AuditEvent.hash).where(AuditEvent.seq == seq)).scalar_one_or_none()


def _check_anchor(session: Session, anchor: dict, last_seq: int, problems: list[str]) -> dict:
    """Does the anchored event still exist with the anchored hash? Then nothing up to it was
    cut or rewritten (the chain links every earlier event to it)."""
    seq, expected = anchor["seq"], anchor["hash"]
    found = _hash_at(session, seq)
    result = {"seq": seq, "hash": expected, "source": anchor.get("source")}
    if found is None:
        problems.append(f"锚定的事件 {seq} 已不存在，审计记录被截断 (anchored event {seq} is "
                        f"missing: the trail was cut; it now ends at event {last_seq})")
        return result | {"status": "missing", "appended_after": None}
    if found != expected:
        problems.append(f"事件 {seq} 的哈希与锚点不符，该事件或之前的事件被改写 (event {seq} does "
                        f"not match the anchor: it or events before it were rewritten)")
        return result | {"status": "mismatch", "appended_after": None}
    return result | {"status": "ok", "appended_after": last_seq - seq}


def _compare_with_earlier(session: Session, earlier: dict, count: int, last_seq: int, problems: list[str]) -> dict:
    """The trail against the latest earlier check that found it intact, {"events", "head_hash",
    "finished_at", "requested_by", ...}: its last event must still be there with that hash. Without
    an anchor kept outside, a cut-off end (newest events deleted, head set back) otherwise verifies
    as intact; this catches it unless the checks' table was cut back too."""
    seq, expected = earlier["events"], earlier["head_hash"]
    found = _hash_at(session, seq)
    when = f"{display.minute(earlier['finished_at'])}，{earlier.get('requested_by_name') or earlier['requested_by']}"
    when_en = f"{display.minute(earlier['finished_at'])}, by {earlier['requested_by']}"
    if found is None and last_seq < seq:
        problems.append(f"上次校验（{when}）时审计记录有 {seq} 个事件，末端哈希 {expected[:16]}…；现只有 {count} 个："
                        f"审计记录可能被截断 (the last check, {when_en}, found {seq} events ending in hash "
                        f"{expected[:16]}…; now there are only {count}: the trail may have been cut)")
        return earlier | {"status": "missing", "appended_after": None}
    if found is None:
        problems.append(f"上次校验（{when}）时的末端事件 {seq} 已不存在 (event {seq}, the end of the last check "
                        f"{when_en}, is missing)")
        return earlier | {"status": "missing", "appended_after": None}
    if found != expected:
        problems.append(f"上次校验（{when}）时事件 {seq} 的哈希为 {expected[:16]}…，现为 {found[:16]}…：该事件或之前的"
                        f"事件被改写 (the last check, {when_en}, found event {seq} with hash {expected[:16]}…, now "
                        f"{found[:16]}…: it or events before it were rewritten)")
        return earlier | {"status": "mismatch", "appended_after": None}
    return earlier | {"status": "ok", "appended_after": last_seq - seq}


def read_anchor(text: str, source: str | None = None) -> dict:
    """Parse an anchor document written by `anchor`; ValueError with a clear message if not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"锚点不是有效的 JSON (anchor is not valid JSON: {exc})") from None
    if (not isinstance(data, dict) or not isinstance(data.get("seq"), int) or data["seq"] < 1
            or not isinstance(data.get("hash"), str) or len(data["hash"]) != 64):
        raise ValueError('锚点须含 "seq"（正整数）与 "hash"（64 位十六进制）'
                         ' (an anchor needs "seq", a positive integer, and "hash", 64 hex digits)')
    return data | {"source": source}


def anchor(session: Session, actor: str, now: datetime, database: str, channel: "Channel | None" = None) -> dict:
    """Record an `audit_anchored` event and return the anchor document naming it.

    The anchor names the anchoring event itself, so the trail shows when the auditor anchored
    and the anchor covers that record too. Call it in a writing transaction.
    """
    log = AuditLog(actor, now, channel=channel)
    log.record("audit_anchored", database=database)
    [event] = log.flush(session)
    events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return {"seq": event["seq"], "hash": event["hash"], "recorded_at": _stamp(event["recorded_at"]),
            "events": events, "database": database}


def public_url(url: str) -> str:
    """The database URL with the password left out, fit to print on an anchor."""
    # URL is a named tuple; .set(password=None) would mean "leave unchanged"
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def _event_dict(e: AuditEvent) -> dict:
    return {"seq": e.seq, "occurred_at": _stamp(e.occurred_at), "actor": e.actor,
            "event_type": e.event_type, "instance_id": e.instance_id, "task_id": e.task_id,
            "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash,
            "recorded_at": _stamp(e.recorded_at) if e.recorded_at else None,
            "channel": e.channel, "token_id": e.token_id}


def iter_events(session: Session, instance_id: int | None = None, batch: int = 2000) -> Iterator[dict]:
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        if instance_id is not None:
            query = query.where(AuditEvent.instance_id == instance_id)
        rows = session.execute(query).scalars().all()
        if not rows:
            return
        for e in rows:
            yield _event_dict(e)
        last = rows[-1].seq
        session.expunge_all()


def csv_row(row: dict) -> dict:
    """An event as a row of the CSV export: a cell Excel or WPS would run as a formula (a refused
    sign-in records the name as typed, "=HYPERLINK(...)" included) gets a leading apostrophe, as
    the other downloads' cells do (engine/tables.py). A cell that already began with an apostrophe
    gets one too, so that the rule reverses exactly: remove one leading apostrophe from any cell
    that has one, and the text is the hashed one again. The JSON lines export is never changed."""
    return {k: "'" + v if isinstance(v, str) and v.startswith("'") else as_text(v) for k, v in row.items()}


# The CSV export is for people reading it in Excel or WPS: each column headed in Chinese with its
# field in brackets (the hashed fields keep their names there, which ops/check_audit_export.py reads),
# then columns said for a reader: the time in Beijing time, who by name, the event in Chinese. The
# JSON lines export is the exact form, the one to check hashes with.
CSV_HEADERS = {"seq": "序号 (seq)", "occurred_at": "业务时间，UTC (occurred_at)", "actor": "办理人用户名 (actor)",
               "event_type": "事件类型代码 (event_type)", "instance_id": "方案编号 (instance_id)",
               "task_id": "待办编号 (task_id)", "payload": "内容 (payload)", "prev_hash": "前一事件哈希 (prev_hash)",
               "hash": "哈希 (hash)", "recorded_at": "实际写入时间，UTC (recorded_at)",
               "channel": "办理渠道代码 (channel)", "token_id": "接口令牌编号 (token_id)"}
CSV_READABLE = ("北京时间，UTC+8 (Beijing time)", "办理人姓名 (actor's name)", "办理渠道 (how it came)", "事件 (event)",
                "说明 (what happened)")
# Excel and WPS keep at most 32,767 characters in a cell and cut the rest without a word; a form's
# text (and a step done again, old and new) goes past it. Such a cell is cut here, visibly
# (engine/tables.py fits_excel, as every table file), saying the JSON lines hold the whole.
CUT_MARK = "…［已截断：超出 Excel 单元格 32767 字的上限，全文见 JSONL 导出 (cut at Excel's cell limit: the full value is in the JSONL export)］"


class CsvExport:
    """Rows of the CSV export: the hashed fields (csv_row), then the readable columns."""

    TASK_WINDOW = 1000  # task names read a range of ids at a time: the events name tasks roughly in order
    TASKS_KEPT = 50_000  # then forgotten, so a trail of years is never all in memory

    def __init__(self, out: io.TextIOBase, session: Session):
        from models import Unit, User

        from . import names_then
        self.writer = csv.writer(out)
        self.session = session
        self.tasks: dict[int, tuple[str, str | None] | None] = {}  # task id -> (name, subject); None: no such row
        people = session.execute(select(User.username, User.display_name, Unit.name)
                                 .outerjoin(Unit, User.unit_id == Unit.id)).all()
        # each person named as they were when they acted, today's name beside it if they were renamed
        self.names = names_then.load(session, {u: n for u, n, _ in people}, {u: unit for u, _, unit in people})

    def header(self) -> None:
        self.writer.writerow([*CSV_HEADERS.values(), *CSV_READABLE])

    def row(self, row: dict) -> None:
        from .trail_text import said
        payload = json.loads(row["payload"])
        payload = payload if isinstance(payload, dict) else {}
        name, subject = payload.get("name"), payload.get("subject")
        if row["task_id"] is not None and (name is None or subject is None):
            # a claim, a hand-back, an assignment record only the task: named by its step, as `history` does
            task = self._task(row["task_id"])
            if task is not None:
                name, subject = name or task[0], subject or task[1]
        event = {"event_type": row["event_type"], "payload": payload, "name": name, "subject": subject,
                 "task_id": row["task_id"]}
        try:
            line = said(event, "zh")
        except (KeyError, TypeError, ValueError, AttributeError):  # an event older than its wording
            line = row["event_type"]
        name = line if line == row["event_type"] else re.split(r"[ ：（「]", line, maxsplit=1)[0]
        actor = row["actor"]
        readable = [datetime.fromisoformat(row["occurred_at"]).astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                    self._name(actor, row["seq"]) or ("系统" if actor == "system" else ""),
                    channels.said(row.get("channel"), row.get("token_id")), name, line]
        hashed = csv_row(row)
        self.writer.writerow([_fits_excel(v) for v in [*(hashed[k] for k in CSV_HEADERS), *csv_row(
            dict(enumerate(readable))).values()]])


    def _task(self, task_id: int) -> tuple[str, str | None] | None:
        """A task's step name and subject (a round of reports' body), or None if its row is gone."""
        if task_id not in self.tasks:
            from models import HumanTask
            if len(self.tasks) > self.TASKS_KEPT:
                self.tasks.clear()
            found = self.session.execute(select(HumanTask.id, HumanTask.name, HumanTask.subject).where(
                HumanTask.id.between(task_id, task_id + self.TASK_WINDOW - 1))).all()
            self.tasks.update({i: (name, subject) for i, name, subject in found})
            self.tasks.setdefault(task_id, None)
        return self.tasks[task_id]

    def _name(self, actor: str, seq: int) -> str | None:
        found = self.names.differs(actor, seq)
        return display.then_and_now(found["name"], found.get("name_now")) if found["name"] else None


def row_intact(row: dict) -> bool:
    """Does an exported event (_event_dict: its times already as exported) match its own hash?"""
    return _digest(*(row[k] for k in ("seq", "occurred_at", "actor", "event_type", "instance_id", "task_id", "payload",
                                      "prev_hash", "recorded_at", "channel", "token_id"))) == row["hash"]


class ExportCheck:
    """What an export can tell of the chain from the events it writes anyway, at one sha256 an
    event: each event against its own hash, and its link to the event before when that is
    exported too (a whole export: every event, a number missing said as such; one plan's: its
    consecutive events only). Not `verify`: the trail's end, anchors, files and comments are its.
    `first`: (seq, Chinese, English) of the first problem, None while there is none."""

    def __init__(self, whole: bool):
        self.whole = whole
        self.first: tuple[int, str, str] | None = None
        self.events = 0  # events with a problem (a missing number counts as one)
        self._seq, self._hash = 0, GENESIS_HASH

    def watch(self, rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            self._see(row)
            yield row

    def _see(self, row: dict) -> None:
        seq, found = row["seq"], []
        if self.whole and seq != self._seq + 1:
            found.append((self._seq + 1, f"事件 {self._seq + 1} 缺失", f"event {self._seq + 1} is missing"))
        elif (self.whole or seq == self._seq + 1) and row["prev_hash"] != self._hash:
            found.append((seq, f"事件 {seq} 与前一事件的哈希链接断开", f"event {seq} does not link to the event before it"))
        if not row_intact(row):
            found.append((seq, f"事件 {seq} 的内容与其哈希不符", f"event {seq} does not match its hash"))
        if found:
            self.events += len(found)
            self.first = self.first or found[0]
        self._seq, self._hash = seq, row["hash"]

    def broken(self) -> dict | None:
        """The first problem and how many there were, as the export's record keeps them."""
        if self.first is None:
            return None
        seq, zh, en = self.first
        return {"seq": seq, "events": self.events, "zh": zh, "en": en}


def _noting_last(rows: Iterator[dict], last: dict) -> Iterator[dict]:
    for row in rows:
        last.update(seq=row["seq"], hash=row["hash"])
        yield row


def _fits_excel(cell) -> str:
    """A cell Excel would cut, cut here with CUT_MARK saying where the whole value is."""
    return fits_excel(cell, CUT_MARK)


EXPORTED = "audit_exported"


def record_export(engine, actor: str, fmt: str, instance_id: int | None, count: int, last: dict | None,
                  via: str, check: ExportCheck | None = None) -> None:
    """Put an export on the trail, as a check is (`audit_verified`): who took a copy of which events,
    in which format, up to which event. `last`: the last event exported, {"seq", "hash"}, or None.
    A broken chain the export saw (`check`) is part of the record: the web's download has no
    other place to say so once the file is on its way (latest_export)."""
    broken = check.broken() if check is not None else None
    with engine.command(actor) as ctx:
        if actor != "system":
            engine._member(ctx, actor)  # a known, active user, as for every --as
        # the plan in the payload: the event is the auditor's, not on that plan's trail
        ctx.log.record(EXPORTED, format=fmt, plan=instance_id, events=count,
                       last_seq=last["seq"] if last else None, last_hash=last["hash"] if last else None, via=via,
                       **({"broken": broken} if broken else {}))


def latest_export(session: Session, broken: bool = False) -> dict | None:
    """The last export on the trail, or with `broken` the last that found the chain broken (a
    clean export of one plan taken after it must not hide it): {"seq", "at", "actor", "format",
    "plan", "events", "via", "broken"} (broken: {"seq", "events", "zh", "en"} or None), or None."""
    query = select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.payload) \
        .where(AuditEvent.event_type == EXPORTED)
    if broken:
        query = query.where(AuditEvent.payload.contains('"broken":'))
    row = session.execute(query.order_by(AuditEvent.seq.desc()).limit(1)).first()
    if row is None:
        return None
    payload = json.loads(row.payload)
    return {"seq": row.seq, "at": row.occurred_at.isoformat(), "actor": row.actor, "format": payload.get("format"),
            "plan": payload.get("plan"), "events": payload.get("events"), "via": payload.get("via"),
            "broken": payload.get("broken")}


def export(session: Session, out: io.TextIOBase, fmt: str = "jsonl", instance_id: int | None = None,
           last: dict | None = None, check: ExportCheck | None = None) -> int:
    """Write events as JSON lines, CSV or one JSON document {"events": [...]}; the payload
    stays the exact hashed string so an auditor can recompute every hash from the export alone
    (in CSV after taking off the apostrophe csv_row puts before a formula-like cell, except in a
    cell cut at Excel's limit, CUT_MARK: that event's hash is checked from the JSON lines).
    `last`, if given, is filled with the seq and hash of the last event written; `check`, if
    given, sees each event as it is written (ExportCheck)."""
    count = 0
    rows = iter_events(session, instance_id)
    if check is not None:
        rows = check.watch(rows)
    if last is not None:
        rows = _noting_last(rows, last)
    if fmt == "csv":
        writer = CsvExport(out, session)
        writer.header()
        for row in rows:
            writer.row(row)
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":  # streamed, one event a line, so a long trail is never all in memory
        out.write('{"events": [')
        for row in rows:
            out.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
            count += 1
        out.write("\n]}\n")
    else:
        raise ValueError(f"unknown export format {fmt!r}; use jsonl, csv or json")
    return count

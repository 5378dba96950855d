"""Comments on a plan (批注/留言): what a comment accepts, storing one, listing a plan's.

A comment is not a decision: a reviewer asks the drafter for something (「请补充风险评估材料」)
or leaves a note for the next reviewer without completing their step. Comments are only ever
added (the table refuses UPDATE and DELETE, as documents does): a correction is a new comment.
Each one's audit event (`comment_added`) holds its text, so the hash chain covers every word.
"""
from __future__ import annotations

import json
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Comment, HumanTask, User
from models.base import INTEGER_MAX

from .errors import Invalid
from .queries import iso

EVENT = "comment_added"
MAX_CHARS = 2000  # a question or a note, not a document: a report is attached as a file
# line breaks and tabs belong in a longer note; other control and invisible characters
# (escape sequences, right-to-left overrides, zero-width characters) do not
_ALLOWED = {"\n", "\t"}
_HIDDEN = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def open_to(plan_status: str, office: bool) -> bool:
    """Whether someone who may see a plan may comment on it: anyone while it runs; once it has
    ended or was stopped, the reform office only (a note for the record). The engine refuses by
    this rule, and the web offers the comment box by it."""
    return office or plan_status not in ("completed", "cancelled")


def checked_text(text: str | None) -> str:
    """The comment's text as kept: line breaks made plain, spaces around it trimmed; or Invalid."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise Invalid("留言内容不能为空 (the comment is empty: write something)")
    if len(text) > MAX_CHARS:
        raise Invalid(f"留言最多 {MAX_CHARS} 个字，现有 {len(text)} 个；较长的材料请作为附件上传 "
                      f"(a comment is at most {MAX_CHARS} characters, this one has {len(text)}: attach a longer text as a file)")
    hidden = next((c for c in text if c not in _ALLOWED and unicodedata.category(c) in _HIDDEN), None)
    if hidden is not None:
        raise Invalid(f"留言含有控制字符或不可见字符（U+{ord(hidden):04X}），请删去后重新输入 "
                      f"(the comment has a control or invisible character, U+{ord(hidden):04X}: remove it and try again)")
    return text


def add(session: Session, instance_id: int, task, text: str, author: str, unit: str | None, now) -> dict:
    comment = Comment(instance_id=instance_id, task_id=task.id if task is not None else None, author=author,
                      unit=unit, text=text, created_at=now)
    session.add(comment)
    session.flush()
    return {"id": comment.id, "instance_id": instance_id, "task_id": comment.task_id,
            "task_name": task.name if task is not None else None,
            "task_subject": task.subject if task is not None else None,
            "author": author, "unit": unit, "text": text, "created_at": iso(now)}


def sent_again(session: Session, instance_id: int, task_id: int | None, author: str, text: str,
               after: int) -> dict | None:
    """The comment this one repeats, if the same person already wrote the same text on the same
    plan and step after comment `after` (the newest the page they sent it from showed): a reload
    of that page or a double click sent it again. Comments are never deleted, so a copy would stay
    on the record for good; the command returns the first instead of adding it twice."""
    row = session.execute(_LISTED.where(Comment.instance_id == instance_id, Comment.author == author,
                                        Comment.task_id.is_(None) if task_id is None else Comment.task_id == task_id,
                                        # no comment is past the column's end: the bound held to it
                                        Comment.text == text, Comment.id > max(min(after, INTEGER_MAX), -1))
                          .order_by(Comment.id).limit(1)).first()
    return None if row is None else _described(*row)


_LISTED = (select(Comment, HumanTask.name, HumanTask.subject, User.display_name)
           .outerjoin(HumanTask, HumanTask.id == Comment.task_id)
           .outerjoin(User, User.username == Comment.author))


def listed(session: Session, instance_id: int, task_id: int | None = None) -> list[dict]:
    """A plan's comments (or those about one task), oldest first, with the author's name."""
    query = _LISTED.where(Comment.instance_id == instance_id).order_by(Comment.id)
    if task_id is not None:
        query = query.where(Comment.task_id == task_id)
    return [_described(*row) for row in session.execute(query).all()]


def newest(session: Session, instance_id: int, shown: int) -> dict:
    """A plan's newest `shown` comments, oldest first, and `total`, how many it has: what a page
    lists of a plan discussed at length (the rest: its whole trail's page)."""
    rows = session.execute(_LISTED.where(Comment.instance_id == instance_id)
                           .order_by(Comment.id.desc()).limit(shown)).all()[::-1]
    total = len(rows) if len(rows) < shown else session.execute(
        select(func.count()).select_from(Comment).where(Comment.instance_id == instance_id)).scalar_one()
    return {"comments": [_described(*row) for row in rows], "total": total}


def _described(c: Comment, name: str | None, subject: str | None, display_name: str | None) -> dict:
    return {"id": c.id, "instance_id": c.instance_id, "task_id": c.task_id, "task_name": name,
            "task_subject": subject, "author": c.author, "author_name": display_name, "unit": c.unit,
            "text": c.text, "created_at": iso(c.created_at)}


def check(session: Session) -> list[str]:
    """Every comment against its `comment_added` event (`audit verify`): the table refuses UPDATE
    and DELETE, but someone who gets past its triggers could change, remove or add a row; the
    hash-chained event still holds what was written, by whom, on which plan and task."""
    from models import AuditEvent
    recorded = {}
    for seq, actor, instance_id, task_id, payload in session.execute(
            select(AuditEvent.seq, AuditEvent.actor, AuditEvent.instance_id, AuditEvent.task_id, AuditEvent.payload)
            .where(AuditEvent.event_type == EVENT)).all():
        new = json.loads(payload).get("new") or {}
        recorded[new.get("id")] = (seq, actor, instance_id, task_id, new.get("text"))
    problems = []
    for c in session.execute(select(Comment).order_by(Comment.id)).scalars():
        event = recorded.pop(c.id, None)
        if event is None:
            problems.append(f"留言 {c.id} 没有审计记录，是绕过系统添加的 (comment {c.id} has no event in the audit "
                            "trail: it was added behind the system's back)")
        elif event[1:] != (c.author, c.instance_id, c.task_id, c.text):
            problems.append(f"留言 {c.id} 与审计事件 {event[0]} 登记的内容不符，已被改动 (comment {c.id} does not "
                            f"match audit event {event[0]}: it was changed)")
    for comment_id, event in sorted(recorded.items(), key=lambda item: item[1][0]):
        problems.append(f"审计事件 {event[0]} 登记的留言 {comment_id} 已不存在，被删除 (comment {comment_id} of audit "
                        f"event {event[0]} is gone: it was deleted)")
    return problems

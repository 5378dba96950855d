"""暂存: a step's form saved by its holder without submitting it (models/draft.py).

Only the fields a person may type in are kept (a read-only field, or a name the form does not
have, is left out), as typed: a draft need not be complete or valid, the submission is checked
as always. Text longer than a form could take is refused, so that a draft cannot grow without
end. The draft is the holder's own: another person given the step later starts from the form,
not from someone else's unfinished words."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models import HumanTask, TaskDraft
from models.process import OPEN_STATUSES

from . import comments, forms
from .errors import Invalid

EVENT = "task_draft_saved"
MAX_CHARS = 20_000  # one field: a long opinion fits, a pasted document does not (attach it)


def cleaned(form: list[dict], values: dict) -> dict:
    """The values of the form's editable fields, as a draft keeps them: text, or true/false."""
    if not isinstance(values, dict):
        raise Invalid("暂存内容须为 JSON 对象 (a draft is a JSON object of the form's fields)")
    editable = {f["id"]: f for f in form if "readonly" not in f["constraints"]}
    kept = {}
    for fid, value in values.items():
        if fid not in editable or value is None:
            continue
        if not isinstance(value, (str, bool, int, float)):
            raise Invalid(f"「{editable[fid]['label']}」({fid})：暂存内容须为文字 (a draft keeps text)")
        if isinstance(value, str) and len(value) > MAX_CHARS:
            raise Invalid(f"「{editable[fid]['label']}」({fid}) 超过 {MAX_CHARS} 字，无法暂存；长篇材料请作为附件上传 "
                          f"(longer than {MAX_CHARS} characters: attach it as a file)")
        kept[fid] = value
    forms.check_submitted(kept, ("暂存内容", "the draft"))
    return kept


def save(session: Session, task, username: str, values: dict, comment: str, now: datetime) -> TaskDraft:
    """Keep `values` (cleaned) and the comment typed beside them as `username`'s draft of the task."""
    comment = (comment or "").strip()
    if len(comment) > comments.MAX_CHARS:
        raise Invalid(f"留言超过 {comments.MAX_CHARS} 字，无法暂存 (the comment is longer than {comments.MAX_CHARS} characters)")
    if not task.drafted:  # the step's completion will delete its drafts (the version is not moved)
        session.execute(update(HumanTask.__table__).where(HumanTask.id == task.id).values(drafted=True))
    draft = session.get(TaskDraft, (task.id, username))
    if draft is None:
        draft = TaskDraft(task_id=task.id, username=username)
        session.add(draft)
    draft.values_json = json.dumps(values, ensure_ascii=False)
    draft.comment = comment
    draft.saved_at = now
    session.flush()
    return draft


def shown(draft: TaskDraft | None) -> dict | None:
    if draft is None:
        return None
    return {"task_id": draft.task_id, "values": json.loads(draft.values_json), "comment": draft.comment,
            "saved_at": draft.saved_at.isoformat()}


def of(session: Session, task_id: int, username: str) -> dict | None:
    """`username`'s draft of the task, if they saved one and the step is still open."""
    return shown(session.execute(select(TaskDraft).join(HumanTask, HumanTask.id == TaskDraft.task_id).where(
        TaskDraft.task_id == task_id, TaskDraft.username == username,
        HumanTask.status.in_(OPEN_STATUSES))).scalar_one_or_none())


def saved(session: Session, username: str, task_ids: list[int]) -> dict[int, str]:
    """When `username` last saved a draft of each of `task_ids` that has one (the inbox marks them;
    one query by the drafts' key)."""
    if not task_ids:
        return {}
    rows = session.execute(select(TaskDraft.task_id, TaskDraft.saved_at).where(
        TaskDraft.task_id.in_(task_ids), TaskDraft.username == username)).all()
    return {task_id: at.isoformat() for task_id, at in rows}


def discard(session: Session, task_ids: list[int]) -> None:
    """The drafts of steps that were submitted or withdrawn: nobody will finish them."""
    if task_ids:
        session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(task_ids)))

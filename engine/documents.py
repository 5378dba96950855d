"""Files attached to a task (附件): the plan's draft, the risk report, a meeting's record.

The person who holds a task attaches files to it before completing it (Engine.attach); a file
sent again is a new row, the earlier one stays. Each upload's audit event holds the file's
SHA-256, so a file changed in the database afterwards is caught on reading it, by the decision
archive and by `audit verify` (`check`).
"""
from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath
from typing import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Document, HumanTask

from . import file_kinds
from .errors import Invalid, NotFound
from .queries import iso

# 20 MB: a scanned signed plan of a hundred pages; larger material belongs in the records system.
MAX_BYTES = 20 * 1024 * 1024
MAX_NAME = 200
MAX_NAME_BYTES = 255
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # Unicode categories no file name may hold
# What government offices exchange: PDF and OFD (the national fixed-layout format), Word and
# WPS, Excel and ET, plain text, scans as images, and a zip of several.
MEDIA_TYPES = {
    ".pdf": "application/pdf", ".ofd": "application/ofd",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".wps": "application/vnd.ms-works",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".et": "application/vnd.ms-excel",
    ".txt": "text/plain", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".zip": "application/zip",
}
EVENT = "document_attached"
# A user task whose files are part of the record (the draft, the risk report, the legal opinion)
# says so with the extension property attachments = required: it is not completed without one.
PROPERTY, REQUIRED = "attachments", "required"
# A review step that judges the files of earlier steps (备案审查: what 报送备案 and 补充备案材料 sent)
# names them with the extension property filesOf = their user task ids: its page lists their files.
FILES_OF = "filesOf"
# Files sent with one form: what a person attaches to one step; more is a sign of a wrong folder.
MAX_FILES = 10


def checked_all(files: list[tuple[str, bytes]]) -> list[tuple[str, str, bytes]]:
    """(name, media type, content) of each file sent with one action, or Invalid."""
    if len(files) > MAX_FILES:
        raise Invalid(f"一次最多上传 {MAX_FILES} 个附件，本次 {len(files)} 个；请合并为 ZIP 或分次上传 "
                      f"(at most {MAX_FILES} files at a time, {len(files)} given: zip them or send them in turns)")
    return [(*checked(name, content), content) for name, content in files]


def checked(file_name: str, content: bytes) -> tuple[str, str]:
    """(the name to keep, its media type), or Invalid saying what is wrong with the file."""
    name, media_type = checked_name(file_name)
    if not content:
        raise Invalid(f"附件 {name}：文件为空 (the file “{name}” is empty)")
    if len(content) > MAX_BYTES:
        raise too_large(name, len(content))
    suffix = PurePosixPath(name).suffix.lower()
    if (seems := file_kinds.accepted(suffix, content)) is not None:
        raise not_what_it_is_named(name, suffix, seems)
    if (unpacked := file_kinds.unpacked_too_large(content)) is not None:
        size = f"{unpacked / 1024 ** 2:,.0f} MB"
        raise Invalid(f"附件 {name}：解压后达 {size}，远超正常文件（可能是“压缩炸弹”，打开时会耗尽电脑的内存或磁盘），"
                      f"未保存；请确认选对了文件，或拆分后重新上传 (the file “{name}” would unpack to {size}, far more "
                      "than any office file: it may be a zip bomb, which exhausts the memory or disk of the computer "
                      "that opens it. Nothing was saved: check the file, or split it and upload again)")
    return name, media_type


def not_what_it_is_named(name: str, suffix: str, seems: tuple[str, str]) -> Invalid:
    """The refusal of a file whose content is not the kind its extension says: a web page or a
    program named .pdf would be handed to the next person as a PDF."""
    zh, en = seems
    return Invalid(f"附件 {name}：文件名是 {suffix}，但内容看起来是{zh}，不是 {suffix} 文件；请确认选对了文件，"
                   f"或用制作它的程序另存为 {suffix} 后重新上传 (the file is named {suffix} but its content looks "
                   f"like {en}: check that this is the file you meant, or save it as {suffix} from the program "
                   "that made it and upload it again)")


def first_hidden(text: str) -> str | None:
    """The first control or invisible character in `text` (see checked_name), or None."""
    return next((c for c in text if unicodedata.category(c) in _HIDDEN), None)


def checked_name(file_name: str) -> tuple[str, str]:
    """The name to keep and its media type, checked before the content is read."""
    # the name alone, whichever system's folders it came with
    name = PureWindowsPath(PurePosixPath(file_name or "").name).name.strip()
    if not name:
        raise Invalid("附件缺少文件名 (the file has no name)")
    # Control characters (C0, DEL, C1), format characters (a right-to-left override makes
    # "报告\u202efdp.exe" read as "报告exe.pdf"; zero-width ones make two names look alike),
    # line separators and the halves of bytes that are not UTF-8 (a name from another system's
    # code page): shown to the next person as something they are not, or not shown at all.
    hidden = first_hidden(name)
    if hidden is not None:
        shown = "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) in _HIDDEN else c for c in name)
        raise Invalid(f"附件 {shown[:80]}：文件名含有控制字符或不可见字符（U+{ord(hidden):04X}，如从右至左覆盖符、零宽字符），"
                      "或不是 UTF-8 编码，请改名后重新上传 (the file name has a control or invisible character, "
                      f"U+{ord(hidden):04X}, or is not UTF-8: rename it)")
    # 255 bytes: what a file system keeps as one name, so that `document` can save it as it is
    if len(name) > MAX_NAME or len(name.encode()) > MAX_NAME_BYTES:
        raise Invalid(f"附件 {name[:60]}：文件名过长（最多 {MAX_NAME} 个字符、{MAX_NAME_BYTES} 字节，约 85 个汉字），"
                      "请改名后重新上传 "
                      f"(file name longer than {MAX_NAME} characters or {MAX_NAME_BYTES} bytes in UTF-8: rename it)")
    if found := next((c for c in name if c in '<>:"|?*'), None):
        raise Invalid(f"附件 {name[:60]}：文件名含有「{found}」，文件名中不能有 <>:\"|?* 这些字符，请改名后重新上传 "
                      f"(the file name has {found!r}, which a file name cannot have: rename it)")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in MEDIA_TYPES:
        kinds = " ".join(sorted(MEDIA_TYPES))
        raise Invalid(f"附件 {name}：不接受此类文件，请转为 PDF、OFD、Word、WPS 等格式后上传（可接受：{kinds}） "
                      f"(this kind of file is not accepted; accepted: {kinds})")
    return name, MEDIA_TYPES[suffix]


def too_large(name: str, size: int) -> Invalid:
    """The refusal of a file of `size` bytes, its size rounded up: 20 MB and 1 byte is 20.1 MB, not 20."""
    rounded_up = math.ceil(size * 10 / 1024 / 1024) * 1024 * 1024 // 10
    return Invalid(f"附件 {name}：{_megabytes(rounded_up)} MB，超过 {_megabytes(MAX_BYTES)} MB 的上限，请压缩或拆分后上传 "
                   f"(the file is larger than {_megabytes(MAX_BYTES)} MB: compress or split it)")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def required(task_spec) -> bool:
    """Whether the diagram requires a file on this user task (its `attachments` property)."""
    return (task_spec.extensions or {}).get(PROPERTY, "").strip() == REQUIRED


def files_of(task_spec) -> list[str]:
    """The user task ids whose files this task's page lists for its reviewer (its `filesOf` property)."""
    return [part.strip() for part in (task_spec.extensions or {}).get(FILES_OF, "").split(",") if part.strip()]


def missing_on(session: Session, task) -> Invalid | None:
    """The refusal of completing the inbox row `task` of a task that requires a file, when none
    is attached to it."""
    if session.execute(select(Document.id).where(Document.task_id == task.id).limit(1)).first() is not None:
        return None
    return Invalid(f"「{task.name}」须上传附件后才能提交，如方案稿、报告、意见书：reformflow attach {task.id} <文件 FILE> "
                   f"--as {task.assignee}，或提交时加 --attach <文件> (this step needs a file attached before it is "
                   "completed: attach one first, or send it with --attach)")


def add(session: Session, task, name: str, media_type: str, content: bytes, actor: str, now) -> dict:
    """Store the file for the inbox row `task`; returns it as listed."""
    document = Document(instance_id=task.instance_id, task_id=task.id, file_name=name, media_type=media_type,
                        size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content,
                        attached_by=actor, attached_at=now)
    session.add(document)
    session.flush()
    return described(document, task.name, task.element_id, task.status, task.subject)


def sent_again(session: Session, task_id: int, actor: str, name: str, content: bytes, after: int) -> dict | None:
    """The file this upload repeats, if the same person already attached the same content under
    the same name to the same task after file `after` (the newest the page they sent it from
    showed): a reload of that page sent it again. Files are never deleted, so the command returns
    the first instead of keeping a copy."""
    row = session.execute(_LISTED.where(Document.task_id == task_id, Document.attached_by == actor,
                                        Document.file_name == name, Document.size == len(content),
                                        Document.sha256 == hashlib.sha256(content).hexdigest(), Document.id > after)
                          .order_by(Document.id).limit(1)).first()
    return None if row is None else described(*row)


def described(d: Document, task_name: str | None, element_id: str | None, task_status: str | None,
              task_subject: str | None = None) -> dict:
    """A file as listed. `task_status` is its task's now: a file on a task later cancelled (a chase
    withdrawn) says so, as it was never submitted with a completion. `task_subject`: which body's
    step, in a round of reports."""
    return {"id": d.id, "instance_id": d.instance_id, "task_id": d.task_id, "task_name": task_name,
            "task_subject": task_subject,
            "element_id": element_id, "task_status": task_status, "file_name": d.file_name,
            "media_type": d.media_type, "size": d.size, "sha256": d.sha256, "attached_by": d.attached_by,
            "attached_at": iso(d.attached_at)}


_LISTED = select(Document, HumanTask.name, HumanTask.element_id, HumanTask.status, HumanTask.subject).join(
    HumanTask, HumanTask.id == Document.task_id)


def listed(session: Session, instance_id: int, task_id: int | None = None) -> list[dict]:
    """A plan's files (or one task's), oldest first, without their content."""
    query = _LISTED.where(Document.instance_id == instance_id).order_by(Document.id)
    if task_id is not None:
        query = query.where(Document.task_id == task_id)
    return [described(*row) for row in session.execute(query).all()]


def read(session: Session, document_id: int) -> tuple[dict, bytes]:
    """A file and its content, refused when the content no longer matches the SHA-256 its upload
    recorded in the audit trail."""
    found = session.execute(_LISTED.where(Document.id == document_id)).one_or_none()
    if found is None:
        raise NotFound(f"附件 {document_id} 不存在 (no such file: {document_id})")
    document = found[0]
    problem = _problem(document, document.content, _recorded(session, [document.instance_id]).get(document.id))
    if problem:
        raise Invalid(problem + "；请勿使用此文件，并请系统管理员运行 reformflow audit verify 核查 "
                      "(do not use this file; ask the administrator to run reformflow audit verify)")
    return described(*found), document.content


def check(session: Session, instance_id: int | None = None,
          progress: Callable[[int, int, int, int], None] | None = None) -> tuple[int, list[str]]:
    """Every file (of one plan, or all) against the SHA-256 its upload recorded, and each upload
    whose file is gone: (files checked, problems). The content is read a batch of at most
    BATCH_BYTES at a time (one file if it is larger), not held all at once: files run to 20 MB.
    `progress(files, of_files, bytes, of_bytes)` is called after each batch."""
    recorded = _recorded(session, None if instance_id is None else [instance_id])
    query = select(Document.id, Document.size).order_by(Document.id)
    if instance_id is not None:
        query = query.where(Document.instance_id == instance_id)
    sizes = session.execute(query).all()
    total = sum(size for _, size in sizes)
    problems, done, read = [], 0, 0
    columns = (Document.id, Document.instance_id, Document.file_name, Document.sha256, Document.content)
    for batch in _batches(sizes):
        for row in session.execute(select(*columns).where(Document.id.in_(batch)).order_by(Document.id)):
            if problem := _problem(row, row.content, recorded.get(row.id)):
                problems.append(problem)
            done, read = done + 1, read + len(row.content)
        if progress is not None:
            progress(done, len(sizes), read, total)
    present = {document_id for document_id, _ in sizes}
    for document_id, (seq, _sha, name) in sorted(recorded.items()):
        if document_id not in present:
            problems.append(f"附件 {document_id}（{name}）已从数据库中删除，其上传记录见审计事件 {seq} "
                            f"(file {document_id}: removed from the database; its upload is audit event {seq})")
    return len(sizes), problems


BATCH_BYTES = 64 * 1024 * 1024


def _batches(sizes: list) -> Iterator[list[int]]:
    """File ids in order, grouped so that each group's sizes add up to at most BATCH_BYTES."""
    batch, weight = [], 0
    for document_id, size in sizes:
        if batch and weight + size > BATCH_BYTES:
            yield batch
            batch, weight = [], 0
        batch.append(document_id)
        weight += size
    if batch:
        yield batch


def _recorded(session: Session, instance_ids: list[int] | None) -> dict[int, tuple[int, str, str]]:
    """document id -> (audit event seq, SHA-256, file name) of its upload."""
    query = select(AuditEvent.seq, AuditEvent.payload).where(AuditEvent.event_type == EVENT)
    if instance_ids is not None:
        query = query.where(AuditEvent.instance_id.in_(instance_ids))
    found = {}
    for seq, payload in session.execute(query).all():
        new = json.loads(payload).get("new") or {}
        if isinstance(new.get("id"), int):
            found[new["id"]] = (seq, new.get("sha256"), new.get("file_name"))
    return found


def _problem(document, content: bytes, recorded: tuple[int, str, str] | None) -> str | None:
    where = f"附件 {document.id}（{document.file_name}）"
    if recorded is None:
        return (f"{where}没有上传的审计记录，是绕过系统添加的 (file {document.id} has no upload event in the audit "
                "trail: it was added behind the system's back)")
    actual = hashlib.sha256(content).hexdigest()
    if actual != recorded[1] or document.sha256 != recorded[1]:
        return (f"{where}的内容与审计事件 {recorded[0]} 登记的 SHA-256 不符，文件已被改动 (file {document.id}: its "
                f"content does not match the SHA-256 recorded by audit event {recorded[0]}: the file was changed)")
    return None

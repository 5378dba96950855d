"""For auditors and the reform office: verify the audit trail's hash chain and download its
export (as `reformflow audit verify` / `audit export`); and, for whoever may see a plan, its
attached files and its decision archive (as `reformflow documents` / `document` / `archive`).

The CLI's audit commands have no role check (whoever runs them holds the database URL); in the
browser they are for the reform office and the group `auditor` (engine/demo.py: feng).
"""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from engine import clock, display
from engine.archive import decision_archive
from engine.archive_export import write as write_archive
from engine.audit import EXPORT_FIELDS, iter_events, verify
from engine.documents import MEDIA_TYPES
from engine.errors import NotFound, ReformflowError
from models import Document, HumanTask, ProcessInstance

from .refusals import refused

bp = Blueprint("auditor", __name__)

AUDITOR_GROUP = "auditor"
EXPORTS = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
ARCHIVES = ("xlsx", "csv")
_CHUNK = 64 * 1024  # bytes of export text sent at a time: a long trail is never all in memory


def may_audit(person) -> bool:
    return bool(person and person.is_authenticated and (person.office or AUDITOR_GROUP in person.group_codes))


def _may_see_plan(engine, person, instance_id: int) -> bool:
    # Stand-in until web/access.py's may_see_plan lands: the office, auditors, and whoever holds or held one of its tasks.
    return may_audit(person) or _held_a_task(engine, person.username, instance_id)


def _held_a_task(engine, username: str, instance_id: int) -> bool:
    with engine.db.reader() as s:
        return s.execute(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id,
            or_(HumanTask.assignee == username, HumanTask.completed_by == username)).limit(1)).first() is not None


@bp.app_context_processor
def _rights():
    return {"may_audit": may_audit(current_user),
            "may_see_plan_files": lambda instance_id: current_user.is_authenticated
            and _may_see_plan(_engine(), current_user, instance_id)}


@bp.app_template_filter("file_size")
def _file_size(size: int) -> str:
    return display.file_size(size)


def _engine():
    return current_app.extensions["reformflow"]


def _auditors_only() -> None:
    if not may_audit(current_user):
        abort(403)


# ----------------------------------------------------------------- the audit trail
@bp.route("/audit")
@login_required
def audit():
    _auditors_only()
    return render_template("auditor_audit.html", result=None)


@bp.route("/audit/verify", methods=["GET", "POST"])
@login_required
def audit_verify():
    """The whole chain and every attached file, as `audit verify` (a million events take ~80 s).
    Only on the button (POST): a GET, as the language switch sends back here, shows the page."""
    _auditors_only()
    if request.method == "GET":
        return redirect(url_for("auditor.audit"))
    with _engine().db.reader() as s:
        result = verify(s)
    return render_template("auditor_audit.html", result=result.to_dict())


@bp.route("/audit/export.<fmt>")
@login_required
def audit_export(fmt: str):
    _auditors_only()
    if fmt not in EXPORTS:
        abort(404)
    engine = _engine()
    try:
        instance_id = _plan_id(engine, request.args.get("plan", "").strip())
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("auditor.audit")))
    which = f"plan-{instance_id}-" if instance_id is not None else ""
    name = f"reformflow-audit-{which}{clock.today().isoformat()}.{fmt}"
    return Response(_export_chunks(engine, fmt, instance_id), content_type=EXPORTS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff"})


def _plan_id(engine, given: str) -> int | None:
    """A plan named by its id or business key, as `audit export --instance`; empty: the whole trail."""
    if not given:
        return None
    if given.isdigit():  # a whole number is an id, as on the command line
        condition = ProcessInstance.id == int(given) if int(given) < 2**31 else ProcessInstance.id.is_(None)
    else:
        condition = ProcessInstance.business_key == given
    with engine.db.reader() as s:
        found = s.execute(select(ProcessInstance.id).where(condition)).scalar()
    if found is None:
        raise NotFound(f"没有编号或业务编号为 {given} 的方案 (no plan with id or business key {given})")
    return found


def _export_chunks(engine, fmt: str, instance_id: int | None):
    """The export as `audit export` writes it — every field, the payload the exact hashed text —
    in chunks, while people keep working. Events are never changed and are read in order of seq,
    so what is sent is always the chain from its start, on PostgreSQL (read committed) with the
    events added while it streams."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS) if fmt == "csv" else None
    if writer is not None:
        buffer.write("\ufeff")  # the byte-order mark Excel needs to read Chinese, as the CLI writes it
        writer.writeheader()
    with engine.db.reader() as s:
        for row in iter_events(s, instance_id):
            if writer is not None:
                writer.writerow(row)
            else:
                buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
            if buffer.tell() >= _CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


# ----------------------------------------------------------------- a plan's files and archive
def _plan_or_refuse(instance_id: int) -> dict:
    engine = _engine()
    plan = engine.instance(instance_id)  # NotFound for a plan that does not exist
    if not _may_see_plan(engine, current_user, instance_id):
        abort(403)
    return plan


@bp.route("/plans/<int:instance_id>/documents")
@login_required
def documents(instance_id: int):
    try:
        plan = _plan_or_refuse(instance_id)
        files = _engine().documents(instance_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    return render_template("auditor_documents.html", plan=plan, files=files)


@bp.route("/documents/<int:document_id>")
@login_required
def document(document_id: int):
    engine = _engine()
    with engine.db.reader() as s:
        instance_id = s.execute(select(Document.instance_id).where(Document.id == document_id)).scalar()
    if instance_id is None:
        return refused(NotFound(f"附件 {document_id} 不存在 (no such file)"), lambda: redirect(url_for("inbox.tasks")))
    if not _may_see_plan(engine, current_user, instance_id):
        abort(403)
    try:
        meta, content = engine.document(document_id)  # refused if it no longer matches its upload's SHA-256
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("auditor.documents", instance_id=instance_id)))
    media_type = meta["media_type"] if meta["media_type"] in MEDIA_TYPES.values() else "application/octet-stream"
    suffix = PurePosixPath(meta["file_name"]).suffix.lower()  # one of MEDIA_TYPES': plain ASCII
    return _attachment(content, media_type, meta["file_name"], fallback=f"document-{document_id}{suffix}")


@bp.route("/plans/<int:instance_id>/archive.<fmt>")
@login_required
def archive(instance_id: int, fmt: str):
    """The decision archive as `reformflow archive PLAN --output FILE.xlsx|.csv` writes it."""
    if fmt not in ARCHIVES:
        abort(404)
    try:
        plan = _plan_or_refuse(instance_id)
        with _engine().db.reader() as s:
            result = decision_archive(s, instance_id, clock.now())
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    with tempfile.TemporaryDirectory(prefix="reformflow-archive-") as folder:  # tables.save writes a file
        path = Path(folder) / f"archive.{fmt}"
        write_archive(result, str(path))
        content = path.read_bytes()
    key = plan["business_key"] if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", plan["business_key"] or "") else instance_id
    media_type = MEDIA_TYPES[".xlsx"] if fmt == "xlsx" else "text/csv; charset=utf-8"
    return _attachment(content, media_type, f"reformflow-archive-{key}-{clock.today().isoformat()}.{fmt}")


def _attachment(content: bytes, media_type: str, file_name: str, fallback: str | None = None):
    """A download, never shown in the page: even a file that is HTML inside is saved, not run.
    `fallback`: the plain-ASCII name for a browser that cannot read the UTF-8 one (RFC 6266)."""
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=file_name)
    if fallback is not None and not file_name.isascii():
        response.headers["Content-Disposition"] = (f'attachment; filename="{fallback}"; '
                                                   f"filename*=UTF-8''{quote(file_name, safe='')}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

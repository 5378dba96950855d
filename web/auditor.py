"""For auditors and the reform office: verify the audit trail's hash chain and download its
export (as `reformflow audit verify` / `audit export`); and, for whoever may see a plan, its
attached files and its decision archive (as `reformflow documents` / `document` / `archive`).

The CLI's audit commands have no role check (whoever runs them holds the database URL) but
`audit anchor`, which is an auditor's or the reform office's act (`--as`); in the browser they are
for the reform office and the group `auditor` (engine/demo.py: feng), as is the page of the events
that belong to no plan (engine/planless.py).
"""
from __future__ import annotations

import io
import json
import logging
import re
import tempfile
import threading
from pathlib import Path

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import audit_checks, channels, clock, display, planless
from engine.archive import decision_archive
from engine.archive_export import write as write_archive
from engine.audit import CsvExport, ExportCheck, iter_events, latest_export, record_export
from engine.commands import business_key_form
from engine.documents import MEDIA_TYPES
from engine.errors import NotFound, ReformflowError
from engine.trail_text import not_intact, off_clock, said
from models import ProcessInstance

from . import current, field_hints, i18n
from .access import AUDITOR_GROUP, may_see_plan, not_yours
from .downloads import attachment
from .refusals import refused
from .whole_numbers import whole_number

bp = Blueprint("auditor", __name__)

EXPORTS = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
ARCHIVES = ("xlsx", "csv")
WAIT_SECONDS = 3  # how long the button waits for a check before showing its progress instead
_CHUNK = 64 * 1024  # bytes of export text sent at a time: a long trail is never all in memory


def may_audit(person) -> bool:
    return bool(person and person.is_authenticated and (person.office or AUDITOR_GROUP in person.group_codes))


@bp.app_context_processor
def _rights():
    return {"may_audit": may_audit(current_user),
            "may_see_plan_files": lambda instance_id: current_user.is_authenticated
            and may_see_plan(current.engine(), current_user, instance_id)}


@bp.app_template_filter("file_size")
def _file_size(size: int) -> str:
    return display.file_size(size)



def _auditors_only() -> None:
    if not may_audit(current_user):
        abort(403)


# ----------------------------------------------------------------- the audit trail
@bp.route("/audit")
@login_required
def audit():
    _auditors_only()
    engine = current.engine()
    with engine.db.reader() as s:
        exported, found_broken = latest_export(s), latest_export(s, broken=True)
    return render_template("auditor_audit.html", check=None, latest=audit_checks.latest(engine), exported=exported,
                           found_broken=found_broken)


@bp.route("/audit/verify", methods=["GET", "POST"])
@login_required
def audit_verify():
    """Start verifying the whole chain and every attached file, as `audit verify` does, in a thread
    of this worker (a million events take ~80 s: longer than a request may last), and show its
    progress. Only on the button (POST): a GET, as the language switch sends back here, shows the page."""
    _auditors_only()
    if request.method == "GET":
        return redirect(url_for("auditor.audit"))
    engine = current.engine()
    try:
        check = audit_checks.start(engine, current_user.username)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("auditor.audit")))
    if check["started"]:
        worker = threading.Thread(target=_run_check, args=(engine, check["id"]), name=f"audit-check-{check['id']}",
                                  daemon=True)
        worker.start()
        worker.join(WAIT_SECONDS)  # most trails are checked by then: the result at once, no progress page
    else:
        flash(_("已有一次校验正在进行，下面是它的进度。"), "ok")
    return redirect(url_for("auditor.audit_check", check_id=check["id"]))


def _run_check(engine, check_id: int) -> None:
    try:
        audit_checks.run(engine, check_id)
    except Exception:  # written on the check's row for the page; the details for the operator
        logging.getLogger("reformflow.web").exception("audit check %s failed", check_id)


@bp.route("/audit/checks/<int:check_id>")
@login_required
def audit_check(check_id: int):
    """A check's progress (the page reloads itself while it runs) or its result."""
    _auditors_only()
    try:
        check = audit_checks.status(current.engine(), check_id)
    except NotFound:
        abort(404)
    return render_template("auditor_audit.html", check=check, latest=None)


@bp.route("/audit/export.<fmt>")
@login_required
def audit_export(fmt: str):
    _auditors_only()
    if fmt not in EXPORTS:
        abort(404)
    engine = current.engine()
    try:
        instance_id = _plan_id(engine, request.args.get("plan", "").strip())
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("auditor.audit")))
    which = f"plan-{instance_id}-" if instance_id is not None else ""
    name = f"reformflow-audit-{which}{clock.today().isoformat()}.{fmt}"
    return Response(_export_chunks(engine, fmt, instance_id, current_user.username), content_type=EXPORTS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff"})


def _plan_id(engine, given: str) -> int | None:
    """A plan named by its id or business key, as `audit export --instance`; empty: the whole trail."""
    if not given:
        return None
    if (number := whole_number(given)) is not None:  # a whole number is an id, as on the command line
        condition = ProcessInstance.id == number if number < 2**31 else ProcessInstance.id.is_(None)
    else:
        condition = ProcessInstance.business_key == business_key_form(given)
    with engine.db.reader() as s:
        found = s.execute(select(ProcessInstance.id).where(condition)).scalar()
    if found is None:
        raise NotFound(f"没有编号或业务编号为 {given} 的方案 (no plan with id or business key {given})")
    return found


def _export_chunks(engine, fmt: str, instance_id: int | None, who: str):
    """The export as `audit export` writes it — every field, the payload the exact hashed text —
    in chunks, while people keep working. Events are never changed and are read in order of seq,
    so what is sent is always the chain from its start, on PostgreSQL (read committed) with the
    events added while it streams. Once all is sent, the export goes on the trail
    (`audit_exported`, by `who`), as the command line's does."""
    buffer = io.StringIO()
    count, last = 0, None
    check = ExportCheck(whole=instance_id is None)  # a broken chain goes with the export's record (the audit page)
    with engine.db.reader() as s:
        writer = CsvExport(buffer, s) if fmt == "csv" else None
        if writer is not None:
            buffer.write("\ufeff")  # the byte-order mark Excel needs to read Chinese, as the CLI writes it
            writer.header()
        for row in check.watch(iter_events(s, instance_id)):
            count, last = count + 1, row
            if writer is not None:
                writer.row(row)
            else:
                buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
            if buffer.tell() >= _CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    record_export(engine, who, fmt, instance_id, count, last, "web", check)
    yield buffer.getvalue()


@bp.route("/audit/events")
@login_required
def planless_events():
    """The events of no plan (deploys, users, tokens, the calendar, sign-ins, the trail's checks,
    exports and anchors), newest first, a page at a time, by kind and date: what `reformflow audit
    events` lists (engine/planless.py)."""
    _auditors_only()
    args = request.args
    language = i18n.current()
    kinds = [(kind, zh if language == "zh" else en) for kind, (zh, en) in planless.KINDS.items()]
    # the pages before and after this one keep the filters and the page size the auditor chose
    kept = {k: args.get(k) for k in ("type", "since", "until", "limit") if args.get(k)}
    newest = url_for("auditor.planless_events", **kept) if args.get("before") else None
    try:
        filters = planless.checked_filters(args.get("type"), args.get("since"), args.get("until"), args.get("before"),
                                           args.get("limit"))
        with current.engine().db.reader() as s:
            found = planless.planless_events(s, **filters)
    except ReformflowError as exc:
        return refused(exc, lambda: render_template("auditor_events.html", events=[], kinds=kinds, older=None,
                                                  newest=newest))
    events = [dict(e, said=said(e, language, chinese_dates=language == "zh"), via=channels.said(e["channel"], e["token_id"], language),
                   data=json.dumps(e["payload"], ensure_ascii=False, sort_keys=True),
                   untrusted=None if e["intact"] else not_intact(language), late=off_clock(e, language))
              for e in found["events"]]
    older = None
    if found["next_before"]:
        older = url_for("auditor.planless_events", **kept, before=found["next_before"])
    return render_template("auditor_events.html", events=events, kinds=kinds, older=older, newest=newest)


# ----------------------------------------------------------------- a plan's files and archive
def _visible_plan(instance_id: int) -> dict | None:
    """The plan, if the signed-in person may see it; None (answered as not found) otherwise."""
    engine = current.engine()
    return engine.instance(instance_id) if may_see_plan(engine, current_user, instance_id) else None


@bp.route("/plans/<int:instance_id>/documents")
@login_required
def documents(instance_id: int):
    plan = _visible_plan(instance_id)
    if plan is None:
        return not_yours()
    files = current.engine().documents(instance_id)
    return render_template("auditor_documents.html", plan=plan, files=files)


@bp.route("/plans/<int:instance_id>/archive")
@login_required
def archive_page(instance_id: int):
    """The decision archive on one page, to read and to print (or save as PDF) for the paper
    file: the same records, files and check as the downloads."""
    plan = _visible_plan(instance_id)
    if plan is None:
        return not_yours()
    with current.engine().db.reader() as s:
        result = decision_archive(s, instance_id, clock.now())
    return render_template("plan_archive.html", plan=plan, archive=result, answer=field_hints.recorded)


@bp.route("/plans/<int:instance_id>/archive.<fmt>")
@login_required
def archive(instance_id: int, fmt: str):
    """The decision archive as `reformflow archive PLAN --output FILE.xlsx|.csv` writes it."""
    if fmt not in ARCHIVES:
        abort(404)
    plan = _visible_plan(instance_id)
    if plan is None:
        return not_yours()
    with current.engine().db.reader() as s:
        result = decision_archive(s, instance_id, clock.now())
    with tempfile.TemporaryDirectory(prefix="reformflow-archive-") as folder:  # tables.save writes a file
        path = Path(folder) / f"archive.{fmt}"
        write_archive(result, str(path))
        content = path.read_bytes()
    key = plan["business_key"] if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", plan["business_key"] or "") else instance_id
    media_type = MEDIA_TYPES[".xlsx"] if fmt == "xlsx" else "text/csv; charset=utf-8"
    return attachment(content, media_type, f"reformflow-archive-{key}-{clock.today().isoformat()}.{fmt}")

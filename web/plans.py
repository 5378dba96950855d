"""A plan's page: where it stands, its open steps, and its trail (who did what, when), said in the
page's language; and its attached files, downloaded by those who may see the plan."""
from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from engine.documents import MEDIA_TYPES
from engine.errors import NotFound, ReformflowError
from engine.history import plan_history
from engine.trail_text import said

from . import current, i18n
from .access import may_see_plan, not_yours
from .downloads import attachment
from .refusals import back_or, refused

bp = Blueprint("plans", __name__)


@bp.route("/plans/<int:instance_id>")
@login_required
def plan(instance_id: int):
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        view = engine.instance(instance_id)
        with engine.db.reader() as s:
            trail = plan_history(s, instance_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    events = [dict(e, said=said(e, i18n.current())) for e in trail["events"]]
    return render_template("plan.html", plan=view, events=events)


@bp.route("/plans/<int:instance_id>/files/<int:document_id>")
@login_required
def document(instance_id: int, document_id: int):
    """An attached file, always as a download (never shown inline: a file is what someone uploaded,
    not a page of this site), to those who may see its plan."""
    engine = current.engine()
    if not may_see_plan(engine, current_user, instance_id):
        return not_yours()
    try:
        meta, content = engine.document(document_id)
    except NotFound:
        return not_yours()
    except ReformflowError as exc:  # its content no longer matches its upload: said, not served
        return refused(exc, lambda: redirect(back_or(url_for("plans.plan", instance_id=instance_id))))
    if meta["instance_id"] != instance_id:  # another plan's file: as if it did not exist
        return not_yours()
    media_type = meta["media_type"] if meta["media_type"] in MEDIA_TYPES.values() else "application/octet-stream"
    suffix = PurePosixPath(meta["file_name"]).suffix.lower()  # one of MEDIA_TYPES': plain ASCII
    return attachment(content, media_type, meta["file_name"], fallback=f"document-{document_id}{suffix}")

"""A plan's page: where it stands, its open steps, and its trail (who did what, when)."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import login_required

from engine.errors import ReformflowError
from engine.history import plan_history

from .refusals import refused

bp = Blueprint("plans", __name__)


@bp.route("/plans/<int:instance_id>")
@login_required
def plan(instance_id: int):
    from engine.cli import _what  # one wording of the trail for the terminal and the page
    engine = current_app.extensions["reformflow"]
    try:
        view = engine.instance(instance_id)
        with engine.db.reader() as s:
            trail = plan_history(s, instance_id)
    except ReformflowError as exc:
        return refused(exc, lambda: redirect(url_for("inbox.tasks")))
    events = [dict(e, said=_what(e)) for e in trail["events"]]
    return render_template("plan.html", plan=view, events=events)

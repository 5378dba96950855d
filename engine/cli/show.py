"""How tasks, plans, attached files, comments and instants are printed for a person: the lines
several families of commands share (a task reads the same in `tasks`, `claim` and `instance`).
"""
from __future__ import annotations

from datetime import datetime

import click

from .. import clock, display


def _each(nothing: str, show):
    """A list printed for a person: each item by `show`, or the line `nothing` when it is empty."""
    def human(items):
        if not items:
            click.echo(nothing)
        for item in items:
            show(item)
    return human


def _local(value: str) -> str:
    """An instant as a person here reads it (--json keeps the exact instant, in UTC, for scripts)."""
    return display.minute(value)


def _deadline(value: str, active: bool) -> str:
    """A deadline as the day it runs to; an active task past its deadline says so."""
    overdue = active and datetime.fromisoformat(value) <= clock.now()
    return display.deadline(value) + (" 已逾期" if overdue else "")


def _judged_deadline(t: dict, active: bool) -> str:
    """A task's deadline as it is judged: its first when a later one was ordered (限期报送,
    engine/judged_due.py), the ordered one beside it as the ledger says it."""
    judged = t.get("judged_due_at") or t["due_at"]
    if judged == t["due_at"]:
        return _deadline(judged, active)
    ordered = display.deadline(t["due_at"])
    return (display.deadline(judged) + f"（另定期限 {ordered}）(new deadline {ordered})"
            + (" 已逾期" if active and datetime.fromisoformat(judged) <= clock.now() else ""))


_TASK_STATUS = {"open": "待认领 open", "claimed": "已认领 claimed", "completed": "已办结 completed",
                "cancelled": "已撤销 cancelled"}
_PLAN_STATUS = {"running": "办理中 running", "completed": "已办结 completed", "cancelled": "已终止 cancelled",
                "error": "出错 error"}


def _label(labels: dict, status: str) -> str:
    return labels.get(status, status)


def _candidates_text(t) -> str:
    """Who may take an open task: its groups and users, and the unit it is kept to."""
    unit = f"（限 {t['candidate_unit']} only）" if t.get("candidate_unit") else ""
    return ",".join(t["candidate_groups"] + t["candidate_users"]) + unit


def _show_task(t):
    from ..runtime import OPEN_STATUSES
    # a step done: who did it (a delegate's completion is theirs, 代 the holder), not who held it
    who = (t["status"] == "completed" and t.get("completed_by")) or t["assignee"] or _candidates_text(t) or "-"
    active = t["status"] in OPEN_STATUSES
    due = f" 期限 (due) {_judged_deadline(t, active)}" if t["due_at"] else ""
    if active and t.get("due_provisional"):  # engine/provisional.py: it moves when the year's holidays are entered
        due += (" 暂定，按法定节假日和周末计算、调休未录入 (provisional: counted on the statutory holidays and "
                "weekends, no swapped days entered)")
    reminded = f" 已提醒 (reminded) {_local(t['reminded_at'])}" if t.get("reminded_at") else ""
    if t["status"] == "completed" and t.get("completed_at"):
        reminded += f" 办结 (completed) {_local(t['completed_at'])}"
    plan = f" — {t['business_key'] or '#' + str(t['instance_id'])} {t['plan_title'] or ''}".rstrip() \
        if "plan_title" in t else ""  # inbox lists name the plan; a plan's own page need not
    principal = t.get("on_behalf_of")  # 委托办理: a delegate's row or action
    behalf = "" if not principal else f" 代 {principal} (on behalf of)" if principal != who else \
        "（委托您代办 delegated to you）"  # the principal holds it: not "zhang 代 zhang"
    click.echo(f"  待办 (task) {t['id']}：{display.step(t['name'], t['subject'])} ({t['element_id']}) "
               f"[{_label(_TASK_STATUS, t['status'])}] "
               f"{who}{behalf}{due}{reminded}{plan}")


def _show_instance(d):
    click.echo(f"#{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] {d['definition_key']} "
               f"v{d['definition_version']} 业务编号 (business key) {d['business_key'] or '-'}")
    for t in d["tasks"]:
        _show_task(t)


def _show_document(d: dict) -> None:
    cancelled = "（待办已撤销 task cancelled）" if d["task_status"] == "cancelled" else ""
    click.echo(f"  附件 (file) {d['id']}：{d['file_name']}（{display.file_size(d['size'])}）"
               f" 待办 (task) {d['task_id']} {display.step(d['task_name'], d['task_subject'])}{cancelled}，"
               f"{d['attached_by']} 于 {_local(d['attached_at'])} 上传"
               f"  SHA-256 {d['sha256'][:16]}…")


def _show_comment(c: dict) -> None:
    who = f"{c['author_name']} ({c['author']})" if c.get("author_name") else c["author"]
    unit = f"，{c['unit']}" if c.get("unit") else ""
    about = f" 关于待办 (on task) {c['task_id']} {display.step(c['task_name'], c['task_subject'])}" if c["task_id"] else ""
    click.echo(f"  留言 (comment) {c['id']}：{who}{unit} 于 {_local(c['created_at'])}{about}")
    for line in c["text"].splitlines():
        click.echo(f"    {line}")

"""The steps people do: their inboxes, one task's page and form, and claiming, handing back,
assigning, completing and urging a task.
"""
from __future__ import annotations

import json

import click

from .. import clock
from .params import ID, PLAN, acting_user
from .shared import _emit, _json_data, _read_attachments, command, main
from .show import _show_comment, _show_document, _show_task

LIMIT = 50  # tasks listed unless --limit says otherwise: as a page of the web inbox


@command(main, "tasks")
@acting_user()
# the choices are engine.queries.LISTS, written out: importing it here would load SpiffWorkflow
@click.option("--scope", type=click.Choice(["mine", "claimable", "all", "done"]), default="all", show_default=True,
              help="mine 已认领的，claimable 可认领的，all 两者，done 已办（本人办结的，最近的在前） "
                   "(claimed, claimable, both, or done: the steps they completed, latest first).")
@click.option("--instance", "instance_id", type=PLAN, help="只列此方案的，编号或业务编号 (only this plan's: id or business key).")
@click.option("--overdue", is_flag=True, help="只列已逾期的；done 时只列逾期办结的 (only those past their deadline; "
                                                "with done, those completed after it).")
@click.option("--due-soon", is_flag=True, help="只列 5 个工作日内到期、尚未逾期的，按工作日日历 (only those due within "
                                                 "the next 5 working days, by the working-day calendar, not yet overdue).")
@click.option("--find", "text", help="只列方案名称、业务编号或环节名称含此文字的 (only those whose plan title, "
                                     "business key or step name contains this).")
@click.option("--limit", type=click.IntRange(min=0),
              help=f"至多列出几项，0 为全部，默认 {LIMIT}（--json 时默认全部）；已办为最近的，待办为最紧急的 "
                   f"(list at most this many, 0: all; default {LIMIT}, all with --json; the latest done, the "
                   "most urgent open).")
def tasks_cmd(state, as_json, actor, scope, instance_id, overdue, due_soon, text, limit):
    """列出用户的待办或已办 (list a user's inbox, or the steps they completed)."""
    from ..overview import soon_by
    from ..queries import count_listed, list_tasks
    if due_soon and (overdue or scope == "done"):
        raise click.UsageError("--due-soon 不能与 --overdue 或 --scope done 同用 "
                               "(--due-soon goes with neither --overdue nor --scope done)")
    if limit is None:  # a page for a person; a script reading JSON gets everything it asked for
        limit = 0 if as_json else LIMIT
    now = clock.now()
    with state.db.reader() as s:
        window = (now, soon_by(s.connection(), now)) if due_soon else None
        listed = dict(instance_id=instance_id, overdue_at=now if overdue else None, text=(text or "").strip() or None,
                      due_between=window)
        result = list_tasks(s, actor, scope, **listed, limit=limit or None)
        # how many in all: counted only when the list was cut
        total = count_listed(s, actor, scope, **listed) if limit and len(result) == limit else len(result)
    empty = "（没有已办）(nothing completed)" if scope == "done" else "（没有待办）(no tasks)"

    def show(d: dict) -> None:
        for t in d["tasks"]:
            _show_task(t)
        if not d["tasks"]:
            click.echo(empty)
        elif d["total"] > len(d["tasks"]):
            more = d["total"] - len(d["tasks"])
            click.echo(f"……另有 {more} 项未列出，共 {d['total']} 项；--limit 0 列出全部，--limit N 列出 N 项 "
                       f"({more} more not listed, {d['total']} in all: --limit 0 lists them all, --limit N that many)")
    _emit({"tasks": result, "total": total}, as_json, show)



@command(main, "task")
@click.argument("task_id", type=ID)
def task_cmd(state, as_json, task_id):
    """查看一项待办：办理要求、表单字段及当前值、提交示例 (show a task: what to do, its form, how to submit)."""
    _emit(state.engine.task_view(task_id), as_json, _show_task_page)


_FIELD_TYPES = {"string": "文本 string", "long": "整数 long", "boolean": "是/否 boolean", "date": "日期 date",
                "enum": "选项 enum"}


def _range(kind: str, bounds: dict) -> str:
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None:
        return f"{low} 至 (to) {high}"
    if kind == "date":
        return f"不早于 {low} (not before {low})" if low is not None else f"不晚于 {high} (not after {high})"
    return f"不小于 {low} (at least {low})" if low is not None else f"不大于 {high} (at most {high})"


def _show_task_page(t: dict) -> None:
    _show_task(t)
    if t["documentation"]:
        click.echo(f"  办理要求 (what to do)：{t['documentation']}")
    for d in t.get("documents", []):
        _show_document(d)
    if t.get("attachments_required") and not t.get("documents"):
        click.echo("  须上传附件后提交 (a file must be attached before this step is completed)")
    _show_form(t)
    if t["status"] == "claimed":
        click.echo(f"  上传附件 (attach a file)：reformflow attach {t['id']} <文件 FILE> --as {t['assignee']}")


def _show_form(t: dict) -> None:
    from ..runtime import OPEN_STATUSES
    if not t["form"]:
        return
    click.echo("  表单 (form)：")
    editable = {}
    for f in t["form"]:
        c, value, bounds = f["constraints"], t["values"].get(f["id"]), t["bounds"].get(f["id"], {})
        notes = [_FIELD_TYPES.get(f["type"], f["type"])]
        notes += ["只读 read-only"] if "readonly" in c else ["必填 required"] if "required" in c else []
        if bounds:
            notes.append(_range(f["type"], bounds))
        # where a bound came from (the earlier meeting, by name), else the diagram's rule in words
        sources = [bounds[k] for k in ("min_from", "max_from") if bounds.get(k)]
        notes += sources
        if (f.get("properties") or {}).get("rangeHint") and "readonly" not in c and not sources:
            notes.append(f["properties"]["rangeHint"])  # the diagram's rule in words
        for name, zh in (("minlength", "至少"), ("maxlength", "至多")):
            if c.get(name):
                notes.append(f"{zh} {c[name]} 字 ({name} {c[name]})")
        shown = "" if value is None else f" = {json.dumps(value, ensure_ascii=False)}"
        click.echo(f"    {f['label']} {f['id']}（{'，'.join(notes)}）{shown}")
        if f["id"] in t.get("earlier", {}):  # not prefilled: this decision gives its own
            earlier = json.dumps(t["earlier"][f["id"]], ensure_ascii=False)
            click.echo(f"      此前填写 (given earlier)：{earlier}")
        if f["options"]:
            options = " | ".join(f"{o['id']} {o['name']}" for o in f["options"])
            click.echo(f"      取值 (one of)：{options}")
        if "readonly" not in c:
            editable[f["id"]] = "" if value is None else value
    if t["status"] == "open":
        click.echo(f"  先认领 (claim first)：reformflow claim {t['id']} --as <用户名 user>")
    if t["status"] in OPEN_STATUSES:
        data = json.dumps(editable, ensure_ascii=False)
        attach = " --attach <文件 FILE>" if t.get("attachments_required") and not t.get("documents") else ""
        click.echo(f"  提交 (submit)：reformflow complete {t['id']} --as {t['assignee'] or '<用户名 user>'} "
                   f"--data '{data}'{attach}")


def _task_command(name, method, help_text, extra=None):
    @command(main, name, help=help_text)
    @click.argument("task_id", type=ID)
    @acting_user()
    def cmd(state, as_json, task_id, actor, **kw):
        result = getattr(state.engine, method)(task_id, actor=actor, **kw)
        _emit(result, as_json, _show_task)
    return cmd


_task_command("claim", "claim", "认领一项您可办理的待办 (claim a task you are a candidate for).")


@command(main, "unclaim")
@click.argument("task_id", type=ID)
@acting_user()
def unclaim_cmd(state, as_json, task_id, actor):
    """交回已认领的待办 (give a claimed task back to its candidates)."""
    def human(d):
        _show_task(d)
        if d.get("to_assign"):  # kept to a unit with nobody else to claim it: say who can act now
            click.echo(f"  {d['candidate_unit']}无其他在岗人员可认领：您仍可再认领，或由改革办指派：reformflow assign {d['id']} "
                       f"--to 用户名 (nobody else in {d['candidate_unit']} may claim it: claim it again yourself, or the "
                       "reform office assigns it)")
    _emit(state.engine.unclaim(task_id, actor=actor), as_json, human)


@command(main, "assign")
@click.argument("task_id", type=ID)
@click.option("--to", "to", required=True, help="交给谁 (the user to assign to).")
@acting_user()
@click.option("--reassign", is_flag=True, help="从当前办理人手中收回改派 (take the task from the person who holds it).")
def assign_cmd(state, as_json, task_id, to, actor, reassign):
    """把待办指派给用户，限改革办 (assign a task to a user; reform office only)."""
    _emit(state.engine.assign(task_id, to=to, actor=actor, reassign=reassign), as_json, _show_task)


@command(main, "complete")
@click.argument("task_id", type=ID)
@acting_user()
@click.option("--data", help="表单数据，JSON 对象 (form values as a JSON object).")
@click.option("--attach", "paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="随表单一并上传的附件，可重复 (a file to attach with the form, repeatable).")
@click.option("--comment", help="随提交一并留言，关于本环节 (a comment on this step, recorded with the submission).")
def complete_cmd(state, as_json, task_id, actor, data, paths, comment):
    """提交已认领的待办及其表单 (complete a claimed task with its form data)."""
    def human(d):
        _show_task(d)
        for f in d.get("documents", []):
            _show_document(f)
        if d.get("comment"):
            _show_comment(d["comment"])
        for t in d.get("reopened", []):  # a check sent the submission back: say so, not just "completed"
            why = f"（流程图：{'；'.join(t['because'])}）" if t.get("because") else ""
            click.echo(f"  退回本人补充或再次办理 (back to you): 待办 (task) {t['id']}：{t['name']}{why} — 请查看要求后重新提交"
                       " (see what is missing and submit again)")
    _emit(state.engine.complete(task_id, actor=actor, data=_json_data(data), files=_read_attachments(paths),
                                comment=comment), as_json, human)


@command(main, "urge")
@click.argument("task_id", type=ID, metavar="TASK")
@acting_user()
@click.option("--note", help="催办说明，默认「请抓紧办理。」(what you expect; default 请抓紧办理。).")
def urge_cmd(state, as_json, task_id, actor, note):
    """催办：督促任务的办理人尽快办理，记入办理经过，办理人的待办中标出；限改革办 (urge a step's holder: on the trail and marked in their inbox;
    reform office only)."""
    from ..urging import urge
    done = urge(state.engine, task_id, actor=actor, note=note)
    _emit(done, as_json, lambda d: click.echo(
        f"任务 {d['task_id']} 已催办过，未重复记录 (already urged just now: not recorded again)" if d["repeated"]
        else f"已催办任务 {d['task_id']} (urged)：{d['note']}"))

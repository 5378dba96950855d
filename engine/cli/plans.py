"""Plans as a whole: starting one, comments on it, stopping it, its state, 流程图, trail and decision
archive, and the messages and signals that reach it from outside.
"""
from __future__ import annotations

import json

import click

from .. import clock, display
from ..diagram_svg import GATEWAYS
from .params import ID, PLAN, acting_user
from .shared import _emit, _json_data, _written, command, main
from .show import _PLAN_STATUS, _each, _label, _local, _show_comment, _show_instance


@command(main, "start")
@click.argument("key")
@acting_user()
@click.option("--title", help="方案名称 (the plan's title).")
@click.option("--business-key", help="业务编号 (business key).")
@click.option("--data", help="启动变量，JSON 对象 (start variables as a JSON object).")
def start_cmd(state, as_json, key, actor, title, business_key, data):
    """按流程最新版本发起方案 (start a plan on the latest version of a process)."""
    result = state.engine.start(key, actor=actor, title=title, business_key=business_key, data=_json_data(data))
    _emit(result, as_json, _show_instance)


@command(main, "comment")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.argument("text")
@acting_user()
@click.option("--task", "task_id", type=ID, help="所关于的本方案任务编号 (the plan's task the comment is about).")
def comment_cmd(state, as_json, instance_id, text, actor, task_id):
    """在方案上留言（批注），如请起草人补充材料；不办结任何环节，记入办理经过，不能修改或删除
    (comment on a plan, e.g. ask the drafter for a document; completes no step, kept in the trail for good)."""
    _emit(state.engine.comment(instance_id, text, actor=actor, task_id=task_id), as_json, _show_comment)


@command(main, "comments")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def comments_cmd(state, as_json, instance_id):
    """列出方案的留言，按时间先后 (list a plan's comments, oldest first)."""
    _emit(state.engine.comments(instance_id), as_json, _each("此方案没有留言 (no comments on this plan)", _show_comment))


@command(main, "cancel")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.option("--reason", required=True, help="终止理由，记入审计记录 (why the plan is stopped).")
@acting_user()
def cancel_cmd(state, as_json, instance_id, reason, actor):
    """终止方案：误发起、重复发起或情况变化不再办理的，撤销其全部待办，限改革办
    (stop a plan for good: its open tasks are withdrawn; reform office only)."""
    result = state.engine.cancel_plan(instance_id, reason=reason, actor=actor)

    def human(d):
        click.echo(f"已终止方案 (plan stopped) #{d['id']} {d['title']}")
        for t in d["withdrawn"]:
            click.echo(f"  撤销待办 (task withdrawn) {t['task_id']} {t['name']}")
    _emit(result, as_json, human)


@command(main, "migrate")
@click.argument("instance_id", type=PLAN, metavar="[PLAN]", required=False)
@click.option("--process", "key", help="迁移该流程所有仍按旧版本办理的方案，逐个迁移 (move every running plan of this "
                                       "process on an older version, one by one).")
@click.option("--from-version", type=click.IntRange(min=1),
              help="与 --process 同用：只迁移按该版本办理的方案 (with --process: only the plans on this version).")
@click.option("--reason", required=True, help="迁移理由，记入审计记录 (why the plan is moved, recorded in the trail).")
@acting_user()
@click.option("--to-version", type=click.IntRange(min=1), help="目标版本，默认最新版本 (the version to move to; the latest by default).")
@click.option("--dry-run", is_flag=True, help="只显示迁移预览，不做任何更改 (show what the move would do; change nothing).")
def migrate_cmd(state, as_json, instance_id, key, from_version, reason, actor, to_version, dry_run):
    """将进行中的方案迁移到其流程的新版本：当前待办保留办理人，未到达的环节按新版本办理；方案正在调用的流程有新版本的，
    一并迁移；用 --process 可一次迁移一个流程的全部旧版本方案，限改革办
    (move a running plan to a newer version of its process: open steps keep their holders, steps not
    reached follow the new version; a called process the plan is inside moves to its newer version
    too; --process moves every plan of a process on an older version; reform office only)."""
    from ..errors import Invalid
    from .shared import _refuse
    if (instance_id is None) == (key is None):
        raise Invalid("请指定一个方案 PLAN，或用 --process KEY 指定流程 (name one plan, or a process with --process KEY)")
    if from_version is not None and key is None:
        raise Invalid("--from-version 只能与 --process 同用 (--from-version goes with --process)")
    if key is not None:
        return _migrate_many(state, as_json, key, from_version, to_version, reason, actor, dry_run)
    if dry_run:
        preview = state.engine.migration_preview(instance_id, to_version=to_version, actor=actor)
        _emit(preview, as_json, _show_migration)
        if not preview["allowed"]:  # a script sees the refusal in the exit status, as without --dry-run
            _refuse(Invalid("；".join(preview["refusals"])), False)
        return
    result = state.engine.migrate_plan(instance_id, actor=actor, reason=reason, to_version=to_version)

    def human(d):
        m = d["migration"]
        _echo_moved(d, m)
        for step in m["steps"]:
            click.echo(f"  保留待办 (task kept) {step['task_id']} {_renamed(step['old_name'], step['name'])}"
                       f"{_step_changes(step['changes'])}")
    _emit(result, as_json, human)


def _echo_moved(d: dict, m: dict) -> None:
    moved = [f"{d['definition_key']} v{m['from_version']} → v{m['to_version']}"] if m["from_version"] != m["to_version"] else []
    moved += [f"{k} v{v['from']} → v{v['to']}" for k, v in m.get("called_moved", {}).items()]
    click.echo(f"已迁移方案 (plan moved) #{d['id']} {d['title']}：{'，'.join(moved)}")


# per plan of a bulk move: the word said and the exit code it asks for (0: moved)
_OUTCOMES = {"moved": ("已迁移 (moved)", 0), "may_move": ("可迁移 (may move)", 0),
             "refused": ("不能迁移 (refused)", 3), "conflict": ("冲突 (conflict)", 6)}


def _migrate_many(state, as_json, key, from_version, to_version, reason, actor, dry_run):
    """migrate --process: the candidates' previews, then each plan moved in its own transaction
    (one plan refused or in conflict leaves the others moved)."""
    import sys

    from ..errors import Conflict, ReformflowError
    found = state.engine.migration_candidates(key, from_version=from_version, to_version=to_version, actor=actor)
    plans, results = found["plans"], []
    # a long run on a terminal says how far it has got (standard error: the lines stay for scripts)
    progress = sys.stderr.isatty() and len(plans) > 1
    for n, entry in enumerate(plans, 1):
        preview = entry["preview"]
        line = {k: entry[k] for k in ("instance_id", "business_key", "title", "definition_key",
                                      "definition_version", "via_called")}
        line.update(from_version=preview.get("from_version"), to_version=preview.get("to_version"),
                    called_moves={c["key"]: {"from": c["from_version"], "to": c["to_version"]}
                                  for c in preview.get("called", []) if c.get("moves")})
        if not preview["allowed"]:
            line.update(outcome="refused", reasons=preview["refusals"])
        elif dry_run:
            line.update(outcome="may_move")
        else:
            try:
                state.engine.migrate_plan(entry["instance_id"], actor=actor, reason=reason,
                                          to_version=preview["to_version"], expected_version=preview["expected_version"],
                                          expected_called=preview["called_versions"])
                line.update(outcome="moved")
            except Conflict as exc:
                line.update(outcome="conflict", reasons=[exc.message])
            except ReformflowError as exc:
                if exc.kind in ("forbidden", "unavailable"):
                    raise  # not this plan's: the whole run stops (the plans moved so far stay moved)
                line.update(outcome="refused", reasons=[exc.message])
        results.append(line)
        if not as_json:
            _show_outcome(line)
        if progress:
            click.echo(f"迁移进度 (progress)：{n}/{len(plans)}", err=True)
    counts = {o: sum(1 for r in results if r["outcome"] == o) for o in _OUTCOMES}
    summary = {"key": key, "to_version": found["to_version"], "from_version": from_version, "dry_run": dry_run,
               "plans": results, "counts": {k: v for k, v in counts.items() if v or k in ("moved", "refused", "conflict")}}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        done = (f"可迁移 {counts['may_move']} 个 (may move)" if dry_run else f"已迁移 {counts['moved']} 个 (moved)")
        click.echo(f"共 {len(results)} 个方案 (plans)：{done}，不能迁移 {counts['refused']} 个 (refused)，"
                   f"冲突 {counts['conflict']} 个 (conflict)" + ("，未做任何更改 (nothing changed)" if dry_run else ""))
    code = max((_OUTCOMES[r["outcome"]][1] for r in results), default=0)
    if code:
        sys.exit(code)


def _show_outcome(line: dict) -> None:
    said = _OUTCOMES[line["outcome"]][0]
    where = f"{line['definition_key']} v{line['definition_version']}"
    if line["from_version"] is not None and line["to_version"] != line["from_version"]:
        where += f" → v{line['to_version']}"
    for called, v in line["called_moves"].items():
        where += f"，调用流程 (called) {called} v{v['from']} → v{v['to']}"
    click.echo(f"  {said} #{line['instance_id']} {line['business_key'] or '-'} {line['title']}：{where}")
    for reason in line.get("reasons", []):
        click.echo(f"      {reason}")


_STEP_WORDS = {"name": "名称 name", "documentation": "办理说明 instructions", "form": "表单 form",
               "candidates": "候选人 candidates", "lane": "泳道 lane", "due": "期限规则 due-date rule",
               "timer": "定时规则 timer rule"}
_CHANGE = {"added": "新增 (added)", "removed": "删除 (removed)", "changed": "修改 (changed)"}


def _renamed(old: str | None, new: str | None) -> str:
    return f"{old}" if old == new else f"{old} → {new}"


def _step_changes(changes: list[str]) -> str:
    return f"  [按新版本 (now as version) {'、'.join(_STEP_WORDS.get(c, c) for c in changes)}]" if changes else ""


def _recounted(step: dict) -> str:
    """A deadline or timer counted again under the new version's changed rule: old -> new."""
    if not step.get("recounted"):
        return ""
    old, new = (display.deadline(v) if v else "—" for v in (step["recounted"]["old"], step["recounted"]["new"]))
    if old == new:
        return f"  按新规则重算，期限不变 (counted again under the new rule: unchanged) {old}"
    return f"  按新规则重算 (counted again under the new rule) {old} → {new}"


def _show_migration(p: dict) -> None:
    own = (f"{p['key']} v{p['from_version']} → v{p['to_version']}" if p["from_version"] != p["to_version"]
           else f"{p['key']} v{p['from_version']} 不变 (stays)")
    click.echo(f"迁移预览 (migration preview) #{p['instance_id']}：{own}，未做任何更改 (nothing changed)")
    click.echo("  当前环节 (open steps):")
    for s in p["steps"]:
        where = f"  任务 (task) {s['task_id']}" if s["task_id"] else ""
        holder = f"，办理人 (holder) {s['assignee']}" if s["assignee"] else ""
        kept = {"as_is": "保留 (kept)", "missing": "新版本中没有此环节 (not in the new version)"}.get(
            s["kept"], "保留并更新 (kept, updated)")
        if s.get("called"):  # a step of a called process that moves with the plan
            kept += f" [{s['called']}]"
        click.echo(f"    {kept} {s['element_id']} {_renamed(s['name'], s['new_name'] or s['name'])}{where}{holder}"
                   f"{_step_changes(s['changes'])}{_recounted(s)}")
    if p["ahead"]:
        click.echo("  尚未到达的变化 (changes ahead):")
        for c in p["ahead"]:
            click.echo(f"    {_CHANGE[c['change']]} {c['type_name']} ({c['type_name_en']}) {c['element_id']} {c['name'] or ''}".rstrip())
    if p.get("behind"):
        click.echo("  方案已过其位置、不会办理的新增环节 (steps added where the plan has already been: it will not do them):")
        for c in p["behind"]:
            click.echo(f"    {c['type_name']} ({c['type_name_en']}) {c['element_id']} {c['name'] or ''}".rstrip())
    for c in p["called"]:
        if c["from_version"] != c["to_version"]:
            inside = "，方案正在其中办理，一并迁移 (the plan is inside it: it moves)" if c.get("moves") else ""
            click.echo(f"  调用流程 (called process) {c['key']}：v{c['from_version'] or '-'} → v{c['to_version'] or '-'}{inside}")
            for change in c.get("changes", []):
                click.echo(f"    {_CHANGE[change['change']]} {change['type_name']} ({change['type_name_en']}) "
                           f"{change['element_id']} {change['name'] or ''}".rstrip())
    for name, value in p["properties_added"].items():
        click.echo(f"  新增流程属性 (process property added) {name} = {json.dumps(value, ensure_ascii=False)}")
    if p["refusals"]:
        click.echo("  不能迁移 (may not move):")
        for reason in p["refusals"]:
            click.echo(f"    - {reason}")


@command(main, "instance")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def instance_cmd(state, as_json, instance_id):
    """查看方案：状态、流程版本、当前待办、变量 (show a plan: status, version, active tasks, variables)."""
    def human(d):
        _show_instance(d)
        for k, v in sorted(d["variables"].items()):
            click.echo(f"    {k} = {json.dumps(v, ensure_ascii=False)}")
    _emit(state.engine.instance(instance_id), as_json, human)


@command(main, "history")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def history_cmd(state, as_json, instance_id):
    """方案的办理经过：谁在何时做了什么、填了什么 (a plan's trail: who did what, when, and what they entered)."""
    from .. import channels
    from ..history import plan_history
    from ..trail_text import not_intact, off_clock
    with state.db.reader() as s:
        result = plan_history(s, instance_id)

    def human(d):
        click.echo(f"#{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] "
                   f"业务编号 (business key) {d['business_key'] or '-'}")
        for e in d["events"]:
            who = f"{display.then_and_now(e['actor_name'], e.get('actor_name_now'))} ({e['actor']})" if e["actor_name"] else \
                "系统 (system)" if e["actor"] == "system" else e["actor"]
            if e.get("on_behalf_of"):
                who += f"（代 {e['on_behalf_name'] or e['on_behalf_of']} on behalf of {e['on_behalf_of']}）"
            click.echo(f"  {_local(e['occurred_at'])}  {who}  [{channels.said(e['channel'], e['token_id'], 'both')}]  {_what(e)}")
            if late := off_clock(e):  # a date given with --now is not shown as when it happened
                click.echo(f"    {late}")
            if not e["intact"]:
                click.echo(f"    {not_intact()}")
    _emit(result, as_json, human)
    if changed := [e["seq"] for e in result["events"] if not e["intact"]]:
        click.echo(f"reformflow: 事件 {'、'.join(map(str, changed))} 与其哈希不符，所示内容可能被改动；请审计人员运行 "
                   f"reformflow audit verify 核查 (event(s) {', '.join(map(str, changed))} do not match their hashes: "
                   "what is shown may have been changed; have an auditor run reformflow audit verify)", err=True)


def _what(e: dict) -> str:
    """One event of a plan's trail, said in a line: Chinese with the English in brackets
    (engine/trail_text.py says it in one language for the web page)."""
    from ..trail_text import said
    return said(e)


@command(main, "diagram")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.option("--output", type=click.Path(dir_okay=False), required=True,
              help="写入的 .svg 文件 (the .svg file to write).")
@click.option("--process", "key", help="方案已进入的调用流程的标识，默认为方案本身的流程 "
                                       "(a called process the plan entered, by key; by default the plan's own).")
def diagram_cmd(state, as_json, instance_id, output, key):
    """方案的流程图：已办、正在办理、已撤销的环节和走过的连线标上颜色，存为 SVG 文件
    (a plan's diagram with its steps done, in progress and withdrawn and the flows it took marked,
    as an SVG file)."""
    from ..errors import Invalid, NotFound
    from ..output import whole_file
    diagrams = state.engine.plan_diagram(instance_id, standalone=True)
    chosen = next((d for d in diagrams if key is None or d["key"] == key), None)
    if chosen is None:
        entered = ", ".join(d["key"] for d in diagrams)
        raise NotFound(f"方案 {instance_id} 没有进入流程 {key}，已进入：{entered} "
                       f"(the plan has not entered process {key}; it entered: {entered})")
    if chosen["svg"] is None:
        raise Invalid(chosen["problem"])
    with whole_file(output, "流程图", "diagram") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n' + chosen["svg"] + "\n")
    result = {"key": chosen["key"], "name": chosen["name"], "version": chosen["version"], "output": output,
              "steps": [{k: s[k] for k in ("id", "name", "state", "times")} for s in chosen["steps"]
                        if s["state"] and s["kind"] not in GATEWAYS],  # the steps, as before gateways were listed
              "flows_taken": chosen["flows_taken"], "entered": [d["key"] for d in diagrams]}

    def human(r):
        click.echo(f"已写入 {r['name']}（{r['key']} v{r['version']}）的流程图到 {r['output']} (diagram written)")
        for step in r["steps"]:
            said = {"active": "正在办理 (in progress)", "withdrawn": "已撤销 (withdrawn)"}.get(step["state"], "已办 (done)")
            times = f" ×{step['times']}" if step["times"] > 1 else ""
            click.echo(f"  {said}{times}  {step['name']} [{step['id']}]")
        click.echo(f"走过的连线 (flows taken)：{len(r['flows_taken'])} 条")
        others = [k for k in r["entered"] if k != r["key"]]
        if others:
            click.echo(f"方案还进入了 (also entered, --process)：{', '.join(others)}")
    _emit(result, as_json, human)


@command(main, "archive")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.option("--output", type=click.Path(dir_okay=False),
              help="写入 .xlsx 或 .csv 文件，只输出一行摘要 (write the archive to an .xlsx or .csv file; only a one-line summary is printed).")
def archive_cmd(state, as_json, instance_id, output):
    """方案的决策档案：五项法定程序（公众参与、专家论证、风险评估、合法性审查、集体讨论决定）的办理记录及其审计核验
    (a plan's decision archive: the records of the five statutory procedures, checked against the audit trail)."""
    from ..archive import decision_archive
    from ..archive_export import text_lines, write
    with state.db.reader() as s:
        result = decision_archive(s, instance_id, clock.now())
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        records = sum(len(section["records"]) for section in result["sections"])
        _written({"output": output, "id": result["id"], "records": records}, as_json,
                 f"已写入决策档案到 {output}：方案 {result['id']}，{records} 条记录 "
                 f"(decision archive written: {records} record(s))")
        return  # the file holds it: the archive is not printed as well

    def human(d):
        click.echo(f"决策档案 (decision archive) #{d['id']} {d['title']} [{_label(_PLAN_STATUS, d['status'])}] "
                   f"业务编号 (business key) {d['business_key'] or '-'}")
        for line in text_lines(d):
            click.echo(line)
    _emit(result, as_json, human)


@command(main, "message")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
@click.argument("name")
@acting_user()
@click.option("--data", help="随消息发送的变量，JSON 对象 (variables sent with the message).")
def message_cmd(state, as_json, instance_id, name, actor, data):
    """向等待消息 NAME（如 材料补正）的方案发送该消息 (send the message NAME to one plan that waits for it)."""
    from ..events import send_message
    _emit(send_message(state.engine, instance_id, name, actor=actor, data=_json_data(data)),
          as_json, _show_instance)


@command(main, "signal")
@click.argument("name")
@acting_user()
@click.option("--data", help="随信号发送的变量，JSON 对象 (variables sent with the signal).")
def signal_cmd(state, as_json, name, actor, data):
    """向所有等待信号 NAME 的方案广播，限改革办 (broadcast the signal NAME to every waiting plan; reform office only)."""
    from ..events import send_signal
    result = send_signal(state.engine, name, actor=actor, data=_json_data(data))
    _emit(result, as_json, lambda d: click.echo(
        f"信号 {d['signal']} 已送达 {len(d['delivered'])} 个方案 (signal delivered to {len(d['delivered'])} plan(s))"
        + "".join(f"\n  方案 (plan) {r['instance_id']}：{', '.join(r['elements'])}" for r in d["delivered"])))

"""The reform office's reports: the ledger, the quarterly bulletin, the supervision ledger and
the step-time statistics, each printed or written to an .xlsx or .csv file.
"""
from __future__ import annotations

from pathlib import Path

import click

from .. import display
from ..workdays import gap_warning, unlogged
from .params import BadValue, acting_user
from .shared import _emit, _written, command, main
from .show import _PLAN_STATUS, _deadline, _label


@command(main, "ledger")
@click.option("--status", type=click.Choice(["running", "completed", "cancelled", "error", "all"]), default="all",
              show_default=True, help="办理中、已办结、已终止、出错或全部 (running, completed, cancelled, error or all plans).")
@click.option("--colour", type=click.Choice(["red", "yellow", "green"]),
              help="只列此颜色的：red 红、yellow 黄、green 绿 (only plans with this warning).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--process", "process_key", help="只列此流程的方案，如 reform_plan (only plans of this process key).")
@click.option("--year", type=int, help="年度台账，如 2027：当年发起的方案及以前年度结转、1 月 1 日尚未办结的方案；"
                                       "默认为全部方案 (that year's ledger: the plans started in it and those carried "
                                       "over, still open on 1 January; default: every plan).")
@click.option("--by-unit", is_flag=True,
              help="按牵头单位汇总：方案数、红黄绿、延误 (per lead unit: plans, warnings, delays).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="写入 .xlsx 或 .csv 文件，只输出一行摘要 (write the ledger to an .xlsx or .csv file; only a one-line summary is printed).")
def ledger_cmd(state, as_json, status, colour, unit, process_key, year, by_unit, output):
    """改革方案台账：牵头单位、当前环节、期限及三色预警 (the ledger: lead units, current steps, deadlines, warnings).

    红 red：有期限已过而未完成；黄 yellow：曾逾期，已补上；绿 green：均按期
    (red: a deadline missed and still open; yellow: one missed and since made up; green: all on time)."""
    from ..ledger import holder_text
    from ..ledger_export import COLOUR_NAMES, measures_text, missed_text, title, write, write_units
    rows = state.engine.ledger(status=status, colour=colour, unit=unit, process=process_key, year=year)
    if output is not None and by_unit and output.lower().endswith(".csv"):  # one table: the sums asked for
        write_units(rows, output)
        from ..ledger import by_unit as per_unit
        units = len(per_unit(rows))
        _written({"output": output, "plans": len(rows), "units": units}, as_json,
                 f"已写入按牵头单位汇总到 {output}：{units} 个单位，{len(rows)} 个方案 "
                 f"(per-unit sums of {display.counted(len(rows), 'plan')} written)")
        return
    if output is not None:  # "" too: refused, not silently nothing written
        write(rows, output, year=year)
        _written({"output": output, "plans": len(rows), **({} if year is None else {"year": year})}, as_json,
                 f"已写入{'' if year is None else f'{year}年度'}台账 {len(rows)} 个方案到 {output} "
                 f"(ledger of {display.counted(len(rows), 'plan')} written)")
        return  # the file holds it: the ledger is not printed as well
    # a year's ledger names its year; without --year the output is as it always was
    shown = {} if year is None else {"year": year}

    if by_unit:
        from ..ledger import by_unit as per_unit
        _emit({**shown, "units": per_unit(rows)}, as_json, lambda d: [click.echo(
            f"{u['lead_unit'] or '（未填）'}：{u['plans']} 个方案，红 {u['red']}、黄 {u['yellow']}、绿 {u['green']}；"
            f"延误 {u['missed']} 项，共 {u['days_late']} 天{_unit_measures(u, 'zh')} ({display.counted(u['plans'], 'plan')}: "
            f"{u['red']} red, {u['yellow']} yellow, {u['green']} green; {display.counted(u['missed'], 'delay')}, "
            f"{display.counted(u['days_late'], 'day')}"
            f"{_unit_measures(u, 'en')})") for u in d["units"]])
        return

    def human(d):
        if year is not None:
            click.echo(f"{title(year)}：{year} 年发起及以前年度结转（1 月 1 日尚未办结）的方案 "
                       f"(the {year} ledger: plans started in {year} and those carried over, still open on 1 January)")
        for r in d["plans"]:
            who = "，".join(filter(None, [r["lead_unit"], r["responsible_person"]]))
            key = f"{r['business_key']} " if r["business_key"] else ""  # a plan and its implementation share a title
            # coloured on a terminal; click leaves the colour out when the output is a file or a pipe
            tag = click.style(f"[{COLOUR_NAMES[r['colour']]} {r['colour']}]", fg=r["colour"], bold=True)
            carried = " [结转 carried over]" if r["carried_over"] else ""
            click.echo(f"{tag} #{r['id']} {key}{r['title']}{f'（{who}）' if who else ''} "
                       f"[{_label(_PLAN_STATUS, r['status'])}]{carried}")
            for t in r["current"]:
                due = f" 期限 (due) {_deadline(t['due_at'], True)}" if t["due_at"] else ""
                due += _provisional(t) if t["due_at"] else ""
                click.echo(f"    当前 (now)：{display.step(t['name'], t['subject'])}（{holder_text(t, '待认领 (open)')}）{due}")
            if r["milestone_due"]:
                reached = f"，已于 {r['milestone_reached']} 完成 (reached)" if r["milestone_reached"] else \
                    f"，{r['milestone_dropped']} 未获通过，不再办理 (dropped: not approved)" if r["milestone_dropped"] else ""
                click.echo(f"    时间节点 (milestone)：{r['milestone']} 计划 (planned) {r['milestone_due']}{reached}")
            if r["measures"]:
                click.echo(f"    举措 (measures)：{measures_text(r['measures'])}")
            for m in r["missed"]:
                click.echo(f"    延误 (missed)：{missed_text(m, english=True)}")
        counts = {c: sum(r["colour"] == c for r in d["plans"]) for c in COLOUR_NAMES}
        click.echo(f"共 {len(d['plans'])} 个方案：红 {counts['red']}、黄 {counts['yellow']}、绿 {counts['green']} "
                   f"({display.counted(len(d['plans']), 'plan')}: {counts['red']} red, {counts['yellow']} yellow, {counts['green']} green)")
        if carried := sum(r["carried_over"] for r in d["plans"]):
            click.echo(f"其中以前年度结转 {carried} 个 ({carried} carried over from earlier years)")
    _emit({**shown, "plans": rows}, as_json, human)


@command(main, "bulletin")
@click.option("--quarter", help="季度，如 2026Q4 或 2026年第四季度；默认为最近结束的季度 "
                                "(the quarter, e.g. 2026Q4; default: the latest quarter that has ended).")
@click.option("--all", "everything", is_flag=True,
              help="另列其他实施中的方案（月报，不经专项小组审核） (also the other plans in implementation).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="写入 .xlsx 或 .csv 文件，只输出一行摘要 (write the bulletin to an .xlsx or .csv file; only a one-line summary is printed).")
def bulletin_cmd(state, as_json, quarter, everything, unit, output):
    """季度通报：季末报专项小组审核的方案本季度进度表的报送、审核及季末预警
    (the quarterly bulletin: each quarterly plan's table for the quarter, filed and reviewed or not).

    逾期未报送、未审核通过、迟报的方案标【！】列在前面
    (plans whose table is missing, not approved or late are marked and listed first)."""
    from ..bulletin_export import lines, write
    result = state.engine.bulletin(quarter, everything=everything, unit=unit)
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["plans"]) + len(result.get("others", []))
        _written({"output": output, "plans": count, "quarter": result["label"]}, as_json,
                 f"已写入{result['label']}通报 {count} 个方案到 {output} "
                 f"(bulletin of {display.counted(count, 'plan')} written)")
        return  # the file holds it: the bulletin is not printed as well
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])


@command(main, "supervision")
@click.option("--year", type=int, help="年度，如 2027：列当年实施中的方案；默认为现在实施中的方案 "
                                       "(the plans in implementation during that year; default: those now).")
@click.option("--unit", help="只列牵头单位名称含此文字的 (only plans whose lead unit contains this text).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="写入 .xlsx 或 .csv 文件，只输出一行摘要 (write the ledger to an .xlsx or .csv file; only a one-line summary is printed).")
def supervision_cmd(state, as_json, year, unit, output):
    """督察整改台账：实施中方案的督察、整改意见书及整改、复核、复查、约谈情况
    (the supervision and rectification ledger of the plans in implementation).

    逾期未督察、整改逾期未报告的方案标【！】列在前面
    (plans not supervised by their due date and rectifications past their deadline are marked and listed first)."""
    from ..supervision_export import lines, write
    result = state.engine.supervision(year=year, unit=unit)
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["plans"])
        _written({"output": output, "plans": count}, as_json,
                 f"已写入督察整改台账 {count} 个方案到 {output} "
                 f"(supervision ledger of {display.counted(count, 'plan')} written)")
        return  # the file holds it: the ledger is not printed as well
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])


@command(main, "overview")
@acting_user()
def overview_cmd(state, as_json, actor):
    """工作台：本年度台账红黄绿、已逾期和 5 个工作日内到期的环节、逾期最多的单位、备案、待认领、督察整改；限改革办
    (the overview: this year's ledger by colour, steps overdue and due within 5 working days, the
    units most behind, filings, tasks to claim, rectifications; reform office only)."""
    result = state.engine.overview(actor)
    _emit(result, as_json, _overview_lines)


def _overview_lines(d: dict) -> None:
    led, soon, files, sup = d["ledger"], d["due_soon"], d["filings"], d["supervision"]
    lines = [
        f"{d['year']} 年度工作台，截至 {display.minute(d['as_of'])} (the {d['year']} overview as of "
        f"{display.minute(d['as_of'])})",
        f"台账 (ledger)：{led['plans']} 个方案，红 {led['red']}、黄 {led['yellow']}、绿 {led['green']}，其中结转 "
        f"{led['carried_over']} ({display.counted(led['plans'], 'plan')}: {led['red']} red, {led['yellow']} yellow, "
        f"{led['green']} green; {led['carried_over']} carried over)",
        f"已逾期 (overdue)：{d['overdue']['count']} 个环节 ({display.counted(d['overdue']['count'], 'step')})",
        f"即将到期 (due soon)：{soon['count']} 个环节在 {soon['working_days']} 个工作日内（至 {soon['until']}）到期 "
        f"({display.counted(soon['count'], 'step')} due by {soon['until']})",
        f"待认领 (to claim)：{d['claimable']} 个任务 ({display.counted(d['claimable'], 'task')})",
        f"备案 (filings)：已逾期 {files['overdue']}，即将到期 {files['due_soon']} "
        f"({files['overdue']} overdue, {files['due_soon']} due soon)",
        f"督察整改 (supervision)：整改未销号 {sup['rectifications_open']}，整改逾期 {sup['rectifications_overdue']}，"
        f"逾期未督察 {sup['supervisions_overdue']} ({display.counted(sup['rectifications_open'], 'rectification')} open, "
        f"{sup['rectifications_overdue']} overdue; {display.counted(sup['supervisions_overdue'], 'supervision')} overdue)",
    ]
    for i, gap in enumerate(d["calendar_gaps"], 1):  # at the top, where it cannot be missed
        steps = (f"{gap['steps']} 个未办结环节以工作日计的期限在 {gap['year']} 年 "  # none yet: the year alone
                 f"({display.counted(gap['steps'], 'open step')} counted in working days due in {gap['year']})；"
                 if gap["steps"] else "")
        lines.insert(i, f"警告 (warning)：{steps}{gap_warning(gap['year'])}")
    if d.get("timers_behind"):  # at the top too, after the calendar's: the figures are stale while the worker is stopped
        at = display.minute(d["timers_behind"])
        lines.insert(1 + len(d["calendar_gaps"]), f"警告 (warning)：自 {at} 起有方案的定时器到期而尚未触发，定时器工作进程似乎已停止，请系统管理员检查 "
                        f"reformflow-worker，见 docs/operations.md (timers due since {at} have not fired: the timer "
                        f"worker seems stopped; ask the administrator to check reformflow-worker, docs/operations.md)")
    for u in d["units"]["top"]:
        lines.append(f"    逾期 (overdue)：{u['lead_unit'] or '（未填）'} {u['overdue']} 个环节，涉及 {u['plans']} 个方案 "
                     f"({display.counted(u['overdue'], 'step')} in {display.counted(u['plans'], 'plan')})")
    for t in d["overdue"]["tasks"]:
        # a deadline with a time of day missed earlier today is late by no whole day: no "0 days"
        late = (f"逾期 {t['days_late']} 天 ({display.counted(t['days_late'], 'day')} late)" if t["days_late"]
                else "逾期 (late)")
        lines.append(f"    {late}：#{t['task_id']} {display.step(t['name'], t['subject'])}，{t['title']}，"
                     f"期限 (due) {display.deadline(t['due_at'])}{_provisional(t)}{_ordered(t)}")
    for t in soon["tasks"]:
        lines.append(f"    即将到期 (due soon)：#{t['task_id']} {display.step(t['name'], t['subject'])}，{t['title']}，"
                     f"期限 (due) {display.deadline(t['due_at'])}{_provisional(t)}{_ordered(t)}")
    for line in lines:
        click.echo(line)


def _ordered(step: dict) -> str:
    """The deadline ordered after the one a step is judged by (限期报送), as the ledger says it beside it."""
    ordered = step.get("ordered_due_at")
    return f"（另定期限 {display.deadline(ordered)}）(new deadline {display.deadline(ordered)})" if ordered else ""


def _provisional(step: dict) -> str:
    """A step's deadline counted over a year with no holidays entered (engine/provisional.py), as `tasks` marks it."""
    return " 暂定 (provisional)" if step.get("due_provisional") else ""


@command(main, "stats")
@acting_user()
@click.option("--since", help="统计办结日期自此日起，如 2026-01-01；默认为今年 1 月 1 日 "
                              "(count the steps completed from this date; default: 1 January this year).")
@click.option("--until", help="至此日止（含），如 2026-12-31；默认为该年 12 月 31 日 "
                              "(up to and including this date; default: 31 December of that year).")
@click.option("--process", "process_key", help="只统计此流程的环节，如 legality_review (only the steps of this process key).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table", show_default=True,
              help="table 逐行列出；csv 输出到标准输出或 --output；xlsx 须给 --output "
                   "(table: a line a step; csv: to standard output or --output; xlsx: needs --output).")
@click.option("--by-unit", is_flag=True,
              help="按牵头单位汇总：办结数、工作日中位数、逾期办结、在办逾期 (per lead unit: completed, median, late, overdue).")
@click.option("--output", type=click.Path(dir_okay=False),
              help="写入 .xlsx 或 .csv 文件，只输出一行摘要 (write the statistics to an .xlsx or .csv file; only a one-line summary is printed).")
def stats_cmd(state, as_json, actor, since, until, process_key, fmt, by_unit, output):
    """办理时效统计：各流程各环节办结数、办理用时（工作日、自然日的中位数、90% 分位数、最长）、逾期办结及在办逾期，最慢的环节在前；限改革办
    (how long each step takes: steps completed, median, 90th percentile and longest time in working and
    calendar days, late completions, open and overdue steps; the slowest step first; reform office only)."""
    from .. import step_times_export as export
    if fmt == "xlsx" and output is None:
        raise BadValue("须与 --output FILE.xlsx 同用", "needs --output FILE.xlsx", click.get_current_context(),
                       param_hint="'--format xlsx'")
    if fmt != "table" and output is not None and not output.lower().endswith(f".{fmt}"):
        raise BadValue(f"--format {fmt} 的文件须以 .{fmt} 结尾：{output}", f"--format {fmt} writes a .{fmt} file",
                       click.get_current_context(), param_hint="'--output'")
    with unlogged():  # said below, once, with what it means for the figures
        result = state.engine.step_times(actor, since=since, until=until, process=process_key)
    for year in result["calendar_gaps"]:  # on standard error, whatever the output: the figures are provisional
        click.echo(f"警告 (warning)：{year} 年的工作日用时暂按法定节假日和周末计算，录入该年放假和调休安排后会变 (working "
                   f"days in {year} are counted on the statutory holidays and weekends until its schedule is "
                   f"entered)；{gap_warning(year)}", err=True)
    # --by-unit: a .csv holds one table, the per-unit figures asked for (an .xlsx has both sheets)
    write = export.write_units if by_unit and (output is None or output.lower().endswith(".csv")) else export.write
    if output is not None:  # "" too: refused, not silently nothing written
        write(result, output)
        count = len(result["steps"])
        _written({"output": output, "steps": count}, as_json,
                 f"已写入办理时效统计 {count} 个环节到 {output} "
                 f"(statistics of {display.counted(count, 'step')} written)")
        return  # the file holds them: the table is not printed as well
    if fmt == "csv" and not as_json:
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "stats.csv"
            write(result, str(path))
            click.echo(path.read_text(encoding="utf-8-sig"), nl=False)
        return
    lines = export.unit_lines if by_unit else export.lines
    _emit(result, as_json, lambda d: [click.echo(line) for line in lines(d)])


def _unit_measures(unit: dict, language: str) -> str:
    """A lead unit's measures in implementation, if it has any."""
    if not unit["measures"]:
        return ""
    if language == "zh":
        return f"；举措 {unit['measures']} 项，已完成 {unit['measures_done']} 项"
    return f"; {display.counted(unit['measures'], 'measure')}, {unit['measures_done']} done"

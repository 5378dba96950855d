"""The decision archive as a file for the archive clerk: .xlsx (the plan and the check of its
records above one table, a section per statutory procedure) or .csv (the table alone); and as
the lines `reformflow archive` prints. Each says a record the same way: who acted for whom and
for which unit, when, and when it was written if that is far from it."""
from __future__ import annotations

from .archive import OTHER, TOLERANCE_MINUTES
from .display import counted, entered, minute, step, then_and_now
from .tables import STATUS_NAMES, header_row, save, wrap, xlsx_text

HEADERS = ("决策程序", "办理时间", "办理人", "所在单位", "办理环节", "填报内容", "附件", "审计事件号", "事件哈希")
_WIDTHS = (14, 17, 10, 18, 28, 70, 30, 10, 20)


def write(archive: dict, path: str) -> None:
    table = rows(archive)
    save(path, ("决策档案", "decision archive"), HEADERS, table, lambda book: _fill(book, archive, table))


def rows(archive: dict) -> list[list]:
    """One row per record, section by section; a procedure without records says so."""
    table = []
    for section in archive["sections"]:
        if not section["records"]:
            if section["code"] != "other":
                table.append([section["name"], "", "", "", state_text(section)[0], "", "", "", ""])
            continue
        for r in section["records"]:
            table.append([section["name"], when_text(r), who_text(r), unit_text(r), step(r["name"], r["subject"]),
                          values_text(r["values"]), files_text(r["documents"]), r["seq"], r["hash"]])
    if stop := archive.get("stop"):  # the plan stopped: the last record of the file
        table.append([STOP, when_text(stop), who_text(stop), unit_text(stop), stop_text(stop), "", "",
                      stop["seq"], stop["hash"]])
    for d in archive["other_documents"]:  # on a step not completed: under the other records
        table.append([OTHER[1], minute(d["attached_at"]), d["attached_by"], "", f"{step(d['task_name'], d['task_subject'])}（{step_state(d)}）",
                      "", files_text([d]), "", ""])
    return table


def state_text(section: dict) -> tuple[str, str]:
    """A procedure without records, as the archive page and a task's 送审材料一览 say it (Chinese,
    English): 不需要 and why, 办理中, 尚未到达 or 无记录 (engine/archive.py, Records.states)."""
    state, reason = section.get("state"), section.get("reason")
    if state == "not_needed":
        return (f"不需要（{reason}）", f"not needed: {reason}") if reason else \
            ("不需要（流程中没有此程序的环节）", "not needed: the plan's diagrams have no step of it")
    if state == "open":
        return "办理中，尚无记录", "in progress, no record yet"
    if state == "not_reached":
        return "尚未到达，无记录", "not reached yet, no record"
    return "无记录", "none"


def step_state(d: dict) -> str:
    """Why a file is not under a record: its step is not completed."""
    return "待办已撤销，附件" if d["task_status"] == "cancelled" else "尚未办结，附件"


STOP = "终止方案"


def who_text(r: dict) -> str:
    """Who acted, and for whom if they stood in (委托办理): 周杰（代 李娜）."""
    who = r["actor_name"] or ("系统" if r["actor"] == "system" else r["actor"])
    who = then_and_now(who, r.get("actor_name_now"))
    if r.get("on_behalf_of"):
        who += f"（代 {r['on_behalf_name'] or r['on_behalf_of']}）"
    return who


def unit_text(r: dict) -> str:
    """The unit the step was done for: a stand-in's colleague's (the legality review is the
    法制机构's, not the stand-in's office), the stand-in's own in brackets."""
    own, principal = r["actor_unit"] or "", r.get("on_behalf_unit")
    # compared as they were, then said with today's beside: a stand-in of the principal's own unit
    # who has since moved is that unit （现属 …）, not 代办人单位 of itself
    shown = then_and_now(own, r["actor_unit_now"], "现属") if own and r.get("actor_unit_now") else own
    if not principal or principal == own:
        return shown
    return f"{principal}（代办人单位：{shown}）" if own else principal


def when_text(r: dict) -> str:
    """The time the record states; also when it was written, if far from it."""
    stated = minute(r["occurred_at"])
    return f"{stated}（实际写入 {minute(r['recorded_at'])}）" if r.get("off_clock") else stated


def stop_text(stop: dict) -> str:
    """The reform office's stop: why, and the steps it withdrew."""
    text = f"终止方案，理由：{stop['reason'] or '未写明'}"
    if stop["withdrawn"]:
        text += f"；撤销待办：{'、'.join(stop['withdrawn'])}"
    return text


def answer(value: dict) -> str:
    """An entered value as the form showed it: a choice by its name, not its id."""
    return value["option"] or entered(value)


def values_text(values: list[dict]) -> str:
    return "；".join(f"{v['label']}：{answer(v)}" for v in values)


def files_text(files: list[dict]) -> str:
    """The files attached to a record's task, each with its SHA-256 to compare a copy with."""
    return "；".join(f"{d['file_name']}（附件 {d['id']}，SHA-256 {d['sha256']}）" for d in files)


def verified_text(verified: dict) -> str:
    """The check in Chinese, as the file says it."""
    if not verified["ok"]:
        return "发现问题：" + "；".join(verified["problems"])
    stop = verified.get("stop_checked")
    if not verified["events"]:
        return "无办理记录" + ("；终止记录与审计链相符" if stop else "")
    return f"{verified['events']} 条记录{'及终止记录' if stop else ''}均与审计链相符"


def verified_line(verified: dict) -> str:
    """The check as the command line says it, the English in brackets."""
    if not verified["ok"]:
        return "发现问题 (problems)：" + "；".join(verified["problems"])
    n, stop = verified["events"], verified.get("stop_checked")
    if not n:
        english = "no records" + ("; the stop matches the audit chain" if stop else "")
    else:
        english = (f"{counted(n, 'record')}{' and the stop' if stop else ''} "
                   f"{'matches' if n == 1 and not stop else 'match'} the audit chain")
    return f"{verified_text(verified)} ({english})"


def text_lines(archive: dict) -> list[str]:
    """The archive as `reformflow archive` prints it under its title line."""
    lines = [f"  核验 (check)：{verified_line(archive['verified'])}"]
    if not archive["classified"]:
        lines.append("  此方案的流程图未标注法定决策程序（用户任务属性 procedure），全部记录列为其他办理记录 "
                     "(the plan's diagrams name no statutory procedure: every record is under other records)")
    for number, section in enumerate(archive["sections"], start=1):
        count = len(section["records"])
        if section["code"] == "other" and not count:
            continue
        lines.append(f"{number}. {section['name']} ({section['name_en']})："
                     + (f"{count} 条记录 ({counted(count, 'record')})" if count else "{} ({})".format(*state_text(section))))
        for r in section["records"]:
            lines.append(_record_line(r, step(r["name"], r["subject"])))
            if r["values"]:
                lines.append(f"      {values_text(r['values'])}")
            for f in r["documents"]:
                lines.append(f"      附件 (file) {f['id']}：{f['file_name']}  SHA-256 {f['sha256'][:16]}…")
            lines += _off_clock_note(r)
    if stop := archive.get("stop"):
        lines.append(f"{STOP} (plan stopped)：")
        lines.append(_record_line(stop, f"理由 (reason)：{stop['reason'] or '未写明'}"))
        if stop["withdrawn"]:
            lines.append(f"      撤销待办 (steps withdrawn)：{'、'.join(stop['withdrawn'])}")
        lines += _off_clock_note(stop)
    if archive["other_documents"]:
        lines.append("附件，其办理环节尚未办结或已撤销 (files on steps not completed)：")
        for f in archive["other_documents"]:
            lines.append(f"    {minute(f['attached_at'])}  {f['attached_by']}  "
                         f"{step(f['task_name'], f['task_subject'])}（{step_state(f)}）"
                         f"  附件 (file) {f['id']}：{f['file_name']}  SHA-256 {f['sha256'][:16]}…")
    return lines


def _record_line(r: dict, what: str) -> str:
    """A record's first line: when, who for whom and for which unit, what, and its event."""
    unit = unit_text(r)
    return (f"    {minute(r['occurred_at'])}  {who_text(r)}（{r['actor']}{'，' + unit if unit else ''}）  {what}"
            f"  [审计事件 (event) {r['seq']}]")


def _off_clock_note(r: dict) -> list[str]:
    """When a record was really written, if far from the time it states (--now, a fixed clock)."""
    if not r.get("off_clock"):
        return []
    written = minute(r["recorded_at"])
    return [f"      注意：实际写入于 {written}，与所记时间相差超过 {TOLERANCE_MINUTES} 分钟 (note: written at "
            f"{written}, more than {TOLERANCE_MINUTES} minutes from the time it states)"]


def end_label(status: str) -> str:
    """A stopped plan did not finish: its end is when it was stopped."""
    return "终止时间" if status == "cancelled" else "办结时间"


def _fill(book, archive: dict, table: list[list]) -> None:
    sheet = book.active
    sheet.title = "决策档案"
    about = [("方案名称", archive["title"]), ("业务编号", archive["business_key"] or ""),
             ("牵头单位", archive["lead_unit"] or ""), ("状态", STATUS_NAMES.get(archive["status"], archive["status"])),
             ("发起时间", minute(archive["started_at"])),
             (end_label(archive["status"]), minute(archive["ended_at"]) if archive["ended_at"] else ""),
             ("导出时间", minute(archive["exported_at"])), ("核验", verified_text(archive["verified"]))]
    for label, value in about:
        sheet.append([label, xlsx_text(value)])
    sheet.append([])
    header_row(sheet, HEADERS, _WIDTHS)
    first = sheet.max_row + 1
    for cells in table:
        sheet.append(cells)
    wrap(sheet, first)

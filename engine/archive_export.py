"""The decision archive as a file for the archive clerk: .xlsx (the plan and the check of its
records above one table, a section per statutory procedure) or .csv (the table alone)."""
from __future__ import annotations

from .archive import OTHER
from .display import counted, entered, minute, step
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
                table.append([section["name"], "", "", "", "无记录", "", "", "", ""])
            continue
        for r in section["records"]:
            who = (r["actor_name"] or r["actor"]) + (f"（代 {r['on_behalf_name'] or r['on_behalf_of']}）"
                                                     if r.get("on_behalf_of") else "")  # 委托办理
            table.append([section["name"], minute(r["occurred_at"]), who,
                          r["actor_unit"] or "", step(r["name"], r["subject"]), values_text(r["values"]), files_text(r["documents"]),
                          r["seq"], r["hash"]])
    for d in archive["other_documents"]:  # on a step not completed: under the other records
        table.append([OTHER[1], minute(d["attached_at"]), d["attached_by"], "", f"{step(d['task_name'], d['task_subject'])}（{step_state(d)}）",
                      "", files_text([d]), "", ""])
    return table


def step_state(d: dict) -> str:
    """Why a file is not under a record: its step is not completed."""
    return "待办已撤销，附件" if d["task_status"] == "cancelled" else "尚未办结，附件"


def values_text(values: list[dict]) -> str:
    return "；".join(f"{v['label']}：{entered(v)}" for v in values)


def files_text(files: list[dict]) -> str:
    """The files attached to a record's task, each with its SHA-256 to compare a copy with."""
    return "；".join(f"{d['file_name']}（附件 {d['id']}，SHA-256 {d['sha256']}）" for d in files)


def verified_text(verified: dict) -> str:
    if verified["ok"]:
        return (f"{verified['events']} 条记录均与审计链相符 ({counted(verified['events'], 'record')} "
                f"{'matches' if verified['events'] == 1 else 'match'} the audit chain)")
    return "发现问题 (problems)：" + "；".join(verified["problems"])


def _fill(book, archive: dict, table: list[list]) -> None:
    sheet = book.active
    sheet.title = "决策档案"
    about = [("方案名称", archive["title"]), ("业务编号", archive["business_key"] or ""),
             ("牵头单位", archive["lead_unit"] or ""), ("状态", STATUS_NAMES.get(archive["status"], archive["status"])),
             ("发起时间", minute(archive["started_at"])),
             ("办结时间", minute(archive["ended_at"]) if archive["ended_at"] else ""),
             ("导出时间", minute(archive["exported_at"])), ("核验", verified_text(archive["verified"]))]
    for label, value in about:
        sheet.append([label, xlsx_text(value)])
    sheet.append([])
    header_row(sheet, HEADERS, _WIDTHS)
    first = sheet.max_row + 1
    for cells in table:
        sheet.append(cells)
    wrap(sheet, first)

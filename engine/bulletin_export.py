"""The quarterly bulletin said for people: its lines on the command line and its file (.xlsx with
the standing and warning cells filled in their colours, or .csv, engine/tables.py). One row per
plan, the plans under quarterly reporting first, then (--all) the other plans in implementation."""
from __future__ import annotations

from .display import counted, deadline, minute
from .ledger_export import COLOUR_NAMES
from .tables import STATUS_NAMES, colour_cell, header_row, save, title_row, wrap

STANDING_NAMES = {"missing": ("逾期未报送", "not filed, overdue"),
                  "unreviewed": ("未审核通过", "not approved by the special group yet"),
                  "late": ("迟报", "filed late"), "on_time": ("按期报送", "filed on time"),
                  "due": ("未到报送期限", "not due yet"),
                  "not_required": ("举措已全部完成，无需报送", "every measure done: no table due"),
                  "cancelled": ("方案已终止", "plan cancelled")}
REVIEW_NAMES = {"approved": ("审核通过", "approved"), "awaiting": ("待专项小组审核", "awaiting review"),
                "returned": ("退回修改中", "returned for revision"), "not_started": ("未送审", "not submitted")}
HEADERS = ("类别", "编号", "业务编号", "方案名称", "牵头单位", "责任人", "报送情况", "报告月份", "报送期限",
           "报送时间", "迟报天数", "审核情况", "退回次数", "审核时间", "审核意见", "举措数", "已完成", "已启动未完成",
           "未启动", "本季度进展", "存在的问题和困难", "季末预警", "方案状态")
KINDS = ("季末报专项小组审核", "其他实施中方案")
# the cells filled in colour, in the file and on the web page (web/reports.py)
STANDING_FILLS = {"missing": "red", "unreviewed": "yellow", "late": "yellow", "on_time": "green"}
_WIDTHS = (10, 6, 14, 30, 16, 10, 14, 9, 12, 17, 8, 14, 8, 17, 28, 7, 7, 7, 7, 36, 30, 8, 8)


def write(result: dict, path: str) -> None:
    """Write the bulletin to `path`, its format from the extension."""
    rows = _rows(result)
    table = [_cells(row, kind) for row, kind in rows]
    save(path, ("季度通报", "bulletin"), HEADERS, table, lambda book: _fill(book, result, rows, table))


def _rows(result: dict) -> list[tuple[dict, str]]:
    return [(row, KINDS[0]) for row in result["plans"]] + [(row, KINDS[1]) for row in result.get("others", [])]


def _fill(book, result: dict, rows: list, table: list[list]) -> None:
    sheet = book.active
    sheet.title = "季度通报"
    title_row(sheet, f"{result['label']}改革项目进展通报（截至 {minute(result['as_of'])}）")
    header_row(sheet, HEADERS, _WIDTHS)
    standing, warning = HEADERS.index("报送情况") + 1, HEADERS.index("季末预警") + 1
    for line, ((row, _kind), cells) in enumerate(zip(rows, table), start=sheet.max_row + 1):
        sheet.append(cells)
        colour_cell(sheet, line, standing, STANDING_FILLS.get(row["standing"]))
        colour_cell(sheet, line, warning, row["colour"])
    wrap(sheet, 3)
    sheet.auto_filter.ref = f"A2:{sheet.cell(sheet.max_row, len(HEADERS)).coordinate}"


def _cells(row: dict, kind: str) -> list:
    table, review = row["table"] or {}, row["review"]
    return [kind, row["id"], row["business_key"] or "", row["title"], row["lead_unit"] or "",
            row["responsible_person"] or "", STANDING_NAMES[row["standing"]][0], row["report_month"],
            deadline(row["due_at"]) if row["due_at"] else "", _minute(row["filed_at"]), row["days_late"] or "",
            REVIEW_NAMES[review["state"]][0] if review else "不经专项小组审核", review["returns"] if review else "",
            _minute(review["reviewed_at"]) if review else "", (review["opinion"] or "") if review else "",
            *(_blank(table.get(k)) for k in ("measures", "done", "started", "not_started", "progress", "problems")),
            COLOUR_NAMES[row["colour"]], STATUS_NAMES.get(row["status"], row["status"])]


def lines(result: dict) -> list[str]:
    """The bulletin as the command line prints it (without colour codes)."""
    out = [f"{result['label']}改革项目进展通报：季末月 {result['report_month']} 的进度表"
           f"（截至 {minute(result['as_of'])}） (quarterly bulletin {result['quarter']}: the tables for {result['report_month']})"]
    out.append("一、季末报专项小组审核的方案 (plans under quarterly review)")
    out += _part(result["plans"], result["summary"])
    if "others" in result:
        out.append("二、其他实施中的方案（月报，不经专项小组审核） (other plans in implementation: monthly tables only)")
        out += _part(result["others"], result["others_summary"])
    return out


def _part(rows: list[dict], totals: dict) -> list[str]:
    if not rows:
        return ["  （无 none）"]
    out = []
    for row in rows:
        mark = "【！】" if row["attention"] else ""
        who = "，".join(filter(None, [row["lead_unit"], row["responsible_person"]]))
        key = f"{row['business_key']} " if row["business_key"] else ""
        zh, en = STANDING_NAMES[row["standing"]]
        out.append(f"  {mark}#{row['id']} {key}{row['title']}{f'（{who}）' if who else ''} "
                   f"[{zh} {en}] [季末预警 {COLOUR_NAMES[row['colour']]} {row['colour']}]")
        out.append("    " + filing_text(row))
        if row["review"] is not None and row["filed_at"]:
            out.append("    " + review_text(row["review"]))
        if row["table"]:
            out.append("    " + table_text(row["table"]))
    out.append("  " + summary_text(totals))
    return out


def filing_text(row: dict) -> str:
    due = f"期限 {deadline(row['due_at'])}" if row["due_at"] else "无期限"
    if row["filed_at"] is None:
        return f"{row['report_month']} 进度表：{due}，未报送 (not filed)"
    late = f"，迟 {row['days_late']} 天 (filed {counted(row['days_late'], 'day')} late)" if row["days_late"] else ""
    return f"{row['report_month']} 进度表：{due}，{minute(row['filed_at'])} 由 {row['filed_by']} 报送{late}"


def review_text(review: dict) -> str:
    zh, en = REVIEW_NAMES[review["state"]]
    returns = f"，退回 {review['returns']} 次 (returned {review['returns']}×)" if review["returns"] else ""
    last = ""
    if review["reviewed_at"]:
        by = "，".join(filter(None, [review["reviewed_by"], review["reviewer_unit"]]))
        last = f"；{minute(review['reviewed_at'])} {by}：{review['opinion'] or ''}"
    return f"专项小组审核 (review)：{zh} ({en}){returns}{last}"


def table_text(table: dict) -> str:
    text = (f"举措 {table['measures']} 项：已完成 {table['done']}、已启动未完成 {table['started']}、未启动 "
            f"{table['not_started']}（{'按审核意见修改后' if table['revised'] else '报送时'}）；进展：{table['progress'] or ''}")
    return text + (f"；问题：{table['problems']}" if table["problems"] else "")


def summary_text(totals: dict) -> str:
    parts = "、".join(f"{STANDING_NAMES[s][0]} {totals[s]}" for s in STANDING_NAMES if totals[s])
    return (f"共 {totals['plans']} 个方案，需关注 {totals['attention']} 个{'：' + parts if parts else ''} "
            f"({counted(totals['plans'], 'plan')}, {totals['attention']} needing attention)")


def _blank(value):
    return "" if value is None else value


def _minute(value: str | None) -> str:
    return minute(value) if value else ""

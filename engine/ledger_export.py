"""The ledger as a file a reform office opens in a spreadsheet: .xlsx (each plan's warning
cell filled in its colour, the header row frozen, and a second sheet per lead unit) or .csv
(UTF-8 with a byte-order mark, which Excel needs to read Chinese). The columns are the
ledger's, said in Chinese."""
from __future__ import annotations

from datetime import datetime

from .display import counted, deadline, minute, step
from .ledger import by_unit, holder_text
from .tables import STATUS_NAMES, colour_cell, header_row, save, wrap, xlsx_text

COLOUR_NAMES = {"red": "红", "yellow": "黄", "green": "绿"}
HEADERS = ("编号", "业务编号", "方案名称", "流程", "状态", "预警", "牵头单位", "责任人", "节点", "节点计划日期",
           "节点完成日期", "举措数", "已完成", "已启动未完成", "未启动", "当前环节", "当前期限", "延误事项", "发起时间",
           "办结时间")
CARRIED_OVER, YES = "结转", "是"  # a year's ledger: started in an earlier year, still open when this one began
UNIT_HEADERS = ("牵头单位", "方案数", "红", "黄", "绿", "延误事项", "延误天数合计", "举措数", "已完成举措")
_WIDTHS = (6, 14, 36, 16, 8, 6, 16, 10, 12, 12, 12, 7, 7, 7, 7, 28, 12, 44, 17, 17)


def title(year: int | None) -> str:
    """What the ledger is called: a year's (2026年度改革方案台账) or every plan's."""
    return f"{year}年度改革方案台账" if year is not None else "改革方案台账"


def write(rows: list[dict], path: str, year: int | None = None) -> None:
    """Write the ledger to `path`, its format from the extension. A year's ledger (`year`) names
    the year on its sheet and has a last column, 结转, saying which plans were carried over."""
    headers = HEADERS if year is None else (*HEADERS, CARRIED_OVER)
    table = [_cells(row) + ([YES if row["carried_over"] else ""] if year is not None else []) for row in rows]
    save(path, ("台账", "ledger"), headers, table, lambda book: _fill(book, rows, table, headers, year))


def write_units(rows: list[dict], path: str) -> None:
    """The per-unit sums alone, for `ledger --by-unit --output x.csv`: a .csv holds one table,
    and the plans' would not be what was asked for (an .xlsx has both sheets, `write`)."""
    table = [_unit_cells(unit) for unit in by_unit(rows)]
    save(path, ("台账", "ledger"), UNIT_HEADERS, table, lambda book: None)


def _unit_cells(unit: dict) -> list:
    return [unit["lead_unit"] or "（未填）", unit["plans"], unit["red"], unit["yellow"], unit["green"],
            unit["missed"], unit["days_late"], unit["measures"], unit["measures_done"]]


def _fill(book, rows: list[dict], table: list[list], headers: tuple, year: int | None) -> None:
    sheet = book.active
    sheet.title = title(year)
    header_row(sheet, headers, (*_WIDTHS, 6))
    warning = HEADERS.index("预警") + 1
    for line, (row, cells) in enumerate(zip(rows, table), start=sheet.max_row + 1):
        sheet.append(cells)
        colour_cell(sheet, line, warning, row["colour"])
    wrap(sheet, 2)
    sheet.auto_filter.ref = sheet.dimensions
    units = book.create_sheet("按牵头单位")  # for the annual assessment
    header_row(units, UNIT_HEADERS, (24,))
    for unit in by_unit(rows):
        units.append([xlsx_text(cell) for cell in _unit_cells(unit)])


def _reached_cell(row: dict) -> str:
    """节点完成日期, or for a plan that gave the milestone up (not approved) that it did, and when."""
    if row["milestone_dropped"] and not row["milestone_reached"]:
        return f"未获通过（{row['milestone_dropped']}）"
    return row["milestone_reached"] or ""


def _cells(row: dict) -> list:
    current = row["current"]
    return [row["id"], row["business_key"] or "", row["title"], row["process_name"],
            STATUS_NAMES.get(row["status"], row["status"]), COLOUR_NAMES[row["colour"]],
            row["lead_unit"] or "", row["responsible_person"] or "", row["milestone"] or "",
            row["milestone_due"] or "", _reached_cell(row), *_measure_cells(row["measures"]),
            "、".join(f"{step(t['name'], t['subject'])}（{holder_text(t, '待认领')}）" for t in current),
            _earliest([t for t in current if t["due_at"]]),
            "；".join(missed_text(m) for m in row["missed"]),
            _minute(row["started_at"]), _minute(row["ended_at"])]


def _measure_cells(measures: dict | None) -> list:
    if measures is None:
        return ["", "", "", ""]
    return [measures["count"], *("" if measures[k] is None else measures[k] for k in ("done", "started", "not_started"))]


def measures_text(measures: dict) -> str:
    """A plan's measures said in a line, as its last monthly table rated them."""
    if measures["done"] is None:
        return f"共 {measures['count']} 项，尚未报送进展 ({counted(measures['count'], 'measure')}, no progress reported yet)"
    return (f"共 {measures['count']} 项，已完成 {measures['done']}、已启动未完成 {measures['started']}、未启动 "
            f"{measures['not_started']} ({counted(measures['count'], 'measure')}: {measures['done']} done, "
            f"{measures['started']} started, {measures['not_started']} not started)")


def missed_text(missed: dict, english: bool = False, chinese_dates: bool = False) -> str:
    """One missed milestone said in a line: what, by when, and how late. The dates are ISO (the
    command line, the files); `chinese_dates`, for a web page, writes the Chinese half's as the
    Chinese page writes them (2026年12月25日), the English half's staying ISO."""
    days = missed["days_late"]
    # a deadline ordered after the first was missed (限期报送) is shown beside it, not instead
    ordered = missed.get("ordered_due_at")
    zh_due = f"期限 {deadline(missed['due_at'], chinese_dates)}" + (
        f"（另定期限 {deadline(ordered, chinese_dates)}）" if ordered else "")
    en_due = f"due {deadline(missed['due_at'])}" + (f", new deadline {deadline(ordered)}" if ordered else "")
    # a deadline with a time of day missed the same day is late by no whole day: said without "0 days"
    zh_days, en_days = (f" {days} 天", f" {counted(days, 'day')}") if days else ("", "")
    if missed["done_at"] is None:
        return f"{missed['what']}：{zh_due}，已逾期{zh_days}" + (f" ({en_due},{en_days} overdue)" if english else "")
    if missed["cancelled"]:
        return f"{missed['what']}：{zh_due}，逾期{zh_days}后撤销" + (
            f" ({en_due}, withdrawn{en_days} late)" if english else "")
    done = f"迟{zh_days}完成" if days else "逾期完成"
    return f"{missed['what']}：{zh_due}，{done}" + (f" ({en_due}, done{en_days} late)" if english else "")


def _earliest(steps: list[dict]) -> str:
    """The nearest deadline of the open steps, marked 暂定 as the page marks it (counted over a
    year whose holidays nobody entered)."""
    if not steps:
        return ""
    first = min(steps, key=lambda t: datetime.fromisoformat(t["due_at"]))
    return deadline(first["due_at"]) + ("（暂定）" if first.get("due_provisional") else "")


def _minute(value: str | None) -> str:
    return minute(value) if value else ""

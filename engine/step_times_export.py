"""How long each step takes (engine/step_times.py) as a file a reform office opens in a
spreadsheet: .xlsx (the period above the header row, the header frozen) or .csv (UTF-8 with a
byte-order mark, which Excel needs to read Chinese). The columns are the statistics', said in
Chinese, with a second sheet per lead unit; the lines the command line prints."""
from __future__ import annotations

from .display import counted
from .step_times import step_id
from .tables import header_row, save, title_row, xlsx_text

HEADERS = ("流程", "流程标识", "环节", "环节标识", "办结数", "中位工作日", "90%分位工作日", "最长工作日",
           "中位自然日", "90%分位自然日", "最长自然日", "逾期办结", "在办", "在办逾期")
_WIDTHS = (18, 16, 24, 18, 8, 10, 12, 10, 10, 12, 10, 9, 7, 9)
UNIT_HEADERS = ("牵头单位", "办结数", "中位工作日", "逾期办结", "在办", "在办逾期")


def title(result: dict) -> str:
    scope = f"，流程 {result['process']}" if result["process"] else ""
    return f"办理时效统计（{result['since']} 至 {result['until']} 办结{scope}）"


def write(result: dict, path: str) -> None:
    """Write the statistics to `path`, its format from the extension."""
    table = [cells(row) for row in result["steps"]]

    def fill(book):
        sheet = book.active
        sheet.title = "办理时效统计"
        title_row(sheet, title(result))
        header_row(sheet, HEADERS, _WIDTHS)
        for line in table:
            sheet.append(line)
        sheet.auto_filter.ref = f"A2:{sheet.cell(sheet.max_row, len(HEADERS)).coordinate}"
        units = book.create_sheet("按牵头单位")  # who is late
        header_row(units, UNIT_HEADERS, (24,))
        for unit in result["units"]:
            units.append([xlsx_text(cell) for cell in unit_cells(unit)])
    save(path, ("办理时效统计", "step-time statistics"), HEADERS, table, fill)


def write_units(result: dict, path: str) -> None:
    """The per-unit figures alone, for `stats --by-unit --output x.csv`: a .csv holds one table
    (an .xlsx has both sheets, `write`)."""
    save(path, ("办理时效统计", "step-time statistics"), UNIT_HEADERS,
         [unit_cells(unit) for unit in result["units"]], lambda book: None)


def unit_cells(unit: dict) -> list:
    return [unit["lead_unit"] or "（未填）", unit["completed"],
            "" if unit["median_working_days"] is None else unit["median_working_days"],
            unit["late"], unit["open"], unit["open_overdue"]]


def unit_lines(result: dict) -> list[str]:
    """The per-unit figures for a terminal: who is late."""
    return [f"{title(result)} 按牵头单位 (per lead unit)"] + [
        f"  {u['lead_unit'] or '（未填）'}：办结 {u['completed']} 件，工作日中位 "
        f"{'-' if u['median_working_days'] is None else u['median_working_days']}，逾期办结 {u['late']}；"
        f"在办 {u['open']}，其中逾期 {u['open_overdue']} ({counted(u['completed'], 'step')} completed, working days "
        f"median {'-' if u['median_working_days'] is None else u['median_working_days']}, {u['late']} late; "
        f"{u['open']} open, {u['open_overdue']} overdue)" for u in result["units"]]


def cells(row: dict) -> list:
    def blank(value):
        return "" if value is None else value
    return [row["process_name"], row["process_key"], row["name"], step_id(row), row["completed"],
            blank(row["median_working_days"]), blank(row["p90_working_days"]), blank(row["max_working_days"]),
            blank(row["median_days"]), blank(row["p90_days"]), blank(row["max_days"]),
            row["late"], row["open"], row["open_overdue"]]


def lines(result: dict) -> list[str]:
    """The statistics for a terminal, a step a line, the slowest first."""
    out = [f"{title(result)} (how long each step took, completed {result['since']} to {result['until']}"
           + (f", process {result['process']}" if result["process"] else "") + ")"]
    for r in result["steps"]:
        head = f"{r['process_name']} · {r['name']} ({r['process_key']}: {step_id(r)})："
        if r["completed"]:
            took = (f"办结 {r['completed']} 件，工作日 中位 {r['median_working_days']}、90% {r['p90_working_days']}、"
                    f"最长 {r['max_working_days']}；自然日 中位 {r['median_days']}、90% {r['p90_days']}、最长 {r['max_days']}；"
                    f"逾期办结 {r['late']} ({counted(r['completed'], 'step')} completed, working days median "
                    f"{r['median_working_days']}, 90% {r['p90_working_days']}, longest {r['max_working_days']}; "
                    f"calendar days median {r['median_days']}, 90% {r['p90_days']}, longest {r['max_days']}; "
                    f"{r['late']} late)")
        else:
            took = "期间内无办结 (none completed in the period)"
        out.append(f"  {head}{took}；在办 {r['open']}，其中逾期 {r['open_overdue']} "
                   f"({r['open']} open, {r['open_overdue']} overdue)")
    out.append(f"共 {len(result['steps'])} 个环节：办结 {result['completed']} 件，逾期办结 {result['late']}；"
               f"在办 {result['open']}，其中逾期 {result['open_overdue']} ({counted(len(result['steps']), 'step')}: "
               f"{result['completed']} completed, {result['late']} late; {result['open']} open, "
               f"{result['open_overdue']} overdue)")
    return out

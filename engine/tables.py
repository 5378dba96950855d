"""Tables saved for a spreadsheet: .xlsx (openpyxl) or .csv (UTF-8 with a byte-order mark, which
Excel needs to read Chinese), the format chosen by the file's extension. Used by the ledger,
the decision archive, the quarterly bulletin, the supervision ledger and the step-time statistics;
a cell longer than Excel holds is cut visibly (`fits_excel`)."""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Callable

from .errors import Invalid
from .output import whole_file

FORMATS = (".xlsx", ".csv")
# a plan's status as the files say it
STATUS_NAMES = {"running": "办理中", "completed": "已办结", "cancelled": "已终止", "error": "出错"}
# What a spreadsheet takes for the start of a formula: text people entered (a plan's title, a lead
# unit, a form's answer) is kept as text, never run as one ("=HYPERLINK(...)", "=cmd|...")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters a worksheet cannot hold (openpyxl refuses them, so the whole file failed);
# text pasted from another program into a form may carry them
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Excel and WPS keep at most 32,767 characters in a cell and cut the rest without a word (a form's
# long text, a step done again with old and new values): such a cell is cut here, visibly, saying
# where the whole text is. Every table file of reformflow and the audit CSV (engine/audit.py, with
# its own mark: the JSON lines hold the whole) go through `fits_excel`: a cell a layout writes
# itself must pass through `xlsx_text`, as `save` passes the table's, for openpyxl cuts a longer
# value on assignment without a word.
EXCEL_CELL = 32_767
CUT_MARK = ("…［已截断：超出 Excel 单元格 32767 字的上限，全文见系统中的原记录 (cut at Excel's cell limit of "
            "32,767 characters: the full text is in the system's record)］")


def save(path: str, what: tuple[str, str], headers: tuple, table: list[list],
         fill_book: Callable[[object], None]) -> None:
    """Write `table` under `headers` to `path`, whole or not at all (engine/output.py): as .csv
    directly, as .xlsx by `fill_book(book)`, which lays out a new openpyxl Workbook. `what`
    names the file for errors (Chinese, English)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise Invalid(f"{what[0]}文件须以 .xlsx 或 .csv 结尾：{path} (the {what[1]} is written as .xlsx or .csv)")
    if suffix == ".csv":
        with whole_file(path, *what) as out:
            out.write("\ufeff")
            writer = csv.writer(out)
            writer.writerow(headers)
            writer.writerows([fits_excel(as_text(cell)) for cell in row] for row in table)
        return
    from openpyxl import Workbook
    for line in table:  # in place: fill_book lays out these same rows, and openpyxl refuses the characters on assignment
        line[:] = [xlsx_text(cell) for cell in line]
    book = Workbook()
    fill_book(book)
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                if cell.data_type == "f":  # openpyxl takes any text starting with "=" for a formula
                    cell.data_type = "s"
    with whole_file(path, *what, binary=True) as out:
        book.save(out)


def xlsx_text(cell):
    """A cell for a worksheet: a control character it cannot hold shown as <U+0007>, so that the
    reader sees something was there; anything else unchanged."""
    if not isinstance(cell, str):
        return cell
    return fits_excel(_NOT_IN_XLSX.sub(lambda found: f"<U+{ord(found.group()):04X}>", cell))


def fits_excel(cell, mark: str = CUT_MARK):
    """A cell Excel would cut, cut here at EXCEL_CELL characters, ending with `mark` to say so and
    where the whole value is; anything shorter, and anything not text, unchanged."""
    # Excel counts UTF-16 units: a character beyond the basic plane (a rare CJK Extension B
    # character in a name, an emoji) is two of them
    if isinstance(cell, str) and len(cell) > EXCEL_CELL // 2 and _utf16(cell) > EXCEL_CELL:
        room, kept = EXCEL_CELL - _utf16(mark), 0
        for index, char in enumerate(cell):
            kept += 2 if ord(char) > 0xFFFF else 1
            if kept > room:
                return cell[:index] + mark
    return cell


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def as_text(cell):
    """A .csv cell that Excel would read as a formula, with a leading apostrophe as Excel itself
    shows typed text; numbers and other text unchanged."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def header_row(sheet, headers: tuple, widths: tuple) -> None:
    """A bold header row with the columns' widths; frozen, so it stays in view."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.append(headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{sheet.max_row + 1}"


def title_row(sheet, text: str) -> None:
    """A report's title above its header row (the bulletin, the supervision ledger)."""
    from openpyxl.styles import Font

    sheet.append([xlsx_text(text)])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=14)


_WARNING_FILLS = {"red": "FFC7CE", "yellow": "FFEB9C", "green": "C6EFCE"}  # Excel's own warning colours


def colour_cell(sheet, row: int, column: int, colour: str | None) -> None:
    """Fill the cell at `row`, `column` red, yellow or green; None leaves it as it is. The row is
    given: openpyxl's max_row walks every cell, which made a ledger of 10,000 plans take 37 s."""
    if colour:
        from openpyxl.styles import PatternFill

        fill = _WARNING_FILLS[colour]
        sheet.cell(row, column).fill = PatternFill("solid", start_color=fill, end_color=fill)


def wrap(sheet, min_row: int) -> None:
    """Long text wraps within its column, top-aligned, from `min_row` on."""
    from openpyxl.styles import Alignment

    for line in sheet.iter_rows(min_row=min_row):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

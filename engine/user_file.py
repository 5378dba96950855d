"""A list of people read from a spreadsheet (.xlsx) or a CSV file, for `reformflow users import`
and the reform office's import page; and the template such a file starts from.

An office adopting reformflow has its 200–400 staff in a spreadsheet already: one row a person,
under a heading row in Chinese (or English):

    用户名,姓名,单位,角色,邮箱,初始密码
    zhangwei,张伟,市发展改革委,drafter,zhangwei@example.gov.cn,

This module only reads the cells, each with its row number as Excel shows it and its column's
heading as the file writes it; engine/user_import.py checks them against the database. A file
that cannot be a list of people (too big, not what its name says, no heading) is refused here,
whole.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from . import display, file_kinds
from .errors import Invalid

MAX_BYTES = 2 * 1024 * 1024  # 400 people are some 40 KB of CSV, 30 KB of .xlsx
MAX_ROWS = 2000  # people, not counting the heading or blank rows: a province's office has a few hundred
KINDS = (".xlsx", ".csv")

# field -> the headings that name it (compared trimmed, in lower case, without spaces or "*")
COLUMNS = {
    "username": ("用户名", "账号", "登录名", "username", "user", "login"),
    "display_name": ("姓名", "名字", "displayname", "display_name", "name"),
    "unit": ("单位", "所在单位", "部门", "unit", "department"),
    "groups": ("角色", "所属角色", "角色代码", "groups", "group", "roles", "role"),
    "email": ("邮箱", "电子邮箱", "邮件地址", "email", "e-mail", "mail"),
    "password": ("初始密码", "密码", "password", "initialpassword", "initial_password"),
}
REQUIRED = ("username", "display_name")
# the template's heading and example row: what the office fills in (the example is no real person)
TEMPLATE = (("用户名", "姓名", "单位", "角色", "邮箱", "初始密码"),
            ("zhangwei", "张伟", "市发展改革委", "drafter、participant", "zhangwei@example.gov.cn", ""))


@dataclass
class Row:
    """One person's row: `number` as Excel numbers it (the heading is row 1), `cells` by field
    (trimmed text, "" for an empty cell or a column the file lacks)."""
    number: int
    cells: dict[str, str] = field(default_factory=dict)


@dataclass
class PeopleFile:
    name: str
    headings: dict[str, str]  # field -> the heading as the file writes it, for the refusals
    rows: list[Row]


def read(name: str, content: bytes) -> PeopleFile:
    """The people in the file `name` (.xlsx or .csv, by its name), its blank rows left out.
    Invalid, naming the file, when it is too big, not the kind its name says, has no heading with
    用户名 and 姓名, a heading no field has, or more than MAX_ROWS people."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in KINDS:
        raise Invalid(f"文件 {name} 须为 Excel 表格（.xlsx）或 CSV 文件（.csv）；旧版 .xls 请在 Excel 中另存为 .xlsx "
                      f"(the file must be an Excel workbook, .xlsx, or a CSV file, .csv; save an old .xls as .xlsx)")
    if len(content) > MAX_BYTES:
        raise Invalid(f"文件 {name} 超过 {MAX_BYTES // 1024 // 1024} MB，不像一份人员名单；请分成几个文件导入 "
                      f"(the file is larger than {MAX_BYTES // 1024 // 1024} MB: not a list of people; split it)")
    if suffix == ".xlsx":
        table = _xlsx(name, content)
    else:
        table = _csv(name, content)
    numbered = [(number, [_text(cell) for cell in row]) for number, row in enumerate(table, start=1)]
    numbered = [(n, row) for n, row in numbered if any(row)]
    if not numbered:
        raise Invalid(f"文件 {name} 没有内容；第一行须为表头：{'、'.join(TEMPLATE[0])} "
                      f"(the file is empty: the first row must be the heading, e.g. username, display name, unit, "
                      f"groups, email, password)")
    heading_row, *people = numbered
    columns, headings = _columns(name, heading_row[1])
    if len(people) > MAX_ROWS:
        raise Invalid(f"文件 {name} 有 {len(people)} 行人员，最多 {MAX_ROWS} 行；请分成几个文件导入 "
                      f"(the file has {len(people)} rows of people, at most {MAX_ROWS}: split it)")
    if not people:
        raise Invalid(f"文件 {name} 只有表头，没有人员 (the file has a heading but no people)")
    rows = [Row(number, {key: row[index] if index < len(row) else "" for key, index in columns.items()})
            for number, row in people]
    return PeopleFile(name, headings, rows)


MAX_COLUMNS = 30  # six fields and their aliases; a heading no field has is refused within these


def _xlsx(name: str, content: bytes) -> list[tuple]:
    """The first sheet's rows. The content must be a workbook (engine/file_kinds.py: a web page
    or program named .xlsx is refused) that would not unpack to more than an office file does."""
    seems = file_kinds.accepted(".xlsx", content)
    if seems is not None:
        raise Invalid(f"文件 {name} 的内容不是 Excel 表格，而像是{seems[0]}；请在 Excel 中另存为 .xlsx "
                      f"(the file's content is not an Excel workbook: it seems to be {seems[1]})")
    if file_kinds.unpacked_too_large(content) is not None:
        raise Invalid(f"文件 {name} 解压后过大，不像一份人员名单 (the file would unpack to far more than a list of "
                      f"people)")
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise Invalid(f"无法读取 Excel 文件 {name}：{type(exc).__name__}；请在 Excel 中打开后另存为 .xlsx "
                      f"(cannot read the workbook: open it in Excel and save it again as .xlsx)") from None
    try:
        sheet = book.worksheets[0]
        # the sheet's own <dimension> may claim A1:XFD1048576: read only rows the file holds and
        # only MAX_COLUMNS of each, or a 2 KB file padded out to gigabytes of empty cells
        sheet.reset_dimensions()
        rows, filled = [], 0
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            rows.append(row)
            filled += any(cell not in (None, "") for cell in row)
            if filled > MAX_ROWS + 1 or len(rows) > 50 * MAX_ROWS:  # enough to say it is too long
                break
        return rows
    finally:
        book.close()


def _csv(name: str, content: bytes) -> list[list[str]]:
    """UTF-8, with or without the byte-order mark Excel writes, or GB18030 (what Excel on a
    Chinese Windows saves as “CSV (逗号分隔)”)."""
    text = file_kinds.decoded_text(content)
    if text is None or b"\x00" in content:
        raise Invalid(f"文件 {name} 不是 UTF-8 或 GB18030 编码的文本；请在 Excel 中另存为“CSV UTF-8（逗号分隔）” "
                      f"(the file is not UTF-8 or GB18030 text: save it as CSV UTF-8)")
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise Invalid(f"CSV 文件 {name} 格式有误：{exc} (the CSV file is malformed)") from None


def _text(cell) -> str:
    """A cell as text: a number Excel keeps for 1001 is 1001.0, a username or a password typed
    as digits comes back as typed."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    return str(cell).strip()


def _key(heading: str) -> str:
    return heading.strip().lower().replace(" ", "").replace("　", "").rstrip("*＊")


def _columns(name: str, heading: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    names = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
    columns, headings, unknown = {}, {}, []
    for index, cell in enumerate(heading):
        if not cell:
            continue
        key = names.get(_key(cell))
        if key is None:
            unknown.append(cell)
        elif key in columns:
            raise Invalid(f"文件 {name} 的表头有两列“{headings[key]}”和“{cell}”，请删去一列 "
                          f"(the heading names the same column twice, “{headings[key]}” and “{cell}”: delete one)")
        else:
            columns[key], headings[key] = index, cell
    known = "、".join(TEMPLATE[0])
    if unknown:
        raise Invalid(f"文件 {name} 的表头有不认识的列：{'、'.join(unknown)}；可用的列为 {known}，请改名或删去该列 "
                      f"(the heading has {display.counted(len(unknown), 'column')} reformflow does not know: "
                      f"{', '.join(unknown)}; the columns are {known}, or username, display name, unit, groups, "
                      f"email, password: rename or delete it)")
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in columns]
    if missing:
        raise Invalid(f"文件 {name} 的第一行须为表头，至少含“用户名”和“姓名”两列，缺少：{'、'.join(missing)} "
                      f"(the first row must be the heading, with at least the columns 用户名 (username) and 姓名 "
                      f"(display name); missing: {', '.join(COLUMNS[k][-1] for k in REQUIRED if k not in columns)})")
    return columns, headings


def template(kind: str) -> bytes:
    """The template: the heading and one example row, as .xlsx or .csv (UTF-8 with the BOM, which
    Excel needs to show Chinese)."""
    if kind == ".csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(TEMPLATE)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    if kind != ".xlsx":
        raise Invalid(f"模板须为 .xlsx 或 .csv 文件：{kind or '（无扩展名）'} (the template is a .xlsx or .csv file)")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = "人员"
    for row in TEMPLATE:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (14, 10, 20, 24, 28, 14)):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2, max_row=501, max_col=6):
        for cell in row:  # text, not numbers: a username or password of digits stays as typed
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

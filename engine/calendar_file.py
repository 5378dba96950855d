"""A year's holiday schedule (放假安排) read from a CSV file, for `reformflow calendar import`.

The State Council publishes next year's schedule each November: about ten holidays of several
days and half a dozen swapped working weekends. Entered day by day that is some thirty
commands, each counting every open deadline again. The file lists the schedule as the notice
does, one row per holiday (a range) or per working weekend:

    日期,安排,说明
    2027-01-01,放假,元旦
    2027-02-06..2027-02-13,放假,春节
    2027-02-14,上班,春节调休

Nothing is entered unless the whole file is right: every problem is reported with its line.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from . import display
from .errors import Invalid
from .file_kinds import decoded_text
from .workdays import pointless_entry

MAX_BYTES = 1024 * 1024  # a year's schedule is about 20 lines
MAX_RANGE_DAYS = 31  # the longest holiday is 8-9 days; a longer range is a typing slip (02-06..12-14)
MAX_REPORTED = 20  # problems listed before "…"
MAX_NOTE = 200  # the column's width (models/calendar.py)

COLUMNS = {"day": ("日期", "day", "date"), "kind": ("安排", "kind", "type"), "note": ("说明", "备注", "note")}
KINDS = {"放假": False, "休": False, "休息": False, "休假": False, "off": False,
         "上班": True, "班": True, "调休上班": True, "working": True}
RANGE_MARKS = ("..", "至", "~", "～")
# 2027-02-06, and as Excel in a Chinese locale saves dates: 2027/2/6, 2027年2月6日
_DAY = re.compile(r"(\d{4})(?:-|/|年)(\d{1,2})(?:-|/|月)(\d{1,2})日?")


@dataclass(frozen=True)
class Entry:
    day: date
    working: bool
    note: str
    line: int


def decode(name: str, content: bytes) -> str:
    """The file's text: UTF-8 (with or without the BOM Excel writes), else GB18030, which Excel
    on a Chinese Windows uses for "CSV"."""
    if len(content) > MAX_BYTES:
        raise Invalid(f"日历文件 {name} 超过 {MAX_BYTES // 1024} KB，不像一年的放假安排 "
                      f"(the calendar file is larger than {MAX_BYTES // 1024} KB: not a year's schedule)")
    text = decoded_text(content)
    if text is not None:
        return text
    raise Invalid(f"日历文件 {name} 既不是 UTF-8 也不是 GB18030 编码的文本；请另存为 CSV（UTF-8） "
                  f"(the calendar file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8)")


def read(name: str, content: bytes, years: tuple[int, int]) -> list[Entry]:
    """Every day the file enters, in file order; a range gives one entry per day. Refuses the
    whole file, naming each line that is wrong, if any is."""
    rows = [(number, [cell.strip() for cell in row]) for number, row in
            enumerate(csv.reader(io.StringIO(decode(name, content))), start=1)]
    rows = [(n, row) for n, row in rows if any(row) and not row[0].startswith("#")]
    if not rows:
        raise Invalid(f"日历文件 {name} 没有内容；第一行须为表头：日期,安排,说明 "
                      f"(the calendar file is empty: the first line must be the heading “日期,安排,说明” or “day,kind,note”)")
    columns = _columns(name, rows[0][1])
    entries, problems, seen = [], [], {}
    for number, row in rows[1:]:
        cell = lambda key: row[columns[key]] if key in columns and columns[key] < len(row) else ""  # noqa: E731
        try:
            days = _days(cell("day"), years)
            working = _kind(cell("kind"))
            if len(cell("note")) > MAX_NOTE:
                raise ValueError(f"说明超过 {MAX_NOTE} 字", f"the note is longer than {MAX_NOTE} characters")
            for day in days:  # 上班 on a day that works anyway is a mistyped date
                if (pointless := pointless_entry(day, working)) is not None:
                    raise ValueError(*pointless)
        except ValueError as exc:
            zh, en = exc.args
            problems.append((f"第 {number} 行：{zh}", f"line {number}: {en}"))
            continue
        for day in days:
            if day in seen:
                problems.append((f"第 {number} 行：{day} 已在第 {seen[day]} 行列出",
                                 f"line {number}: {day} is already on line {seen[day]}"))
                continue
            seen[day] = number
            entries.append(Entry(day, working, cell("note"), number))
    if problems:
        shown = problems[:MAX_REPORTED] + ([("…", "…")] if len(problems) > MAX_REPORTED else [])
        raise Invalid(f"日历文件 {name} 有 {len(problems)} 处错误，未录入任何日期：" + "；".join(zh for zh, _ in shown)
                      + f" (the calendar file has {display.counted(len(problems), 'error')}; nothing was entered: "
                      + "; ".join(en for _, en in shown) + ")")
    if not entries:
        raise Invalid(f"日历文件 {name} 只有表头，没有日期 (the calendar file has a heading but no days)")
    return entries


def _columns(name: str, heading: list[str]) -> dict[str, int]:
    found = {}
    for key, names in COLUMNS.items():
        for index, cell in enumerate(heading):
            if cell.lower() in names:
                found[key] = index
                break
    if "day" not in found or "kind" not in found:
        raise Invalid(f"日历文件 {name} 的第一行须为表头，含“日期”和“安排”两列（“说明”可选），实为：{','.join(heading)} "
                      f"(the first line must be the heading, with the columns “日期” and “安排”, or “day” and “kind”; "
                      f"“说明” or “note” is optional; it is: “{','.join(heading)}”)")
    return found


def _days(text: str, years: tuple[int, int]) -> list[date]:
    for mark in RANGE_MARKS:
        if mark in text:
            first_text, _, last_text = text.partition(mark)
            first, last = _day(first_text.strip(), years), _day(last_text.strip(), years)
            if last < first:
                raise ValueError(f"日期范围 {text} 的结束早于开始", f"the range {text} ends before it starts")
            if (last - first).days >= MAX_RANGE_DAYS:
                raise ValueError(f"日期范围 {text} 超过 {MAX_RANGE_DAYS} 天，请核对",
                                 f"the range {text} is longer than {MAX_RANGE_DAYS} days: check it")
            return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [_day(text, years)]


def _day(text: str, years: tuple[int, int]) -> date:
    found = _DAY.fullmatch(text)
    try:
        day = date(*map(int, found.groups()))
    except (AttributeError, ValueError):  # no match, or no such day (02-30)
        raise ValueError(f"日期“{text}”无效，须为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD",
                         f"“{text}” is not a day: write YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
    if not years[0] <= day.year <= years[1]:
        raise ValueError(f"日期 {text} 须在 {years[0]} 至 {years[1]} 年之间",
                         f"{text} must be between the years {years[0]} and {years[1]}")
    return day


def _kind(text: str) -> bool:
    try:
        return KINDS[text.lower()]
    except KeyError:
        raise ValueError(f"安排“{text}”无效，须为“放假”或“上班”",
                         f"the kind “{text}” must be “放假” (off) or “上班” (working)") from None

"""The words of a daily digest (每日待办摘要): plain text, Chinese, with a short English paragraph,
like the event mails (engine/mail_text.py). The overdue steps first, with how many working days
late, then those due soon, then how many others; each listed step with its link. Never a form's
values or a file: a mail leaves the office's systems."""
from __future__ import annotations

from datetime import date, datetime

from . import display
from .mail_text import deadline_words

LISTED = 30  # steps listed by name in each part; the counts are of all


def subject(day: date, overdue: int, soon: int, total: int) -> str:
    return f"【待办摘要】{day.month}月{day.day}日：{overdue} 项逾期，{soon} 项即将到期，共 {total} 项"


def message(day: date, *, to: str, overdue: list[dict], soon: list[dict], others: int, soon_days: int,
            link: str | None, calendar, now: datetime, names: dict[str, str]) -> tuple[str, str]:
    """(subject, body). `overdue`, `soon`: the steps (list_tasks rows) in the order to list them;
    `others`: how many more open steps; `names`: display names of those one acts for (委托办理)."""
    total = len(overdue) + len(soon) + others
    lines = [f"{to}：您好！", "",
             f"截至 {day.month}月{day.day}日，您共有 {total} 项待办：{len(overdue)} 项已逾期，"
             f"{len(soon)} 项在 {soon_days} 个工作日内到期，其他 {others} 项。"]
    for heading, rows in ((f"已逾期（{len(overdue)} 项）", overdue),
                          (f"{soon_days} 个工作日内到期（{len(soon)} 项）", soon)):
        if not rows:
            continue
        lines += ["", heading]
        for n, row in enumerate(rows[:LISTED], 1):
            lines += _step_lines(n, row, link, calendar, now, names)
        if len(rows) > LISTED:
            lines.append(f"另有 {len(rows) - LISTED} 项未列出，请在“我的待办”中查看。")
    if others:
        lines += ["", f"其他待办 {others} 项，期限未到或未设期限。"]
    lines.append("")
    if link:
        lines.append(f"我的待办：{link}/tasks")
        where_en = f"Your inbox: {link}/tasks"
    else:
        lines.append("请登录改革方案审批系统，在“我的待办”中查看并办理。")
        where_en = "Open your inbox in the reform plan system to see them."
    lines += ["", f"(Your open steps on {day.isoformat()}: {total} in all, {len(overdue)} overdue, {len(soon)} due "
                  f"within {soon_days} working days, {others} more. {where_en})", "",
              "此邮件由系统自动发送，每个工作日早上一封；不想再收，请在“账户设置 → 邮件提醒”中取消。"]
    return subject(day, len(overdue), len(soon), total), "\n".join(lines) + "\n"


def _step_lines(n: int, row: dict, link: str | None, calendar, now: datetime, names: dict[str, str]) -> list[str]:
    step = display.step(row["name"], row["subject"])
    title = row["plan_title"] or row["business_key"] or f"#{row['instance_id']}"
    notes = []
    if row["on_behalf_of"]:
        notes.append(f"代{names.get(row['on_behalf_of'], row['on_behalf_of'])}")
    if row["may_claim"]:
        notes.append("待认领")
    # judged by its first deadline when a later one was ordered (限期报送), the ordered one beside it
    judged = row["judged_due_at"]
    due_at = datetime.fromisoformat(judged)
    # due_provisional: engine/provisional.py, marked by the inbox's query
    _, left = deadline_words(due_at, calendar, now, bool(row.get("due_provisional")))
    line = f"{n}. {title}：{step}" + (f"（{'，'.join(notes)}）" if notes else "")
    ordered = f"（另定期限 {display.deadline(row['due_at'])}）" if row["due_at"] and row["due_at"] != judged else ""
    found = [line, f"   办理期限：{display.deadline(judged)}{ordered}（{left}）"]
    if link:
        found.append(f"   办理：{link}/tasks/{row['id']}")
    return found

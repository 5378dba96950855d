"""The words of a notification mail: plain text, Chinese, with a short English paragraph. Which
plan, which step, its deadline in China time with the working days left, who urged and what
they said, and a link to the step (or, without REFORMFLOW_BASE_URL, where to find it). Never a
form's values or a file: a mail leaves the office's systems."""
from __future__ import annotations

from datetime import datetime

from . import clock, display
from .deadlines import last_local_day
from .provisional import count_guessed, counted_over_unknown_year

# a deadline counted in working days over a year with no holidays entered (engine/provisional.py)
PROVISIONAL = "暂定：该年节假日安排尚未录入，此期限暂按法定节假日和周末计算，调休未录入，录入后可能变动"
COUNT_GUESSED = "工作日数为估算：所跨年份的节假日安排尚未录入"
PROVISIONAL_EN = "provisional: counted on the statutory holidays and weekends, the year's swapped days not entered yet"

# kind -> (subject tag, the opening sentence, English)
_SAYS = {
    "task_new": ("待办", "您有一项新的待办事项。", "You have a new step to do"),
    "task_assigned": ("指派", "改革办已将以下待办指派给您办理。", "The reform office assigned you a step"),
    "task_urged": ("催办", "以下待办被催办，请抓紧办理。", "A step you hold (or may take) was urged"),
    "task_reminded": ("提醒", "以下待办即将到期或已到提醒时间，请及时办理。", "Reminder of a step"),
    "task_overdue": ("逾期", "以下方案的办理已逾期，已上报至您处处理。", "An overdue step was escalated to you"),
    # a reminder that fell due while the timer worker was stopped and fired only after the deadline
    # (engine/reminders.py): not "deadline approaching", but that it has passed
    "task_late": ("逾期", "以下待办已超过办理期限，请尽快办理。", "A step you hold (or may take) is past its deadline"),
    "task_returned": ("待认领", "以下待办已交回待认领，您可以认领办理。", "A step is back to be claimed"),
}
# why a step went back to its candidates (task_unclaimed's reason): its holder left or moved
_RETURNED_WHY = {"user_deactivated": "原办理人已停用", "unit_changed": "原办理人已调离本单位"}


def message(kind: str, row, payload: dict, *, to: str, actor: str, link: str | None, calendar,
            now: datetime, for_whom: str | None = None) -> tuple[str, str]:
    """(subject, body) of a mail about the step `row` (its plan's title joined in). `calendar`:
    a callable giving the working-day calendar, only called for a step with a deadline.
    `for_whom`: the display name of the person away whom `to` acts for (委托办理)."""
    tag, opening, english = _SAYS[kind]
    step = display.step(row.name, row.subject)
    title = row.title or row.business_key or f"#{row.instance_id}"
    if for_whom:
        tag = f"{tag}·代{for_whom}"
        opening = f"{for_whom}委托您在其离岗期间代为办理。{opening.replace('您', for_whom)}"
        english = f"{english} (to {for_whom}, whom you act for while they are away)"
    lines = [f"{to}：您好！", "", opening, "", f"方案：{title}" + (f"（{row.business_key}）" if row.business_key
                                                                 and row.business_key != title else ""),
             f"环节：{step}"]
    due_en = ""
    if row.due_at is not None:
        working_days = calendar()
        provisional = counted_over_unknown_year(working_days, row.due_basis, row.created_at, row.due_at)
        day, left = deadline_words(row.due_at, working_days, now, provisional)  # engine/provisional.py
        due_en = f", due {display.deadline(row.due_at.isoformat())} (China time)"
        if provisional:
            due_en += f" ({PROVISIONAL_EN})"
        lines.append(f"办理期限：{display.deadline(row.due_at.isoformat())}（{left}）")
    if kind == "task_urged":
        lines.append(f"催办人：{actor}")
        lines.append(f"催办说明：{payload.get('note') or ''}")
    elif kind == "task_assigned":
        lines.append(f"指派人：{actor}")
    elif kind == "task_returned":
        holder = (payload.get("old") or {}).get("assignee")
        why = _RETURNED_WHY.get(payload.get("reason"), "原办理人交回")
        lines.append(f"交回原因：{why}" + (f"（{holder}）" if holder else ""))
    lines.append("")
    if link:
        url = f"{link}/tasks/{row.id}"
        lines.append(f"办理：{url}")
        where_en = f"Open it: {url}"
    else:
        lines.append("请登录改革方案审批系统，在“我的待办”中查看并办理。")
        where_en = "Open your inbox in the reform plan system to see it."
    lines += ["", f"({english}: \"{step}\" of \"{title}\"{due_en}. {where_en})", "",
              "此邮件由系统自动发送，请勿回复。"]
    # a title or step name is people's text: a line break in it must not end the Subject header
    subject = " ".join(f"【{tag}】{title}：{step}".split())
    return subject[:300], "\n".join(lines) + "\n"


def deadline_words(due_at: datetime, calendar, now: datetime, provisional: bool = False) -> tuple:
    """The day a deadline runs to (a date deadline is stored as the next local midnight) and how
    many working days are left, said in Chinese; `provisional` (the deadline itself counted over a
    year nobody entered) adds PROVISIONAL, and a count over such a year that is not adds COUNT_GUESSED."""
    day = last_local_day(due_at)
    today = now.astimezone(clock.TZ).date()
    if day == today:
        # a deadline with a time of day (P7D from when the step opened) may have passed already
        words = "已逾期" if due_at <= now else "今天到期"
    else:
        n = calendar.working_days_between(today, day)
        words = (f"已逾期 {-n} 个工作日" if n else "已逾期") if day < today else f"距期限还有 {n} 个工作日"
        if not provisional and count_guessed(calendar, today, day):
            words += f"；{COUNT_GUESSED}"
    return day, words + (f"；{PROVISIONAL}" if provisional else "")

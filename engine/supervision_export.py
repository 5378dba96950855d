"""The supervision and rectification ledger said for people: its lines on the command line and its
file (.xlsx with the supervision and rectification cells filled in their colours, or .csv,
engine/tables.py). One row per plan, those needing attention first."""
from __future__ import annotations

from .display import counted, deadline, minute
from .tables import STATUS_NAMES, colour_cell, header_row, save, title_row, wrap

SUPERVISION_NAMES = {"overdue": ("逾期未督察", "not supervised, overdue"), "due": ("未到督察期限", "not due yet"),
                     "done": ("已督察", "supervised"), "cancelled": ("方案已终止，未督察", "plan cancelled, not supervised")}
NOTICE_NAMES = {"overdue": ("逾期未报告", "rectification overdue"), "re_review": ("复核中", "under re-review"),
                "further": ("复查未通过·责令继续整改", "re-inspection failed, further rectification"),
                "rectifying": ("整改中", "rectifying"), "reported": ("已报告待复查", "reported, awaiting re-inspection"),
                "closed": ("已销号", "closed"), "withdrawn": ("已撤销（复核）", "withdrawn on re-review"),
                "cancelled": ("方案已终止", "plan cancelled")}
DECISION_NAMES = {"upheld": "维持", "changed": "变更", "withdrawn": "撤销"}
HEADERS = ("编号", "业务编号", "方案名称", "牵头单位", "责任人", "实施开始日期", "督察情况", "督察期限", "督察日期",
           "督察方式", "督察发现", "整改意见书文号", "送达日期", "问题清单", "整改期限", "整改情况", "逾期天数",
           "整改报告时间", "复核", "复查意见", "责令继续整改次数", "销号日期", "约谈情况", "方案状态")
# the cells filled in colour, in the file and on the web page (web/reports.py)
SUPERVISION_FILLS = {"overdue": "red", "done": "green"}
NOTICE_FILLS = {"overdue": "red", "further": "yellow", "re_review": "yellow", "closed": "green", "withdrawn": "green"}
_WIDTHS = (6, 14, 30, 16, 10, 12, 16, 12, 12, 12, 30, 18, 12, 36, 12, 22, 8, 17, 24, 28, 8, 12, 30, 8)


def write(result: dict, path: str) -> None:
    """Write the ledger to `path`, its format from the extension."""
    table = [_cells(row) for row in result["plans"]]
    save(path, ("督察整改台账", "supervision ledger"), HEADERS, table, lambda book: _fill(book, result, table))


def _fill(book, result: dict, table: list[list]) -> None:
    sheet = book.active
    sheet.title = "督察整改台账"
    title_row(sheet, f"{_title(result)}（截至 {minute(result['as_of'])}）")
    header_row(sheet, HEADERS, _WIDTHS)
    watched, rectified = HEADERS.index("督察情况") + 1, HEADERS.index("整改情况") + 1
    for line, (row, cells) in enumerate(zip(result["plans"], table), start=sheet.max_row + 1):
        sheet.append(cells)
        notice = row["notice"]
        colour_cell(sheet, line, watched, SUPERVISION_FILLS.get(row["supervision"]["state"]))
        colour_cell(sheet, line, rectified, NOTICE_FILLS.get(notice["state"]) if notice else None)
    wrap(sheet, 3)
    sheet.auto_filter.ref = f"A2:{sheet.cell(sheet.max_row, len(HEADERS)).coordinate}"


def _cells(row: dict) -> list:
    watched, notice = row["supervision"], row["notice"] or {}
    state = notice.get("state")
    return [row["id"], row["business_key"] or "", row["title"], row["lead_unit"] or "", row["responsible_person"] or "",
            row["implementation_start"] or "", _supervision_cell(watched),
            deadline(watched["due_at"]) if watched["due_at"] else "", watched["date"] or "", watched["method"] or "",
            watched["findings"] or "", notice.get("number") or "", notice.get("served_on") or "",
            notice.get("problem_list") or "", notice.get("deadline") or "",
            NOTICE_NAMES[state][0] if state else ("无需整改" if watched["state"] == "done" else ""),
            notice.get("days_overdue") or "", _minute(notice.get("reported_at")),
            re_review_text(notice["re_review"]) if notice.get("re_review") else "",
            (notice["reinspection"]["opinion"] or "") if notice.get("reinspection") else "",
            notice.get("further_orders") or "", notice.get("closed_on") or "",
            interview_text(notice["interview"]) if notice.get("interview") else "",
            STATUS_NAMES.get(row["status"], row["status"])]


def _supervision_cell(watched: dict) -> str:
    name = SUPERVISION_NAMES[watched["state"]][0]
    return f"{name}（逾期 {watched['days_late']} 天）" if watched["state"] == "overdue" else name


def _title(result: dict) -> str:
    return f"{result['year']}年度督察整改台账" if result["year"] else "督察整改台账"


def lines(result: dict) -> list[str]:
    """The ledger as the command line prints it (without colour codes)."""
    scope = f"{result['year']} 年实施中的方案" if result["year"] else "实施中的方案"
    out = [f"{_title(result)}：{scope}（截至 {minute(result['as_of'])}） "
           f"(supervision and rectification ledger{' ' + str(result['year']) if result['year'] else ''})"]
    if not result["plans"]:
        out.append("  （无 none）")
    for row in result["plans"]:
        mark = "【！】" if row["attention"] else ""
        who = "，".join(filter(None, [row["lead_unit"], row["responsible_person"]]))
        key = f"{row['business_key']} " if row["business_key"] else ""
        out.append(f"  {mark}#{row['id']} {key}{row['title']}{f'（{who}）' if who else ''} "
                   f"[{STATUS_NAMES.get(row['status'], row['status'])}]")
        out.append("    " + supervision_text(row["supervision"]))
        if row["notice"]:
            out += ["    " + line for line in notice_lines(row["notice"])]
    out.append("  " + summary_text(result["summary"]))
    return out


def supervision_text(watched: dict) -> str:
    zh, en = SUPERVISION_NAMES[watched["state"]]
    due = f"期限 {deadline(watched['due_at'])}" if watched["due_at"] else "无期限"
    if watched["state"] == "done":
        late = f"，迟 {watched['days_late']} 天" if watched["days_late"] else ""
        found = "，发现问题需要整改" if watched["problems_found"] else "，未发现需要整改的问题"
        return (f"督察 (supervision)：{zh} ({en})，{due}{late}；{watched['date']} {watched['method'] or ''}："
                f"{watched['findings'] or ''}{found}")
    late = f"，已逾期 {watched['days_late']} 天 ({counted(watched['days_late'], 'day')} overdue)" \
        if watched["state"] == "overdue" else ""
    return f"督察 (supervision)：{zh} ({en})，{due}{late}"


def notice_lines(notice: dict) -> list[str]:
    zh, en = NOTICE_NAMES[notice["state"]]
    changed = f"（原期限 {notice['original_deadline']}，经复核变更）" if notice["changed"] else ""
    out = [f"整改意见书 (notice)：{notice['number']}，{notice['served_on']} 送达，整改期限 {notice['deadline']}{changed} "
           f"[{zh} {en}]" + _state_detail(notice),
           f"  问题清单：{notice['problem_list'] or ''}"]
    if notice["re_review"]:
        out.append(f"  复核 (re-review)：{re_review_text(notice['re_review'])}")
    if notice["reinspection"]:
        check = notice["reinspection"]
        result = "通过" if check["result"] == "passed" else "未通过"
        out.append(f"  复查 (re-inspection)：{minute(check['at'])} {check['by'] or ''} {result}：{check['opinion'] or ''}"
                   + (f"；已责令继续整改 {notice['further_orders']} 次" if notice["further_orders"] else ""))
    if notice["interview"]:
        out.append(f"  约谈 (interview)：{interview_text(notice['interview'])}")
    return out


def _state_detail(notice: dict) -> str:
    if notice["state"] == "overdue":
        return f"，已逾期 {notice['days_overdue']} 天 ({counted(notice['days_overdue'], 'day')} overdue)"
    if notice["state"] == "closed":
        return f"，{notice['closed_on']} 销号"
    if notice["state"] == "withdrawn":
        return f"，{notice['withdrawn_on']} 撤销"
    if notice["state"] == "reported" and notice["reported_at"]:
        return f"，{minute(notice['reported_at'])} 报告整改情况"
    return ""


def re_review_text(review: dict) -> str:
    if review["decision"] is None:
        return f"{minute(review['requested_at'])} 申请复核，待决定：{review['reasons'] or ''}"
    return (f"{minute(review['requested_at'])} 申请复核，{minute(review['decided_at'])} 决定"
            f"{DECISION_NAMES.get(review['decision'], review['decision'])}：{review['decision_reasons'] or ''}")


def interview_text(interview: dict) -> str:
    if not interview["recorded"]:
        return "已决定约谈责任领导，约谈情况待记录 (interview ordered, not yet recorded)"
    return f"{interview['date']} 约谈 {interview['interviewee'] or ''}：{interview['record'] or ''}"


def summary_text(totals: dict) -> str:
    return (f"共 {totals['plans']} 个方案，需关注 {totals['attention']} 个：已督察 {totals['supervised']}、"
            f"未督察 {totals['not_supervised']}（逾期 {totals['supervision_overdue']}）；整改意见书 {totals['notices']} 份："
            f"未销号 {totals['notices_open']}（逾期 {totals['rectification_overdue']}）、已销号 {totals['notices_closed']}、"
            f"已撤销 {totals['notices_withdrawn']} ({counted(totals['plans'], 'plan')}, {totals['attention']} needing "
            f"attention; {totals['supervised']} supervised, {totals['supervision_overdue']} overdue; "
            f"{counted(totals['notices'], 'notice')}, {totals['notices_open']} open, {totals['notices_closed']} closed)")


def _minute(value: str | None) -> str:
    return minute(value) if value else ""

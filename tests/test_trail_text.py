"""A plan's trail in one language or both (engine/trail_text.py): the command line keeps the
lines it printed before the wording left engine/cli.py, word for word; the web page says each
event in Chinese only or English only."""
from __future__ import annotations

import pytest

from engine.cli.plans import _what
from engine.trail_text import said

# one or more events per way an event is said
DUE = "2027-01-09T00:00:00+08:00"
EVENTS = [
    {"event_type": "instance_started", "name": None, "payload": {"key": "reform_plan", "version": 3}},
    {"event_type": "task_created", "name": "起草方案", "to_names": "张伟", "payload": {"element_id": "Task_Draft", "assignee": "zhang"}},
    {"event_type": "task_created", "name": "审核", "subject": "市财政局", "to_names": "法制机构、改革办",
     "payload": {"candidate_groups": ["legal", "reform_office"], "due_at": DUE,
                 # recorded before the law's holidays were counted (engine/statutory_holidays.py)
                 "calendar_warnings": ["尚无 2027 年节假日安排，涉及该年的工作日期限将只按周末计算"]}},
    {"event_type": "task_created", "name": "起草", "payload": {"candidate_groups": ["drafter"], "candidate_users": ["wang"],
     "assignee_inactive": "zhao"}},
    {"event_type": "task_created", "name": "起草", "to_names": "起草人", "payload": {"candidate_groups": ["drafter"],
     "assignee_outside_unit": "zhang", "unit": "市财政局", "candidate_unit": "市科技局"}},
    {"event_type": "task_created", "name": "起草", "to_names": "起草人", "payload": {"candidate_groups": ["drafter"],
     "assignee_outside_unit": "zhang", "candidate_unit": "市科技局"}},
    {"event_type": "task_claimed", "name": "合法合规性审查", "payload": {}},
    {"event_type": "task_unclaimed", "name": "合法合规性审查", "payload": {}},
    {"event_type": "task_unclaimed", "name": "合法合规性审查", "payload": {"reason": "user_deactivated"}},
    {"event_type": "task_unclaimed", "name": "合法合规性审查", "payload": {"reason": "unit_changed"}},
    {"event_type": "task_assigned", "name": "审核", "to_names": "孙强", "payload": {"new": {"assignee": "sun"}}},
    {"event_type": "task_assigned", "name": "审核", "payload": {"new": {"assignee": "sun"}, "reason": "returned"}},
    {"event_type": "task_assigned", "name": "起草", "to_names": "马丽", "payload": {"new": {"assignee": "ma"},
     "candidate_unit": "市科技局", "unit": "市财政局"}},
    {"event_type": "task_assigned", "name": "起草", "to_names": "马丽", "payload": {"new": {"assignee": "ma"},
     "candidate_unit": "市科技局", "unit": None}},
    {"event_type": "task_completed", "name": "审核", "payload": {}, "values": []},
    {"event_type": "task_completed", "name": "审核", "payload": {}, "values": [
        {"label": "审核意见", "value": "内容可行", "option": None},
        {"label": "审核结论", "value": "return", "option": "退回修改"},
        {"label": "试点", "value": True, "option": None},
        {"label": "已公开", "value": False, "option": None},
        {"label": "举措数", "value": 7, "option": None}]},
    {"event_type": "task_cancelled", "name": "起草", "payload": {}},
    {"event_type": "task_cancelled", "name": "起草", "payload": {"reason": "plan_cancelled"}},
    {"event_type": "instance_cancelled", "name": None, "payload": {"reason": "情况变化"}},
    {"event_type": "task_reminded", "name": "报送备案", "payload": {"to": ["wang", "group:drafter"]}},
    {"event_type": "task_reminded", "name": "报送备案", "payload": {"to": []}},
    {"event_type": "task_due_changed", "name": "审核", "payload": {"old": {"due_at": DUE}, "new": {"due_at": "2027-01-12T00:00:00+08:00"},
     "reason": "calendar"}},
    {"event_type": "task_due_changed", "name": "审核", "payload": {"old": {"due_at": None, "inputs": {}}, "new": {"due_at": "2027-01-12T09:30:00+08:00"}}},
    {"event_type": "task_due_changed", "name": "审核", "payload": {"old": {"due_at": DUE}, "new": {}}},
    {"event_type": "timer_fired", "name": None, "payload": {"element_id": "Timer_Remind"}},
    # fired 3 days and 9 hours after it was due (the worker was stopped), and 5 minutes after: on time
    {"event_type": "timer_fired", "name": "备案到期", "occurred_at": "2026-12-17T09:00:00+08:00",
     "payload": {"element_id": "Event_FilingOverdue", "due": "2026-12-15T00:00:00+08:00"}},
    {"event_type": "timer_fired", "name": "备案到期", "occurred_at": "2026-12-15T00:05:00+08:00",
     "payload": {"element_id": "Event_FilingOverdue", "due": "2026-12-15T00:00:00+08:00"}},
    {"event_type": "task_overdue_notice", "name": "报送备案", "payload": {"to": ["wang"]}},
    {"event_type": "timer_moved", "name": "催办", "payload": {"old": {"due": DUE}, "new": {"due": "2027-01-12T00:00:00+08:00"}, "reason": "calendar"}},
    {"event_type": "escalation", "name": "上报", "payload": {"code": "late"}},
    {"event_type": "message_received", "name": "材料补正", "payload": {}},
    {"event_type": "signal_received", "name": "暂停", "payload": {}},
    {"event_type": "document_attached", "name": "起草方案", "payload": {"new": {"file_name": "方案稿.docx", "sha256": "ab" * 32}}},
    {"event_type": "instance_ended", "name": None, "payload": {"end_name": "方案印发"}},
    {"event_type": "instance_ended", "name": None, "payload": {"end_event": "End_1"}},
    {"event_type": "instance_ended", "name": None, "payload": {}},
    {"event_type": "audit_anchor", "name": None, "payload": {}},
    {"event_type": "token_created", "name": None, "payload": {"username": "zhang", "new": {"id": 1, "name": "OA 系统"}}},
    {"event_type": "token_revoked", "name": None, "payload": {"username": "zhang", "new": {"id": 1, "name": "OA 系统"}}},
]

# what `reformflow history` printed for each before the wording moved out of engine/cli.py
BOTH = [
    "发起方案 (started) reform_plan v3",
    "生成待办 (task created) 起草方案（张伟）",
    "生成待办 (task created) 审核（市财政局）（法制机构、改革办，期限 (due) 2027-01-08；按周末推算，2027 年节假日当时未录入 (counted on plain weekends: no holiday calendar for 2027 then)）",
    "生成待办 (task created) 起草（drafter、wang）；原办理人 zhao 已停用 (assignee zhao deactivated)",
    "生成待办 (task created) 起草（起草人）；原办理人 zhang 属市财政局，本任务限市科技局 (assignee zhang is outside 市科技局)",
    "生成待办 (task created) 起草（起草人）；原办理人 zhang 属未设单位，本任务限市科技局 (assignee zhang is outside 市科技局)",
    "认领 (claimed) 合法合规性审查",
    "交回 (unclaimed) 合法合规性审查",
    "交回 (unclaimed) 合法合规性审查：办理人已停用，交回候选人 (holder deactivated)",
    "交回 (unclaimed) 合法合规性审查：办理人已调离本单位，交回候选人 (holder moved to another unit)",
    "指派 (assigned) 审核 → 孙强",
    "指派 (assigned) 审核 → sun，退回本人 (returned)",
    "指派 (assigned) 起草 → 马丽，本任务限市科技局，指派给市财政局人员 (outside 市科技局)",
    "指派 (assigned) 起草 → 马丽，本任务限市科技局，指派给未设单位人员 (outside 市科技局)",
    "提交 (completed) 审核",
    "提交 (completed) 审核：审核意见 = 内容可行；审核结论 = return（退回修改）；试点 = 是；已公开 = 否；举措数 = 7",
    "撤销待办 (cancelled) 起草",
    "撤销待办 (cancelled) 起草（方案终止 plan stopped）",
    "终止方案 (plan stopped)：情况变化",
    "提醒 (reminded) 报送备案：wang、角色 (group) drafter",
    "提醒 (reminded) 报送备案：-",
    "期限变更 (due changed) 审核：2027-01-08 → 2027-01-11（节假日安排录入或撤销后重算 (calendar changed)）",
    "期限变更 (due changed) 审核：— → 2027-01-12 09:30（所依据的内容已修改 (the values it counts from changed)）",
    "期限变更 (due changed) 审核：2027-01-08 → —",
    "定时到期 (timer fired) Timer_Remind",
    "定时到期 (timer fired) 备案到期（应于 2026-12-14 到期，迟 2 天触发 (due 2026-12-14, fired 2 days late)）",
    "定时到期 (timer fired) 备案到期",
    "逾期通知 (overdue notice) 报送备案：wang（期限已过，未发送将到期提醒 (past its deadline: no reminder sent)）",
    "定时改期 (timer moved) 催办：2027-01-08 → 2027-01-11（节假日安排录入或撤销后重算 (calendar changed)）",
    "上报 (escalation) 上报（late）",
    "收到消息 (message) 材料补正",
    "收到信号 (signal) 暂停",
    "上传附件 (file attached) 起草方案：方案稿.docx（SHA-256 abababababababab…）",
    "方案结束 (ended)：方案印发",
    "方案结束 (ended)：End_1",
    "方案结束 (ended)：-",
    "audit_anchor",
    "创建访问令牌 (access token created) OA 系统（zhang）",
    "撤销访问令牌 (access token revoked) OA 系统（zhang）",
]


@pytest.mark.parametrize("event, line", list(zip(EVENTS, BOTH)))
def test_the_command_line_says_each_event_as_it_did(event, line):
    assert _what(event) == said(event) == said(event, "both") == line


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e["event_type"])
def test_chinese_has_no_english_words_and_english_no_chinese_ones_of_its_own(event):
    zh, en = said(event, "zh"), said(event, "en")
    for word in ("started", "created", "claimed", "assigned", "completed", "reminded", "due", "file", "ended",
                 "calendar", "plan stopped", "holder", "group", "(", ")"):
        assert word not in zh, (word, zh)
    # the English keeps the names people and diagrams gave (张伟, 审核), not the engine's words
    for word in ("发起", "生成待办", "认领", "交回", "指派", "提交", "撤销", "终止", "提醒", "期限", "上传附件",
                 "方案结束", "原办理人", "按周末", "角色", "，", "：", "；"):
        assert word not in en, (word, en)


def test_a_deadline_counted_on_the_statutory_holidays_says_so_and_an_older_one_still_says_plain_weekends():
    """The trail is what was done then: a deadline counted before the law's holidays were (its
    warning said 只按周末计算) keeps its words; one counted now says the statutory holidays."""
    now = {**EVENTS[2], "payload": {**EVENTS[2]["payload"], "calendar_warnings": [
        "尚无 2027 年节假日安排，涉及该年的工作日期限暂按法定节假日和周末计算，调休未录入；…"]}}
    assert said(now, "zh").endswith("期限 2027-01-08；按法定节假日和周末推算，2027 年调休当时未录入）")
    assert said(now, "en").endswith("due 2027-01-08; counted on the statutory holidays and weekends: "
                                    "no holiday calendar for 2027 then)")
    assert "按周末推算，2027 年节假日当时未录入" in said(EVENTS[2], "zh")
    earliest = {**EVENTS[2], "payload": {**EVENTS[2]["payload"], "calendar_warnings": [  # before 3 December 2026
        "尚无 2027 年节假日安排，工作日暂按周一至周五计算"]}}
    assert said(earliest, "zh").endswith("按周末推算，2027 年节假日当时未录入）")


def test_a_timer_that_fired_late_says_when_it_was_due_in_the_pages_dates():
    """「2026-12-17 定时到期 备案期限届满」 said nothing of its being due on the 14th."""
    late = next(e for e in EVENTS if e.get("occurred_at") == "2026-12-17T09:00:00+08:00")
    assert said(late, "zh", chinese_dates=True) == "定时到期 备案到期（应于 2026年12月14日 到期，迟 2 天触发）"
    assert said(late, "en") == "timer fired 备案到期 (due 2026-12-14, fired 2 days late)"
    hours = {**late, "occurred_at": "2026-12-15T05:30:00+08:00"}
    assert said(hours, "zh").endswith("（应于 2026-12-14 到期，迟 5 小时触发）")
    assert said(hours, "en").endswith("(due 2026-12-14, fired 5 hours late)")


def test_each_language_reads_as_a_sentence():
    created, completed = EVENTS[2], EVENTS[15]
    assert said(created, "zh") == ("生成待办 审核（市财政局）（法制机构、改革办，期限 2027-01-08；"
                                   "按周末推算，2027 年节假日当时未录入）")
    assert said(created, "en") == ("task created 审核（市财政局） (法制机构、改革办, due 2027-01-08; "
                                   "counted on plain weekends: no holiday calendar for 2027 then)")
    # a page shows a choice by the name people chose it by; the terminal also gives its code
    assert said(completed, "en") == ("completed 审核: 审核意见 = 内容可行; 审核结论 = 退回修改; "
                                     "试点 = yes; 已公开 = no; 举措数 = 7")
    assert said(completed, "zh").startswith("提交 审核：审核意见 = 内容可行；审核结论 = 退回修改；")
    assert "审核结论 = return（退回修改）" in said(completed)
    assert said(EVENTS[17], "zh") == "撤销待办 起草（方案终止）"
    assert said(EVENTS[17], "en") == "cancelled 起草 (plan stopped)"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError):
        said(EVENTS[0], "fr")


def test_a_page_names_the_process_and_no_diagram_code():
    started = {"event_type": "instance_started", "name": "改革方案全流程", "payload": {"key": "reform_plan", "version": 1}}
    assert said(started, "zh") == "发起方案「改革方案全流程」（第 1 版）"
    assert said(started, "en") == "started “改革方案全流程” (version 1)"
    assert said(EVENTS[0], "en") == "started reform_plan v3"  # a process no longer known by name
    assert said(started) == "发起方案 (started) reform_plan v1"  # the command line keeps the key it starts with
    assert said(EVENTS[0], "zh") == "发起方案 reform_plan（第 3 版）"  # a process no longer known by name
    escalated = {"event_type": "escalation", "name": "逾期上报改革办", "payload": {"code": "filing_overdue"}}
    assert said(escalated, "zh") == "上报 逾期上报改革办"
    assert said(escalated, "en") == "escalation 逾期上报改革办 (filing_overdue)"


@pytest.mark.parametrize("event", [
    {"event_type": "user_added", "name": None, "payload": {"username": "qian", "display_name": "钱进", "groups": ["drafter"]}},
    {"event_type": "group_added", "name": None, "payload": {"code": "pilot", "display_name": "试点组"}},
])
def test_an_added_user_or_group_reads_as_the_auditors_filter_and_the_people_page_name_it(event):
    # the 用户 page's link, the command's answer and /audit/events' filter all say 添加用户/添加角色
    from engine.planless import KINDS
    zh, en = KINDS[event["event_type"]]
    assert zh.startswith("添加") and said(event, "zh").startswith(zh + " ") and said(event, "en").startswith(en + " ")


def test_a_chinese_page_asks_for_its_dates_and_every_other_reader_keeps_iso():
    """The web's Chinese page writes the trail's dates as its others (2027年1月8日) when it says so;
    the command line, the audit trail's CSV and the API call `said` without it and keep ISO."""
    moved = next(e for e in EVENTS if e["event_type"] == "task_due_changed")
    assert said(moved, "zh", chinese_dates=True) == "期限变更 审核：2027年1月8日 → 2027年1月11日（节假日安排录入或撤销后重算）"
    assert said(moved, "zh") == "期限变更 审核：2027-01-08 → 2027-01-11（节假日安排录入或撤销后重算）"
    # only a line in Chinese alone: the English page's and the terminal's stay ISO whatever is asked
    assert said(moved, "en", chinese_dates=True) == said(moved, "en")
    assert said(moved, "both", chinese_dates=True) == said(moved) == BOTH[EVENTS.index(moved)]
    created = EVENTS[2]
    assert "期限 2027年1月8日；" in said(created, "zh", chinese_dates=True)
    timer = next(e for e in EVENTS if e["event_type"] == "timer_moved")
    assert said(timer, "zh", chinese_dates=True) == "定时改期 催办：2027年1月8日 → 2027年1月11日（节假日安排录入或撤销后重算）"
    calendar = {"event_type": "calendar_changed", "name": None, "payload": {
        "day": "2027-10-08", "old": {"working": None}, "new": {"working": True}, "note": "国庆节调休"}}
    assert said(calendar, "zh", chinese_dates=True) == "节假日安排 2027年10月8日：未录入 → 工作日（国庆节调休）"
    assert said(calendar) == "节假日安排 (calendar) 2027-10-08：未录入 (not entered) → 工作日 (working day)（国庆节调休）"
    entered = {"event_type": "task_completed", "name": "印发", "payload": {}, "values": [
        {"field": "issuedOn", "label": "印发日期", "value": "2026-10-27", "option": None},
        {"field": "number", "label": "文号", "value": "同改发〔2026〕7号", "option": None}]}
    assert said(entered, "zh", chinese_dates=True) == "提交 印发：印发日期 = 2026年10月27日；文号 = 同改发〔2026〕7号"
    assert said(entered, "zh") == "提交 印发：印发日期 = 2026-10-27；文号 = 同改发〔2026〕7号"

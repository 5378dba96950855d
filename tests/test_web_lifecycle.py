"""One reform plan through the whole procedure, only through the web pages, as each person would
do it in their own browser: the drafter starts and drafts it, the public is consulted (the 30-day
rule), experts argue it, its risk is assessed, the special group reviews it, the legal office
returns it once with a reason and the drafter redrafts, the reform office reviews it, the group
leader puts it on the agenda, the meeting is recorded, the standing committee decides, it is
issued, filed on time and its archive handed over; the reform office watches the ledger and
assigns a step nobody has claimed. The plan ends `completed` with an intact audit chain.

The timer worker (`reformflow web` runs it beside the pages) is the one thing not done by a
person: the test fires due timers itself where the worker would (the consultation period ends).
"""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from engine import clock, display
from engine.audit import verify

from .web_helper import sign_in

KEY = "DT-2026-QA"
TITLE = "深化预算绩效管理改革方案"


def _today(days: int = 0) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


class Desks:
    """Each person at their own browser, signed in once (a context each, as two people would)."""

    def __init__(self, browser, live):
        self.browser, self.live, self.pages = browser, live, {}

    def of(self, username: str):
        if username not in self.pages:
            context = self.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, self.live, username)
            self.pages[username] = page
        return self.pages[username]

    def close(self):
        for page in self.pages.values():
            page.context.close()
        self.pages.clear()


def open_step(page, live, step: str):
    """Find the plan's step in the inbox, as a person would: claim it if it is open, else open it."""
    page.goto(f"{live.url}/tasks?scope=all")
    row = page.locator("table.inbox tbody tr", has_text=KEY).filter(has_text=step)
    expect(row).to_have_count(1)
    claim = row.get_by_role("button", name="认领")
    if claim.count():
        claim.click()
        expect(page.locator(".flash.ok")).to_contain_text("已认领任务")
    else:
        row.get_by_role("link", name=re.compile(step)).click()
    expect(page.locator("h1")).to_contain_text(step)
    return page


def fill(page, values: dict) -> None:
    """Fill the task form's fields by their labels' field ids: text, dates, numbers, choices (by the
    name shown), tick boxes."""
    for field, value in values.items():
        box = page.locator(f'[data-field="{field}"]').locator("input, select, textarea").first
        kind = box.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            box.select_option(label=value)
        elif kind == "input:checkbox":
            box.set_checked(bool(value))
        else:
            box.fill(str(value))


def do(desks, live, who: str, step: str, values: dict, *, see: tuple[str, ...] = (), confirm: bool = False):
    """`who` opens `step` from their inbox, sees `see` on its page, fills it in and submits it
    (`confirm`: a decision that sends the plan back, asked about first, and confirmed)."""
    page = open_step(desks.of(who), live, step)
    for text in see:
        expect(page.locator("main")).to_contain_text(text)
    fill(page, values)
    page.get_by_role("button", name="提交").click()
    if confirm:
        page.get_by_role("button", name="确认提交").click()
    expect(page.locator(".flash.ok").first).to_contain_text(f"已提交「{step}")
    return page


def test_a_plan_goes_through_the_whole_procedure_in_the_browser(browser, live, demo_engine):
    desks = Desks(browser, live)
    try:
        _lifecycle(desks, live, demo_engine)
    finally:
        desks.close()


def _lifecycle(desks, live, engine):
    # ---- the drafter starts the plan (发起方案) and registers it
    zhang = desks.of("zhang")
    zhang.get_by_role("link", name="发起方案").click()
    zhang.get_by_role("link", name=re.compile("改革方案全流程")).click()
    zhang.get_by_label("方案名称").fill(TITLE)
    zhang.get_by_label("业务编号").fill(KEY)
    zhang.get_by_role("button", name="发起").click()
    expect(zhang.locator(".flash.ok")).to_contain_text(f"已发起方案「{TITLE}」")
    plan_id = int(re.search(r"/plans/(\d+)", zhang.url).group(1))

    do(desks, live, "zhang", "确认方案任务信息", {
        "leadUnit": "市财政局", "responsiblePerson": "张伟", "plannedCompletion": _today(180),
        "category": "重大改革方案（领导小组会议审议）", "touchesPublicInterest": True, "technical": True,
        "riskAssessmentRequired": True, "partyDocument": True})
    do(desks, live, "zhang", "调查研究", {"researchSummary": "赴三个区县调研，\n形成调研报告"})
    do(desks, live, "zhang", "起草方案", {"draftSummary": "方案初稿"})
    _consult_and_argue(desks, live, engine, plan_id, first=True)

    # ---- the legal office returns it with a reason; the drafter sees it and redrafts
    do(desks, live, "li", "合法合规性审查", {
        "legalityResult": "不通过", "legalityOpinion": "第三部分缺少上位法依据",
        "returnReason": "缺少上位法依据，请补充后重新送审"}, confirm=True)
    page = open_step(desks.of("zhang"), live, "起草方案")
    expect(page.locator('[data-field="returnReason"]')).to_contain_text("缺少上位法依据，请补充后重新送审")
    fill(page, {"draftSummary": "方案修改稿", "revisionNotes": "已补充上位法依据"})
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash.ok").first).to_contain_text("已提交「起草方案")
    _consult_and_argue(desks, live, engine, plan_id, first=False)
    do(desks, live, "li", "合法合规性审查", {"legalityResult": "通过", "legalityOpinion": "符合法律法规"})

    # ---- the reform office, the group leader, the meeting, the standing committee
    do(desks, live, "chen", "改革办审核拟上会方案", {"officeReviewDecision": "审核通过，提请审议"})
    do(desks, live, "liu", "组长审定议题", {"agendaDecision": "同意列入议题"})
    do(desks, live, "chen", "记录领导小组会议审议", {
        "meetingDate": _today(), "meetingPlace": "市委常委会议室", "meetingChair": "刘洋",
        "attendees": "刘洋、陈静、孙强", "memberStances": "均同意", "decision": "同意"})
    do(desks, live, "lin", "常委会议审定", {
        "meetingDate": _today(), "meetingPlace": "市委常委会议室", "meetingChair": "刘洋",
        "attendees": "常委会组成人员", "memberStances": "均同意", "standingCommitteeDecision": "同意"})

    # ---- issued, filed on time, the archive handed over
    do(desks, live, "zhang", "印发", {"documentNumber": "同改发〔2026〕20号", "issueDate": _today()})
    do(desks, live, "zhang", "移交决策档案", {
        "archiveHandedOverOn": _today(), "archiveReceiver": "市档案馆",
        "archiveContents": "决策草案及起草说明\n征求意见及采纳情况\n合法性审查意见\n会议记录"})
    do(desks, live, "zhang", "报送备案", {"filingDate": _today(), "filingMaterials": "正式文本、起草说明"})
    do(desks, live, "chen", "备案审查", {"filingComplete": True})

    # ---- the plan is done: everyone sees it so, the trail is intact
    zhang = desks.of("zhang")
    zhang.goto(f"{live.url}/plans/{plan_id}")
    expect(zhang.locator("h1 .status")).to_have_text("已办结：已备案")  # and how it ended (a plan turned down reads 已办结：方案未通过)
    assert engine.instance(plan_id)["status"] == "completed"
    chen = desks.of("chen")
    chen.goto(f"{live.url}/ledger?status=completed")
    row = chen.locator(f'tr[data-plan="{plan_id}"]')
    expect(row.locator("td.warning")).to_have_attribute("data-colour", "green")  # filed on time
    expect(row).to_contain_text(f"已于 {display.day(_today(), True)} 完成")  # as the page's other dates
    with engine.db.reader() as s:
        result = verify(s)
    assert result.ok, result.problems


def _consult_and_argue(desks, live, engine, plan_id: int, *, first: bool):
    """Public consultation (its 30-day rule), department opinions, expert argumentation (the office
    assigns it on the first pass), the public's and experts' opinions recorded, the risk
    assessment, the special group's review and the legal office's check of the materials."""
    consultation = {"consultationMethods": "网上公示、座谈会", "consultationStart": _today(), "consultationDays": 30}
    if first:  # 20 days and no reason: the 30-day rule refuses it at 提交, under the reason's field
        page = open_step(desks.of("zhang"), live, "发布公开征求意见")
        fill(page, {**consultation, "consultationDays": 20})
        page.get_by_role("button", name="提交").click()
        expect(page.locator("[data-field='shortenReason'] .problem")).to_contain_text(
            "为必填项：征求意见期限（日）为「20」")
    do(desks, live, "zhang", "发布公开征求意见", consultation)
    do(desks, live, "zhang", "征求相关部门意见", {
        "departmentsConsulted": "市发改委、市人社局", "departmentOpinionsHandling": "市发改委：同意；\n市人社局：建议分步实施，已采纳",
        "consensusReached": True})
    if first:  # nobody has claimed the expert argumentation: the office sees it in the ledger and assigns it
        chen = desks.of("chen")
        chen.goto(f"{live.url}/ledger")
        expect(chen.locator(f'tr[data-plan="{plan_id}"]')).to_contain_text("专家论证（待认领：专家）")
        chen.locator(f'tr[data-plan="{plan_id}"]').get_by_role("link", name=KEY).click()
        chen.locator("ul.steps").get_by_role("link", name="专家论证").click()
        expect(chen.locator("dl.facts")).to_contain_text("专家")
        chen.get_by_label("交给").select_option(label="吴磊（wu） · 市社科院")
        chen.get_by_role("button", name="指派").click()
        expect(chen.locator("dd.assignee")).to_have_text("吴磊（wu）")
    do(desks, live, "wu", "专家论证", {
        "expertPanel": "五人专家组：吴磊（市社科院）等", "expertOpinions": "可行；\n建议分步实施",
        "opinionsSigned": True, "conflictsExcluded": True})
    # the consultation period runs its 30 days (to the next working day if the 30th is a day off, so
    # 40 days on it is over whatever today is); the timer worker moves the plan on
    clock.set_override(clock.now() + timedelta(days=40))
    engine.fire_due_timers()
    desks.close()  # a month without a click: everyone's session has ended (web/session_timeout.py)
    do(desks, live, "zhang", "登记公众意见采纳情况", {
        "publicCommentsReceived": "收到意见37条", "publicCommentsHandling": "采纳12条，其余说明理由"})
    do(desks, live, "zhang", "登记专家意见采纳情况", {"expertOpinionsHandling": "采纳分步实施的建议"})
    do(desks, live, "zhou", "编制社会稳定风险评估报告", {
        "riskPoints": "征地补偿", "preventionMeasures": "提前公示", "responsePlan": "应急预案", "riskLevel": "低风险"})
    do(desks, live, "zhou", "登记随决策附带的风险防控措施", {"riskControls": "专人跟踪"})
    do(desks, live, "sun", "专项小组审核把关", {"specialGroupOpinion": "内容可行", "specialGroupDecision": "审核通过"})
    do(desks, live, "li", "核对送审材料是否齐全", {"materialsComplete": True})

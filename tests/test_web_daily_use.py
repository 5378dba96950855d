"""What the daily-use QA pass asked of the web pages (docs/users.md §0): a step sent back says who
sent it back, from where and when, and is marked 退回 in the inbox; a reviewer sees the material
(送审材料一览) beside the form; an open step says how late it is or how many working days are left;
a tick that must be given again each round says what it was; 交回待办 only where someone else may
take it, and a message that is true; after a submit, the next step of one's own is a link; the
overview names plans with their 业务编号; the holder is not offered 催办 on their own step. And in
a real browser: the inbox and the ledger at 1366×768 without words broken a character a line,
the ledger as cards on a 390 px phone under a header that leaves room for the page."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from engine import clock
from engine.history import plan_history

from playwright.sync_api import expect

from . import file_samples
from .conftest import is_workday
from .plan_helper import Plan
from .web_helper import page_text, sign_in, signed_in_client

REVIEW_OPINION = "举措缺乏突破性"
REASON = "请补充绩效结果应用的具体措施"
# 确认方案任务信息: public consultation, experts and a risk assessment (the demo's plans skip them)
EVERY_PROCEDURE = {"touchesPublicInterest": True, "technical": True, "riskAssessmentRequired": True}


def _returned(engine) -> Plan:
    """A new plan of zhang's, sent back by the 专项小组 (sun) at its first review."""
    plan = Plan(engine, title="深化财政绩效管理改革方案")
    plan.run_until("Task_SpecialGroupReview", Task_RegisterPlan=EVERY_PROCEDURE)
    review = plan.task("Task_SpecialGroupReview")
    engine.claim(review["id"], actor="sun")
    engine.complete(review["id"], actor="sun", data={
        "specialGroupOpinion": REVIEW_OPINION, "specialGroupDecision": "return", "returnReason": REASON})
    return plan


def _html(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def _row(html: str, task_id: int) -> str:
    found = re.search(rf'<tr[^>]*data-task="{task_id}".*?</tr>', html, re.S)
    assert found, task_id
    return found.group(0)


# ---------------------------------------------------------------- #6 a step sent back
def test_a_returned_step_says_who_sent_it_back_and_is_marked_in_the_inbox(demo_engine):
    plan = _returned(demo_engine)
    draft = plan.task("Task_DraftPlan")
    zhang = signed_in_client(demo_engine, "zhang")

    inbox = _html(zhang, "/tasks?scope=mine")
    assert "退回" in page_text_of(_row(inbox, draft["id"]))
    first_round = next(t for t in demo_engine.instance(2)["tasks"] if t["assignee"] == "zhang")  # DT-2015-02
    assert "退回" not in page_text_of(_row(inbox, first_round["id"]))

    page = _html(zhang, f"/tasks/{draft['id']}")
    note = re.search(r'<section class="returned".*?</section>', page, re.S).group(0)
    said = page_text_of(note)
    with demo_engine.db.reader() as s:
        review = next(e for e in plan_history(s, plan.id)["events"]
                      if e["event_type"] == "task_completed" and e["payload"]["element_id"] == "Task_SpecialGroupReview")
    at = datetime.fromisoformat(review["occurred_at"]).astimezone(clock.TZ)
    assert f"{at.year}年{at.month}月{at.day}日" in said
    assert "孙强" in said and "在「专项小组审核把关」退回" in said
    assert "审核结论：退回修改" in said.replace(" ", "")
    assert REVIEW_OPINION in said and REASON in said
    # above the form, whose read-only 上次退回理由 it explains
    assert page.index('class="returned"') < page.index('data-field="returnReason"')


# ---------------------------------------------------------------- #2 a tick to give again
def test_a_tick_that_each_round_asks_again_says_what_it_was(demo_engine):
    plan = _returned(demo_engine)
    plan.run_until("Task_DepartmentOpinions")
    step = plan.task("Task_DepartmentOpinions")
    page = _html(signed_in_client(demo_engine, "zhang"), f"/tasks/{step['id']}")
    box = re.search(r'<input type="checkbox" id="f-consensusReached"[^>]*>', page).group(0)
    assert "checked" not in box and 'aria-describedby="f-consensusReached-earlier' in box
    earlier = page_text_of(re.search(r'<p class="earlier" id="f-consensusReached-earlier">.*?</p>', page, re.S).group(0))
    assert earlier == "此前填写：是（此项每轮须重新确认，不沿用上一轮的勾选）"


# ---------------------------------------------------------------- #5 the material to judge
def test_a_reviewer_sees_the_five_procedures_beside_the_form(demo_engine):
    li = signed_in_client(demo_engine, "li")
    review = next(t for t in demo_engine.instance(4)["tasks"] if t["element_id"] == "Task_LegalityReview")
    page = _html(li, f"/tasks/{review['id']}")
    box = re.search(r'<details class="materials"[^>]*>.*?</details>', page, re.S).group(0)
    assert box.startswith('<details class="materials" open>')  # open for a reviewer
    states = dict(re.findall(r'data-procedure="(\w+)" data-state="(\w+)"', box))
    # the demo's plans need no consultation, experts nor risk assessment: not needed, and why (the
    # diagram's gateway and the plan's answer); the collective decision is ahead, not missing
    assert states == {"public_participation": "not_needed", "expert_argumentation": "not_needed",
                      "risk_assessment": "not_needed", "legality_review": "open", "collective_decision": "not_reached"}
    said = {code: page_text_of(cell) for code, cell in re.findall(
        r'data-procedure="(\w+)".*?<td data-label="状态" class="state">(.*?)</td>', box, re.S)}
    assert said == {"public_participation": "○ 不需要（是否涉及群众切身利益：不涉及）",
                    "expert_argumentation": "○ 不需要（是否专业性技术性强：否）",
                    "risk_assessment": "○ 不需要（是否须风险评估：无需评估）",
                    "legality_review": "… 办理中", "collective_decision": "— 尚未到达"}
    assert "「核对送审材料是否齐全」" in page_text_of(box) and "送审材料齐全 是" in page_text_of(box)
    assert f'href="/plans/{review["instance_id"]}/archive"' in box
    assert page.index('class="materials"') < page.index("<h2>表单</h2>")  # before the form


def test_the_material_is_folded_for_the_one_who_started_the_plan(demo_engine):
    plan = _returned(demo_engine)
    draft = plan.task("Task_DraftPlan")
    page = _html(signed_in_client(demo_engine, "zhang"), f"/tasks/{draft['id']}")
    box = re.search(r'<details class="materials"[^>]*>', page).group(0)
    assert box == '<details class="materials">'
    states = dict(re.findall(r'data-procedure="(\w+)" data-state="(\w+)"', page))
    assert states["risk_assessment"] == "done" and states["legality_review"] == "not_reached"
    # the archive page the box links to still gathers the same records
    archive = _html(signed_in_client(demo_engine, "sun"), f"/plans/{plan.id}/archive")
    assert "编制社会稳定风险评估报告" in archive


def test_a_reviewer_sees_why_nothing_is_recorded_yet(demo_engine):
    """The first review of a plan that needs no consultation, experts nor risk assessment: no
    procedure has a record yet, and the page says why rather than showing nothing."""
    plan = Plan(demo_engine, title="深化政务服务改革方案")
    plan.run_until("Task_SpecialGroupReview")
    review = plan.task("Task_SpecialGroupReview")
    page = _html(signed_in_client(demo_engine, "sun"), f"/tasks/{review['id']}")
    box = re.search(r'<details class="materials" open>.*?</details>', page, re.S).group(0)
    states = dict(re.findall(r'data-procedure="(\w+)" data-state="(\w+)"', box))
    assert states == {"public_participation": "not_needed", "expert_argumentation": "not_needed",
                      "risk_assessment": "not_needed", "legality_review": "not_reached",
                      "collective_decision": "not_reached"}
    assert "按方案的填报选项，流程不经此程序。" in page_text_of(box) and "流程尚未办到此程序，无记录。" in page_text_of(box)


def test_a_plan_with_no_record_yet_shows_no_material(demo_engine):
    first = demo_engine.instance(1)["tasks"][0]  # DT-2015-01 确认方案任务信息: nothing done yet
    page = _html(signed_in_client(demo_engine, "wang"), f"/tasks/{first['id']}")
    assert 'class="materials"' not in page


# ---------------------------------------------------------------- #4, #14 the deadline
def test_an_overdue_step_says_how_late_and_that_the_office_has_it(demo_engine):
    filing = next(t for t in demo_engine.instance(7)["tasks"] if t["element_id"] == "Task_FileDocument")
    due = datetime.fromisoformat(filing["due_at"])
    days = (clock.now().astimezone(clock.TZ).date() - (due.astimezone(clock.TZ) - timedelta(seconds=1)).date()).days
    assert days > 0
    page = page_text(signed_in_client(demo_engine, "song").get(f"/tasks/{filing['id']}"))
    assert f"（当日 24 时止） 已逾期 {days} 天" in page
    escalation = next(t for t in demo_engine.instance(7)["tasks"] if t["element_id"] == "Task_EscalateOverdueFiling")
    assert f"期限过后，改革办已收到待办「逾期未备案处理」（任务 {escalation['id']}），由其督办或处理。" in page


def test_an_open_step_says_how_many_working_days_are_left(demo_engine):
    review = next(t for t in demo_engine.instance(4)["tasks"] if t["element_id"] == "Task_LegalityReview")
    last = (datetime.fromisoformat(review["due_at"]).astimezone(clock.TZ) - timedelta(seconds=1)).date()
    today = clock.now().astimezone(clock.TZ).date()
    left = sum(is_workday(today + timedelta(days=n)) for n in range(1, (last - today).days + 1))
    page = page_text(signed_in_client(demo_engine, "li").get(f"/tasks/{review['id']}"))
    assert f"剩余 {left} 个工作日 （不含今天，按工作日日历，节假日不算）" in page


def test_a_deadline_to_the_minute_says_so(demo_engine):
    plan = Plan(demo_engine)
    plan.run_until("Task_RecordPublicComments", Task_RegisterPlan=EVERY_PROCEDURE)  # due 7 days after the consultation ends, to the minute
    step = plan.task("Task_RecordPublicComments")
    page = page_text(signed_in_client(demo_engine, "zhang").get(f"/tasks/{step['id']}"))
    assert "（至该时刻止）" in page


# ---------------------------------------------------------------- #7 交回待办
def test_hand_back_is_offered_only_where_someone_else_may_take_the_step(demo_engine):
    zhang = signed_in_client(demo_engine, "zhang")
    own = next(t for t in demo_engine.instance(2)["tasks"] if t["assignee"] == "zhang")  # 市财政局 has one drafter
    page = _html(zhang, f"/tasks/{own['id']}")
    assert "交回待办" not in page
    assert "此环节没有其他在岗人员可以认领，不能交回；确需他人办理的，请改革办改派。" in page_text_of(page)

    escalation = next(t for t in demo_engine.instance(7)["tasks"] if t["element_id"] == "Task_EscalateOverdueFiling")
    demo_engine.claim(escalation["id"], actor="chen")  # yang is in the reform office too
    chen = signed_in_client(demo_engine, "chen")
    assert "交回待办（由同组其他人认领）" in _html(chen, f"/tasks/{escalation['id']}")


def test_a_step_nobody_else_may_take_comes_back_with_a_true_message(demo_engine):
    own = next(t for t in demo_engine.instance(2)["tasks"] if t["assignee"] == "zhang")
    chen = signed_in_client(demo_engine, "chen")  # the office takes it back from zhang
    answer = chen.post(f"/tasks/{own['id']}/unclaim", data={"version": own["version"]}, follow_redirects=True)
    said = page_text(answer)
    assert "原办理人仍可在「可认领」中认领，或由改革办指派" in said and "须由改革办指派" not in said
    claimable = _html(signed_in_client(demo_engine, "zhang"), "/tasks?scope=claimable")
    assert "认领" in page_text_of(_row(claimable, own["id"]))  # true: he may claim it back


# ---------------------------------------------------------------- #8 the next step, a link
def test_after_a_submit_the_next_step_of_ones_own_is_a_link(demo_engine):
    first = demo_engine.task_view(demo_engine.instance(1)["tasks"][0]["id"])  # wang's 确认方案任务信息
    wang = signed_in_client(demo_engine, "wang")
    form = {f["id"]: ("true" if v else "") if f["type"] == "boolean" else (v or "")
            for f in first["form"] if (v := first["values"].get(f["id"])) is not None or f["type"] != "boolean"}
    form = {k: v for k, v in form.items() if v != ""}
    answer = wang.post(f"/tasks/{first['id']}/complete", data={**form, "version": first["version"]})
    assert answer.status_code == 302
    plan_page = _html(wang, answer.headers["Location"])
    research = next(t for t in demo_engine.instance(1)["tasks"] if t["element_id"] == "Task_Research")
    assert re.search(rf'下一步「调查研究」已在您的待办中 → <a href="/tasks/{research["id"]}">打开</a>', plan_page)


# ---------------------------------------------------------------- #13, #17, #19
def test_the_overview_names_each_plan_with_its_business_key(demo_engine):
    page = _html(signed_in_client(demo_engine, "chen"), "/overview")
    overdue = re.search(r'<table class="inbox" aria-label="已逾期的环节">.*?</table>', page, re.S).group(0)
    assert re.search(r'>DT-2015-07</a> 深化国资国企改革方案</td>', overdue)


def test_the_holder_is_not_offered_to_urge_themselves(demo_engine):
    escalation = next(t for t in demo_engine.instance(7)["tasks"] if t["element_id"] == "Task_EscalateOverdueFiling")
    chen = signed_in_client(demo_engine, "chen")
    before = _html(chen, f"/tasks/{escalation['id']}")
    assert '<section class="urge">' in before  # an open step: the office urges its candidates
    demo_engine.claim(escalation["id"], actor="chen")
    page = _html(chen, f"/tasks/{escalation['id']}")
    assert '<section class="urge">' not in page
    # 改派 stays, folded below the form
    assert page.index('<details class="office-tools">') > page.index('class="task-form"')


def test_the_comment_hint_speaks_to_anyone(demo_engine):
    own = next(t for t in demo_engine.instance(2)["tasks"] if t["assignee"] == "zhang")
    said = page_text_of(_html(signed_in_client(demo_engine, "zhang"), f"/tasks/{own['id']}"))
    assert "就此环节留言（如向其他办理人提问或说明）" in said and "如向起草人提问" not in said


def page_text_of(html: str) -> str:
    class Answer:
        def get_data(self, as_text=True):
            return html
    return page_text(Answer())


# ---------------------------------------------------------------- #11, #12 in a real browser
def _heights(page, selector: str) -> list[float]:
    """The height of each element's content (not of its cell, as tall as its row)."""
    return page.eval_on_selector_all(selector, """els => els.map(e => {
        const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect().height; })""")


def test_the_inbox_and_the_ledger_keep_short_words_whole_at_1366(live, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live, "chen")
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
    for path, short in (("/tasks", "table.inbox th, table.inbox td .nowrap, table.inbox td.nowrap, table.inbox td.act button"),
                        ("/ledger", "table.ledger th, table.ledger td.nowrap")):
        page.goto(live.url + path)
        heights = _heights(page, short)
        assert heights and max(heights) < 2.2 * line, (path, max(heights), line)
        # the page's wide table uses the screen, not a 72rem column with empty margins
        width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
        assert width > 1300, (path, width)


def test_the_ledger_is_cards_on_a_phone_under_a_short_header(browser, live):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    try:
        sign_in(phone, live, "chen")
        phone.goto(f"{live.url}/ledger")
        header = phone.evaluate("document.querySelector('header.top').getBoundingClientRect().height")
        assert header < 844 / 5, header
        assert phone.evaluate("getComputedStyle(document.querySelector('table.ledger thead')).display") == "none"
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # each value after its column's name (drawn before it, as the inbox's cards do)
        labels = phone.eval_on_selector_all("table.ledger tbody tr:first-child td", """tds => tds.map(td =>
            [getComputedStyle(td).display, getComputedStyle(td, '::before').content])""")
        assert all(display == "block" for display, _ in labels), labels
        assert '"业务编号："' in [before for _, before in labels] and '"延误事项："' in [before for _, before in labels]
        # every page link is still there, in a row that scrolls sideways
        links = phone.eval_on_selector_all("nav.pages a", "els => els.map(e => e.textContent)")
        assert "审计" in links and "台账" in links
        phone.locator("nav.pages a", has_text="审计").scroll_into_view_if_needed()
        assert phone.locator("nav.pages a", has_text="审计").is_visible()
    finally:
        context.close()


# ---------------------------------------------------------------- the QA pass's second day
NOTES = "已补充绩效结果应用的具体措施，删去第三部分重复内容"


def _redrafted_and_filed(engine) -> tuple[Plan, dict]:
    """A plan returned once by the 专项小组 and redrafted with a 修改说明, then issued, and filed with
    a file attached: its 备案审查 is open."""
    plan = Plan(engine, title="深化政务服务改革方案")
    plan.run_until("Task_SpecialGroupReview")
    plan.do("Task_SpecialGroupReview", specialGroupDecision="return", returnReason=REASON)
    plan.do("Task_DraftPlan", draftSummary="修改稿", revisionNotes=NOTES)
    plan.run_until("Task_FileDocument")
    filing = plan.task("Task_FileDocument")
    engine.attach(filing["id"], "备案报告.pdf", file_samples.pdf("备案报告"), actor="zhang")
    plan.do("Task_FileDocument")
    return plan, plan.task("Task_CheckFiling")


def test_the_filing_review_page_lists_the_filed_files_and_what_changed(demo_engine):
    plan, review = _redrafted_and_filed(demo_engine)
    page = _html(signed_in_client(demo_engine, "chen"), f"/tasks/{review['id']}")
    files = re.search(r'<section class="documents reviewed">.*?</section>', page, re.S).group(0)
    said = page_text_of(files)
    assert "待审查的附件" in said and "备案报告.pdf" in said and "报送备案" in said
    assert page.index('class="documents reviewed"') < page.index("<h2>表单</h2>")  # above the form
    values = dict(re.findall(r'<dt>([^<]*)</dt><dd data-field="(?:documentNumber|filingMaterials)">([^<]*)', page))
    assert values == {"文号": "同改发〔2026〕1号", "报送的备案材料": "正式文本、起草说明"}
    notes = page_text_of(re.search(r'<section class="revisions">.*?</section>', page, re.S).group(0))
    assert "第 2 轮 · 「起草方案」 · 张伟" in notes and NOTES in notes


def test_a_reviewer_sees_the_filing_and_the_material_in_the_browser(live, page):
    engine = live.app.extensions["reformflow"]
    _, review = _redrafted_and_filed(engine)
    engine.claim(review["id"], actor="chen")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks/{review['id']}")
    # what the lead unit filed, read-only on the review form, and the files it attached
    expect(page.locator(".task-form [data-field='documentNumber'] .value")).to_have_text("同改发〔2026〕1号")
    expect(page.locator(".task-form [data-field='filingMaterials'] .value")).to_have_text("正式文本、起草说明")
    expect(page.locator(".task-form [data-field='filingDeadline'] .label")).to_contain_text("原备案期限")
    expect(page.locator("section.reviewed li")).to_have_count(1)
    expect(page.locator("section.reviewed li")).to_contain_text("备案报告.pdf")
    # 送审材料一览: not needed, and why; what the drafter changed
    expect(page.locator("tr[data-procedure='public_participation'] td.state")).to_have_text(
        "○ 不需要（是否涉及群众切身利益：不涉及）")
    expect(page.locator("section.revisions li").first).to_contain_text(NOTES)
    # the overdue filing of DT-2015-07: its original deadline beside the office's new one
    filing = next(t for t in engine.instance(7)["tasks"] if t["element_id"] == "Task_FileDocument")
    page.goto(f"{live.url}/tasks/{filing['id']}")
    original = page.locator("dd[data-field='filingDeadline']")
    expect(original).to_contain_text(re.compile(r"\d{4}"))
    expect(page.locator("dt", has_text="原备案期限")).to_be_visible()
    expect(page.locator("dt", has_text="改革办责令限期报送至")).to_be_visible()

"""What the first real use of the web inbox (tests/test_web_lifecycle.py) found wrong or confusing,
each pinned by a test in a real browser over the demo: a step the diagram sends straight back is
said as such; people and groups are shown by their names, not by usernames and group codes."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_web_task_page import _engine
from .web_helper import open_task, sign_in


# ------------------------------------------------------------ a step sent straight back is said so
def test_a_consultation_too_short_without_a_reason_is_refused_under_the_reason_s_field(live, page):
    """The 30-day rule (requiredWhen on the reason): a shorter period without its reason is refused
    at 提交, said under the reason's field, the same step open with what was typed. Before, the step
    was submitted and came straight back, the rule learnt from a return."""
    engine = _engine(live)
    consultation = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{consultation['id']}")
    page.get_by_label("征求意见方式").fill("网上公示")
    page.get_by_label("征求意见起始日期").fill("2026-01-05")
    page.get_by_label("征求意见期限（日）").fill("15")
    page.get_by_role("button", name="提交").click()

    expect(page.locator("[data-field='shortenReason'] .problem")).to_contain_text(
        "为必填项：征求意见期限（日）为「15」")
    assert open_task(engine, "DT-2015-02", "Task_PublicConsultation")["id"] == consultation["id"]  # nothing submitted
    expect(page.get_by_label("征求意见期限（日）")).to_have_value("15")  # what was typed, kept

    # with the reason the same step goes on: submitted, the plan's page
    page.get_by_label("期限少于规定期限").fill("防汛工作紧急")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash.ok")).to_contain_text("已提交「发布公开征求意见」")
    expect(page).to_have_url(re.compile(r"/plans/\d+$"))


# ------------------------------------------------------------ names, not codes
def test_steps_and_plans_name_groups_and_people_not_their_codes(live, page):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")  # open to the legal office
    sign_in(page, live, "chen")

    page.goto(f"{live.url}/tasks/{review['id']}")
    candidates = page.locator("dl.facts dd").nth(2)
    expect(candidates).to_have_text("法制机构")

    page.goto(f"{live.url}/plans/{review['instance_id']}")
    expect(page.locator("dl.facts")).to_contain_text("马丽（ma）")
    expect(page.locator("ul.steps")).to_contain_text("合法合规性审查 · 待认领 · 法制机构")
    assert "legal" not in page.locator("ul.steps").inner_text()

    page.goto(f"{live.url}/tasks?scope=all")
    row = page.locator("table.inbox tbody tr", has_text="DT-2015-02")
    expect(row.locator("td[data-label='办理人']")).to_have_text("张伟（zhang）")  # the office has a box first

    page.goto(f"{live.url}/plans?q=DT-2015-02")
    row = page.locator("tr", has_text="DT-2015-02")
    expect(row).to_contain_text("发布公开征求意见 · 张伟（zhang）")
    expect(row).to_contain_text("张伟（zhang） ·")

    # a task someone holds: the office's reassign hint names them
    held = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    page.goto(f"{live.url}/tasks/{held['id']}")
    expect(page.locator("section.assign")).to_contain_text("现由张伟（zhang）办理")

    # English: a group by its name and its code, as a person by name and username
    coordinate = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    page.get_by_role("button", name="English").click()
    page.goto(f"{live.url}/tasks/{coordinate['id']}")
    expect(page.locator("dl.facts dd").nth(2)).to_have_text("法制机构 (legal)")


# ------------------------------------------------------------ what a drafter may start
def test_the_start_list_offers_plans_not_the_steps_other_processes_call(live, page):
    """Deliberation, filing, legality review and risk assessment run inside a reform plan (its call
    activities): offered beside it, a drafter would start a legality review of nothing."""
    sign_in(page, live, "zhang")
    page.get_by_role("link", name="发起方案").click()
    offered = page.locator("ul.processes")
    expect(offered).to_contain_text("改革方案全流程")
    expect(offered).to_contain_text("改革方案动态调整")
    for called in ("集体审议决策", "备案", "合法合规性审查", "社会稳定风险评估"):
        expect(offered.get_by_role("link", name=called, exact=True)).to_have_count(0)

    # typed in by hand, the page says where the process belongs
    page.goto(f"{live.url}/plans/new?key=legality_review")
    expect(page.locator("main")).to_contain_text("此流程由「改革方案动态调整」、「改革方案全流程」在办理中调用")

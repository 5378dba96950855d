"""A refused form tells a screen reader which fields are wrong and why (WCAG 1.3.1, 3.3.1, 3.3.3,
4.1.2): each refused field is aria-invalid and described by its problem (and its hint, and what was
entered earlier); a required field says so (aria-required, 「必填」 to hear, not only a star); the
form starts with a summary (role=alert, focused) whose links lead to the fields; the page's
title begins 「错误：」. The password rules are read with the new password's field."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .web_helper import open_task, sign_in, signed_in_client


def _engine(live):
    return live.app.extensions["reformflow"]


def _tag(html: str, element_id: str) -> str:
    return re.search(rf'<(?:textarea|input|select)[^>]*\bid="{element_id}"[^>]*>', html).group(0)


def _refused_review(engine, language="zh") -> str:
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    version = engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(engine, "li")
    client.post(f"/language/{language}")
    answer = client.post(f"/tasks/{review['id']}/complete", data={
        "version": version, "legalityResult": "fail", "legalityOpinion": "", "returnReason": ""})
    assert answer.status_code == 400
    return answer.get_data(as_text=True)


def test_a_refused_field_is_invalid_and_described_by_its_problem_and_hint(demo_engine):
    html = _refused_review(demo_engine)
    opinion = _tag(html, "f-legalityOpinion")
    assert 'aria-invalid="true"' in opinion and 'aria-required="true"' in opinion
    described = re.search(r'aria-describedby="([^"]+)"', opinion).group(1).split()
    assert "f-legalityOpinion-problem-1" in described
    for element_id in described:  # every id named is on the page
        assert f'id="{element_id}"' in html, element_id
    problem = re.search(r'<p class="problem" id="f-legalityOpinion-problem-1">([^<]+)</p>', html).group(1)
    assert "为必填项" in problem
    # a field not refused is not invalid; a required one's label says 必填 to hear, the star is hidden
    assert 'aria-invalid' not in _tag(html, "f-legalityResult")
    assert re.search(r'<label for="f-legalityOpinion">[^<]+ <span class="required" aria-hidden="true">\*</span>'
                     r'<span class="visually-hidden">必填</span></label>', html)
    assert 'title="必填"' not in html


def test_the_summary_is_an_alert_of_links_to_the_fields_and_the_title_says_error(demo_engine):
    html = _refused_review(demo_engine)
    assert re.search(r"<title>错误：", html)
    summary = re.search(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus>(.*?)</div>',
                        html, re.S).group(1)
    assert "表单有 2 处需要修改，未提交。" in summary
    assert re.findall(r'<a href="#(f-[^"]+)">', summary) == ["f-legalityOpinion", "f-returnReason"]
    assert html.count("处需要修改") == 1  # said once, in the summary, not in a flash besides
    english = _refused_review_en(demo_engine)
    assert re.search(r"<title>Error: ", english)


def _refused_review_en(engine) -> str:
    client = signed_in_client(engine, "li")
    client.post("/language/en")
    task_id = open_task(engine, "DT-2015-04", "Task_LegalityReview")["id"]
    version = engine.task_view(task_id)["version"]
    return client.post(f"/tasks/{task_id}/complete", data={"version": version, "legalityResult": "fail"}) \
        .get_data(as_text=True)


def test_after_a_failed_submit_the_summary_has_focus_and_its_link_reaches_the_field(live, page):
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="提交").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^错误："))
    page.wait_for_load_state("load")  # error_summary.js is deferred: before it runs the link only scrolls
    summary.locator("a[href='#f-legalityOpinion']").click()
    expect(page.locator("#f-legalityOpinion")).to_be_focused()
    expect(page.get_by_role("textbox", name="合法性审查意见 必填")).to_have_attribute("aria-invalid", "true")


def test_the_start_form_ties_its_problems_to_its_fields(live, page):
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/plans/new?key=implementation")
    expect(page.locator("#f-documentNumber")).to_have_attribute("aria-required", "true")
    page.get_by_label("改革举措数").fill("0")
    page.get_by_role("button", name="发起").click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("方案未发起")
    count = page.locator("#f-measureCount")
    expect(count).to_have_attribute("aria-invalid", "true")
    expect(count).to_have_accessible_description(re.compile("不得小于 1"))
    expect(page).to_have_title(re.compile(r"^错误："))


def test_the_password_rules_are_read_with_the_new_password(demo_engine):
    html = signed_in_client(demo_engine, "li").get("/account/password").get_data(as_text=True)
    assert 'aria-describedby="password-rules"' in _tag(html, "new_password")
    assert re.search(r'<p class="hint" id="password-rules">新密码至少 \d+ 个字符', html)

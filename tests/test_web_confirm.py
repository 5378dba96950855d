"""A decision the diagram marks for confirming (a field's `confirm` property: the legality
review's 不通过) is asked about before it is submitted, on a page of its own (no script): the
form's problems come first, 返回修改 keeps what was typed, 确认提交 completes the task, and a
change made meanwhile is still the conflict the task page gives. 通过 is submitted at once."""
from __future__ import annotations

import io
import re

from playwright.sync_api import expect

from engine import forms

from .web_helper import sign_in, signed_in_client

OPINION = "第三部分缺少上位法依据。\n共审查条款 42 条。"
REASON = "缺少上位法依据，请补充后重新送审"


def _review(engine) -> dict:
    from engine.queries import list_tasks
    with engine.db.reader() as s:
        found = next(t for t in list_tasks(s, "li", "all") if t["element_id"] == "Task_LegalityReview")
    return engine.task_view(found["id"])


def test_failing_the_legality_review_is_asked_first_and_back_keeps_what_was_typed(live, page):
    engine = live.app.extensions["reformflow"]
    review = _review(engine)
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="认领").click()

    # a form with a problem is refused at its field, before any question
    page.get_by_label("审查结论").select_option("fail")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("[data-field='legalityOpinion'] .problem")).to_contain_text("为必填项")
    assert page.get_by_role("button", name="确认提交").count() == 0

    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("退回理由（不通过时必填）").fill(REASON)
    page.get_by_role("button", name="提交").click()
    question = page.locator("section.confirm")
    expect(question.locator("[data-asked='legalityResult']")).to_contain_text("您选择了审查结论「不通过」")
    expect(question).to_contain_text("审查不通过，方案将退回修改，不能提请审议；退回理由将记入留痕。")
    expect(question.locator("[data-plan]")).to_contain_text(f"{review['business_key']} {review['plan_title']}")
    expect(question).to_contain_text("合法合规性审查")
    expect(question.locator("[data-field='returnReason']")).to_have_text(REASON)
    assert engine.task_view(review["id"])["status"] == "claimed"  # nothing submitted yet
    # the question has the focus, and the next Tab reaches 确认提交 (not the page's top links)
    expect(question).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="确认提交")).to_be_focused()

    # 返回修改: the form again, everything typed kept
    page.get_by_role("button", name="返回修改").click()
    expect(page.get_by_label("审查结论")).to_have_value("fail")
    expect(page.get_by_label("合法性审查意见")).to_have_value(OPINION)
    expect(page.get_by_label("退回理由（不通过时必填）")).to_have_value(REASON)
    assert engine.task_view(review["id"])["status"] == "claimed"

    # asked again, and confirmed: the plan goes back to drafting
    page.get_by_role("button", name="提交").click()
    page.get_by_role("button", name="确认提交").click()
    expect(page.get_by_role("status")).to_contain_text("已提交「合法合规性审查」")
    expect(page.locator("ul.steps")).to_contain_text("起草方案")
    done = engine.task_view(review["id"])
    assert (done["status"], done["completed_by"]) == ("completed", "li")
    assert done["values"]["legalityResult"] == "fail"
    assert done["values"]["legalityOpinion"].replace("\r\n", "\n") == OPINION


def test_passing_the_legality_review_is_submitted_at_once(live, page):
    engine = live.app.extensions["reformflow"]
    review = _review(engine)
    # the diagram marks 不通过 only: 通过 and 修改后通过 go through unasked
    [result] = [f for f in review["form"] if f["id"] == "legalityResult"]
    assert forms.confirm_ids(result["properties"]) == ["fail"]
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_role("button", name="认领").click()
    page.get_by_label("审查结论").select_option("pass")
    page.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("已提交「合法合规性审查」")
    assert engine.task_view(review["id"])["status"] == "completed"




def _events(engine) -> int:
    from sqlalchemy import func, select

    from models import AuditEvent
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _hidden(html: str) -> dict:
    """The question page's hidden fields: what 确认提交 posts again."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def test_a_change_made_while_the_question_is_on_the_screen_is_a_conflict(demo_engine):
    review = _review(demo_engine)
    seen = demo_engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(demo_engine, "li")
    trail = _events(demo_engine)  # after signing in, which is on the trail too
    answer = client.post(f"/tasks/{review['id']}/complete", data={
        "version": seen, "legalityResult": "fail", "legalityOpinion": "缺少上位法依据", "returnReason": REASON})
    assert answer.status_code == 200 and "确认提交" in answer.get_data(as_text=True)
    posted = _hidden(answer.get_data(as_text=True))
    assert posted["version"] == str(seen) and posted["legalityResult"] == "fail"
    # asking changed nothing: the task as it was, nothing on the trail
    assert demo_engine.task_view(review["id"])["version"] == seen and _events(demo_engine) == trail

    # meanwhile the office takes it back and li claims it again: the same holder, a newer task
    demo_engine.unclaim(review["id"], actor="chen")
    demo_engine.claim(review["id"], actor="li")
    answer = client.post(f"/tasks/{review['id']}/complete", data=posted | {"confirmed": "1"})
    assert answer.status_code == 409
    assert "已在别处处理或修改" in answer.get_data(as_text=True)
    assert demo_engine.task_view(review["id"])["status"] == "claimed"


def test_files_chosen_with_a_decision_to_confirm_are_kept_by_the_question(demo_engine):
    """A page cannot carry a chosen file back: the question attaches it to the step, listed there,
    and 确认提交 completes the step with it, once."""
    review = _review(demo_engine)
    version = demo_engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(demo_engine, "li")
    answer = client.post(f"/tasks/{review['id']}/complete", content_type="multipart/form-data", data={
        "version": str(version), "legalityResult": "fail", "legalityOpinion": "缺少上位法依据",
        "returnReason": REASON, "files": (io.BytesIO("审查意见书".encode()), "审查意见书.txt")})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "审查意见书.txt" in html and "返回修改也会保留" in html
    assert [d["file_name"] for d in demo_engine.task_view(review["id"])["documents"]] == ["审查意见书.txt"]

    answer = client.post(f"/tasks/{review['id']}/complete", data=_hidden(html) | {"confirmed": "1"})
    assert answer.status_code == 302
    done = demo_engine.task_view(review["id"])
    assert done["status"] == "completed"
    assert [d["file_name"] for d in done["documents"]] == ["审查意见书.txt"]


def test_switching_the_language_on_the_question_comes_back_to_the_task_not_to_a_refusal(demo_engine):
    # the question answers a POST: its own address cannot be opened again, the task's page can
    review = _review(demo_engine)
    seen = demo_engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(demo_engine, "li")
    page = f"http://localhost/tasks/{review['id']}"
    question = client.post(f"/tasks/{review['id']}/complete", headers={"Referer": page}, data={
        "version": seen, "legalityResult": "fail", "legalityOpinion": "缺少上位法依据", "returnReason": REASON})
    language_form = re.search(r'action="/language/en".*?name="next" value="([^"]*)"',
                              question.get_data(as_text=True), re.S)
    assert language_form.group(1) == f"/tasks/{review['id']}"
    answer = client.post("/language/en", data={"next": language_form.group(1)}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and '<html lang="en">' in html
    assert f'action="/tasks/{review["id"]}/complete"' in html  # the task's page, its form to fill in again


def test_a_comment_typed_with_a_decision_to_confirm_goes_with_it_and_only_if_confirmed(demo_engine):
    review = _review(demo_engine)
    seen = demo_engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(demo_engine, "li")
    question = client.post(f"/tasks/{review['id']}/complete", data={
        "version": seen, "legalityResult": "fail", "legalityOpinion": "缺少上位法依据", "returnReason": REASON,
        "plan-comment": "请补充上位法依据后再报"})
    html = question.get_data(as_text=True)
    assert "请补充上位法依据后再报" in html and demo_engine.comments(review["instance_id"]) == []
    posted = dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)">', html))
    back = client.post(f"/tasks/{review['id']}/complete", data=posted | {"edit": "1"})
    assert "请补充上位法依据后再报" in back.get_data(as_text=True)  # 返回修改 keeps it in its box
    assert demo_engine.comments(review["instance_id"]) == []
    done = client.post(f"/tasks/{review['id']}/complete", data=posted | {"confirmed": "1"})
    assert done.status_code == 302
    assert [c["text"] for c in demo_engine.comments(review["instance_id"])] == ["请补充上位法依据后再报"]


def _choice(html: str, field: str) -> tuple[list[str], list[str]]:
    """The options of a form's select (their values, in order) and those marked selected."""
    select = re.search(rf'<select id="f-{field}" name="{field}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select), re.findall(r'<option value="([^"]*)"\s*selected', select)


def test_a_decision_left_blank_stays_blank_on_the_refused_form_and_in_a_draft(demo_engine):
    """A required choice not made must not come back made: without its blank option the browser
    shows the first choice (通过) as chosen, and the next 提交 sends it as li's decision."""
    review = _review(demo_engine)
    version = demo_engine.claim(review["id"], actor="li")["version"]
    client = signed_in_client(demo_engine, "li")
    fresh = client.get(f"/tasks/{review['id']}").get_data(as_text=True)
    assert _choice(fresh, "legalityResult") == (["", "pass", "pass_with_changes", "fail"], [])
    refused = client.post(f"/tasks/{review['id']}/complete", data={"version": version, "legalityResult": "",
                                                                   "legalityOpinion": "尚在审查"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "为必填项" in html
    options, selected = _choice(html, "legalityResult")
    assert options[0] == "" and selected == []  # the blank one shown: nothing chosen
    client.post(f"/tasks/{review['id']}/draft", data={"version": version, "legalityResult": "",
                                                      "legalityOpinion": "尚在审查"})
    reopened = client.get(f"/tasks/{review['id']}").get_data(as_text=True)
    assert "尚在审查" in reopened and _choice(reopened, "legalityResult")[0][0] == ""
    assert _choice(reopened, "legalityResult")[1] == []

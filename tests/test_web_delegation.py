"""委托办理 in a real browser (docs/users.md section 12): 李娜, the legal reviewer, claims the legality
review of DT-2015-04, sets on /account/delegation that 周杰 acts for her while she is away; 周杰
finds the review in his inbox marked 「代 李娜」, completes it, and the plan's trail says
周杰（代 李娜）. Ended on the page, the rights go with it."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from engine import clock

from .web_helper import sign_in


def _review_id(engine) -> int:
    from engine.queries import list_tasks
    with engine.db.reader() as s:
        return next(t["id"] for t in list_tasks(s, "li", "all") if t["element_id"] == "Task_LegalityReview")


def test_a_delegation_set_on_the_page_lets_the_colleague_complete_the_step_on_her_behalf(live, browser):
    engine = live.app.extensions["reformflow"]
    review = _review_id(engine)
    today = clock.today()
    li = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    sign_in(li, live, "li")
    li.goto(f"{live.url}/tasks/{review}")
    li.get_by_role("button", name="认领").click()
    li.get_by_role("link", name="账户设置").click()  # the header's one link to what is one's own
    li.get_by_role("link", name="委托办理").click()
    expect(li.locator("h1")).to_have_text("委托办理")
    expect(li.locator("main")).to_contain_text("您没有委托他人，也没有受人委托。")
    li.get_by_label("受托人（代为办理的同事）").select_option("zhou")
    li.get_by_label("第一天").fill(today.isoformat())
    li.get_by_label("最后一天（含当日）").fill((today + timedelta(days=4)).isoformat())
    li.get_by_label("事由").fill("出差")
    li.get_by_role("button", name="设置委托").click()
    expect(li.get_by_role("status")).to_contain_text("已委托 周杰（zhou） 自")
    row = li.locator("table.delegations tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("周杰（zhou）")
    expect(row).to_contain_text("出差")
    expect(row).to_contain_text("生效中")

    zhou = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    sign_in(zhou, live, "zhou")
    zhou.goto(f"{live.url}/tasks?scope=mine")
    line = zhou.locator(f"tr[data-task='{review}']")
    expect(line).to_contain_text("合法合规性审查")
    expect(line.locator(".behalf")).to_have_text("代 李娜（li）")
    line.get_by_role("link", name="合法合规性审查").click()
    expect(zhou.locator("p.behalf")).to_contain_text("代 李娜 办理")
    zhou.get_by_label("审查结论").select_option("pass")
    zhou.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
    zhou.get_by_role("button", name="提交").click()
    expect(zhou.get_by_role("status")).to_contain_text("已提交「合法合规性审查」")
    done = engine.task_view(review)
    assert (done["status"], done["assignee"], done["completed_by"]) == ("completed", "li", "zhou")
    # the plan's trail: who acted, for whom (全程留痕)
    expect(zhou.locator("li", has_text="提交 合法合规性审查").locator(".who")).to_have_text("周杰（代 李娜）")
    zhou.goto(f"{live.url}/tasks/{review}")  # the step's own page says so too
    expect(zhou.locator("p.held")).to_contain_text("已由周杰（zhou）代李娜（li）于")

    # ended on li's page: zhou no longer sees her steps
    li.goto(f"{live.url}/account/delegation")
    li.get_by_role("button", name=f"结束委托 {engine.delegations('li')[0]['id']}").click()
    expect(li.get_by_role("status")).to_contain_text("已结束委托：周杰（zhou） 不再代 李娜（li） 办理。")
    expect(li.locator("table.delegations tbody tr")).to_contain_text("已结束")
    assert engine.acting_for("zhou") == []
    li.context.close()
    zhou.context.close()


def test_the_office_sets_and_ends_a_persons_delegation_on_their_page(demo_engine):
    from .web_helper import signed_in_client
    client = signed_in_client(demo_engine, "chen")
    today = clock.today().isoformat()
    page = client.get("/people/li").get_data(as_text=True)
    assert "此人没有委托他人，也没有受人委托。" in page
    # a refusal keeps what was typed and says what to do
    refused = client.post("/people/li/delegation", data={"delegate": "li", "starts_on": today, "ends_on": today,
                                                          "reason": "出差"})
    assert refused.status_code == 400 and "不能委托给自己" in refused.get_data(as_text=True)
    done = client.post("/people/li/delegation", data={"delegate": "zhou", "starts_on": today, "ends_on": today,
                                                       "reason": "学习"}, follow_redirects=True)
    shown = done.get_data(as_text=True)
    assert "已委托 周杰（zhou） 自" in shown and "代 李娜（li） 办理" in shown
    [made] = demo_engine.delegations("li")
    assert (made["delegate"], made["created_by"], made["reason"]) == ("zhou", "chen", "学习")
    assert f'data-delegation="{made["id"]}"' in shown
    ended = client.post(f"/account/delegation/{made['id']}/end", data={"owner": "li"}, follow_redirects=True)
    assert ended.request.path == "/people/li"
    assert demo_engine.delegations("li")[0]["state"] == "ended"
    # someone who is not the office may not set one for another person
    assert signed_in_client(demo_engine, "zhou").post(
        "/people/li/delegation", data={"delegate": "zhou", "starts_on": today, "ends_on": today,
                                       "reason": "x"}).status_code == 403


def test_the_delegate_s_comment_on_the_principal_s_step_keeps_what_they_typed_in_its_form(demo_engine):
    """仅留言 sends the form along; on the step of whom they stand in for, as on their own, what the
    delegate typed comes back in its fields, not lost."""
    from .web_helper import signed_in_client
    review = _review_id(demo_engine)
    demo_engine.claim(review, actor="li")
    today = clock.today()
    demo_engine.delegate("li", to="zhou", starts_on=today, ends_on=today, reason="出差", actor="li")
    zhou = signed_in_client(demo_engine, "zhou")
    account = zhou.get("/account").get_data(as_text=True)  # what is his own, as it stands
    shown = f"{today.year}年{today.month}月{today.day}日"  # as the page writes its other dates
    assert f"您受 李娜（li） 委托，于 {shown} 至 {shown} 代为办理（生效中）。" in account
    assert "您委托" in signed_in_client(demo_engine, "li").get("/account").get_data(as_text=True)
    answer = zhou.post(f"/tasks/{review}/comment", data={
        "legalityOpinion": "初步意见：第三条须补充上位法依据", "plan-comment": "待李娜回来后确认"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "已留言，此环节尚未提交。" in page
    assert "初步意见：第三条须补充上位法依据</textarea>" in page
    [said] = [c for c in demo_engine.comments(demo_engine.task_view(review)["instance_id"]) if c["text"] == "待李娜回来后确认"]
    assert said["author"] == "zhou"


def test_a_delegation_ended_while_the_delegate_fills_the_form_keeps_what_they_typed(live, browser):
    """The page said 「找不到该页面」 and what the delegate had typed was gone."""
    engine = live.app.extensions["reformflow"]
    review = _review_id(engine)
    engine.claim(review, actor="li")
    today = clock.today()
    made = engine.delegate("li", to="zhou", starts_on=today, ends_on=today + timedelta(days=3), reason="出差",
                           actor="li")
    zhou = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    sign_in(zhou, live, "zhou")
    zhou.goto(f"{live.url}/tasks/{review}")
    zhou.get_by_label("审查结论").select_option("pass")
    zhou.get_by_label("合法性审查意见").fill("符合法律法规，同意提交审议")
    engine.end_delegation(made["id"], actor="li")  # li is back early
    zhou.get_by_role("button", name="提交").click()
    expect(zhou.get_by_role("alert")).to_contain_text("您已不能办理它（例如委托已结束，或已改派他人）。您填写的内容没有提交。")
    expect(zhou.locator("[data-kept-field='legalityOpinion']")).to_have_value("符合法律法规，同意提交审议")
    expect(zhou.locator("[data-kept-field='csrf_token']")).to_have_count(0)
    assert engine.task_view(review)["status"] == "claimed"

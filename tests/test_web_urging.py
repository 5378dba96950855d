"""催办 in a real browser: the reform office urges the holder of a step from its page, a second
click adds nothing, and the holder sees it in the inbox and on the step's page; the plan's trail
says it. The engine's rules are in tests/test_urging.py."""
from __future__ import annotations

from playwright.sync_api import expect

from engine.queries import list_tasks

from .web_helper import sign_in

NOTE = "请于本周五前完成征求意见"


def _held(engine) -> dict:
    """DT-2015-02's public consultation, held by the drafter zhang in the demo."""
    with engine.db.reader() as s:
        return next(t for t in list_tasks(s, "zhang", "mine") if t["element_id"] == "Task_PublicConsultation")


def test_the_office_urges_and_the_holder_sees_it(live, page):
    engine = live.app.extensions["reformflow"]
    task = _held(engine)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks/{task['id']}")
    urge = page.locator("section.urge")
    expect(urge).to_contain_text("张伟（zhang） 会在待办列表和本页看到催办")
    urge.get_by_label("催办说明").fill(NOTE)
    urge.get_by_role("button", name="催办").click()
    expect(page.get_by_role("status")).to_have_text("已催办。")
    expect(page.locator("section.urged li")).to_have_count(1)
    expect(page.locator("section.urged li")).to_contain_text("陈静（chen） 于")
    expect(page.locator("section.urged li")).to_contain_text(NOTE)
    page.go_back()  # the same form sent again, as a double click or a reload would
    page.locator("section.urge").get_by_label("催办说明").fill(NOTE)
    page.locator("section.urge").get_by_role("button", name="催办").click()
    expect(page.get_by_role("status")).to_have_text("这次催办已经发出，没有重复添加。")
    expect(page.locator("section.urged li")).to_have_count(1)

    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks?scope=mine")
    expect(page.locator(f"tr[data-task='{task['id']}'] .urged")).to_have_text("催办 1 次")
    page.locator(f"tr[data-task='{task['id']}']").get_by_role("link", name="发布公开征求意见").click()
    expect(page.locator("section.urged")).to_contain_text(NOTE)
    expect(page.locator("section.urge")).to_have_count(0)  # the holder cannot urge
    page.get_by_role("link", name="DT-2015-02").first.click()
    expect(page.locator("ol.trail")).to_contain_text(f"催办 发布公开征求意见（办理人 zhang）：{NOTE}")
    page.get_by_role("button", name="English").click()
    expect(page.locator("ol.trail")).to_contain_text(f"urged 发布公开征求意见 (held by zhang): {NOTE}")
    page.goto(f"{live.url}/tasks?scope=mine")
    expect(page.locator(f"tr[data-task='{task['id']}'] .urged")).to_have_text("urged once")


def test_only_the_office_may_urge(live, page):
    engine = live.app.extensions["reformflow"]
    task = _held(engine)
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{task['id']}")
    token = page.locator("input[name='csrf_token']").first.get_attribute("value")
    answer = page.request.post(f"{live.url}/tasks/{task['id']}/urge", form={"csrf_token": token, "note": "x"})
    assert answer.status == 403 and "只有改革办可以催办" in answer.text()
    expect(page.locator("section.urged")).to_have_count(0)


def test_the_office_ticks_the_overdue_steps_and_urges_them_at_once(live, page):
    """催办所选 on 只看已逾期: every overdue step ticked, one note, one click; each row then says it
    was urged, the holders see it, and a drafter's inbox has no boxes to tick."""
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/tasks?scope=all&overdue=1")
    rows = page.locator("table.inbox tbody tr")
    overdue = rows.evaluate_all("rs => rs.map(r => Number(r.dataset.task))")
    assert len(overdue) >= 2, "the demo has overdue steps"
    for task_id in overdue:
        page.get_by_role("checkbox", name=f"选择任务 {task_id}「", exact=False).check()
    page.locator("form.urge-picked").get_by_label("催办说明").fill("请于月底前办结")
    page.get_by_role("button", name="催办所选").click()
    expect(page.locator(".flash.ok")).to_have_text(f"已催办 {len(overdue)} 项待办。")
    assert page.url.endswith("/tasks?scope=all&overdue=1")  # back on the same list
    for task_id in overdue:
        expect(page.locator(f"tr[data-task='{task_id}'] .urged")).to_have_text("催办 1 次")
    with engine.db.reader() as s:
        from engine import urging
        assert [u["note"] for t in overdue for u in urging.urges(s, t)] == ["请于月底前办结"] * len(overdue)
    # nothing ticked: said, nothing sent
    page.get_by_role("button", name="催办所选").click()
    expect(page.locator(".flash.error")).to_contain_text("请先选择要催办的待办")
    # 催办本页全部: every row of the page, nothing ticked, with a new note
    page.locator("form.urge-picked").get_by_label("催办说明").fill("请本周内办结")
    page.get_by_role("button", name=f"催办本页全部（{len(overdue)} 项）").click()
    expect(page.locator(".flash.ok")).to_have_text(f"已催办 {len(overdue)} 项待办。")
    for task_id in overdue:
        expect(page.locator(f"tr[data-task='{task_id}'] .urged")).to_have_text("催办 2 次")

    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks")
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="催办所选")).to_have_count(0)

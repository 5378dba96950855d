"""Before an idle session ends (30 minutes), the page warns and lets the person go on (WCAG 2.2.1):
about two minutes before, a dialog with 「继续办理」 focused; pressing it renews the session. If the
time passes anyway, what the holder of a step typed into its form is kept as their draft, filled
in after they sign in again; nobody else's sign-in sees it. The browser's timers run on
Playwright's clock, the server's on the engine clock."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from engine import clock
from web import create_app

from .web_helper import open_task, sign_in

OPINION = "经审查，方案第三条关于收费的规定缺乏上位法依据，建议删除或报请授权。"


def _engine(live):
    return live.app.extensions["reformflow"]


def _review_held_by_li(live) -> dict:
    engine = _engine(live)
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    return review


def _server_at(start: datetime, minutes: float) -> None:
    clock.set_override(start + timedelta(minutes=minutes))


def _li_opens_her_review(live, page) -> tuple[dict, datetime]:
    """li signed in at `start` (the server's clock), the page's clock in the test's hands, her
    review open: (the task, start)."""
    review = _review_held_by_li(live)
    start = clock.now()
    _server_at(start, 0)
    sign_in(page, live, "li")
    page.clock.install()
    page.goto(f"{live.url}/tasks/{review['id']}")
    return review, start


def test_two_minutes_before_the_end_a_dialog_warns_and_continue_keeps_her_signed_in(live, page):
    review, start = _li_opens_her_review(live, page)
    opinion = page.get_by_label("合法性审查意见")
    opinion.fill(OPINION)
    dialog = page.get_by_role("alertdialog", name="即将自动退出")
    page.clock.run_for("27:00")
    expect(dialog).to_be_hidden()
    page.clock.run_for("01:30")  # 28 minutes and a half: about two minutes left
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("约 2 分钟后将自动退出登录")
    expect(dialog.get_by_role("button", name="继续办理")).to_be_focused()
    _server_at(start, 28.5)
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opinion).to_be_focused()  # back where she was typing
    _server_at(start, 50)  # 50 minutes after the page came, 21.5 after 继续办理: still signed in
    page.clock.run_for("21:30")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="暂存", exact=True).click()
    expect(page.locator(".flash.ok")).to_contain_text("已暂存，尚未提交")
    assert _engine(live).draft(review["id"], actor="li")["values"]["legalityOpinion"] == OPINION


def test_if_the_time_passes_anyway_what_she_typed_is_kept_as_her_draft_for_after_sign_in(live, page):
    review, start = _li_opens_her_review(live, page)
    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("留言").fill("请起草人补充收费依据")
    page.clock.run_for("30:01")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("已因长时间未操作自动退出登录")
    expect(dialog.get_by_role("button", name="关闭")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    _server_at(start, 31)
    page.get_by_role("button", name="提交").click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("p.flash").nth(1)).to_contain_text("已为您暂存")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.url}/tasks/{review['id']}")
    expect(page.get_by_label("合法性审查意见")).to_have_value(OPINION)
    expect(page.get_by_label("留言")).to_have_value("请起草人补充收费依据")
    assert _engine(live).task_view(review["id"])["status"] == "claimed"  # kept, not submitted


def _client(engine):
    app = create_app(engine=engine, secret_key="test-secret", testing=True)
    return app, app.test_client()


def _token(client, path="/tasks") -> str:
    return re.search(r'data-csrf="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_continue_is_a_post_with_the_form_token_that_renews_the_session(demo_engine, at):
    app, client = _client(demo_engine)
    with at("2026-03-02T09:00"):
        login = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"username": "li", "password": "demo", "csrf_token": csrf})
    with at("2026-03-02T09:20"):
        page = client.get("/tasks").get_data(as_text=True)
        assert 'data-left="1800"' in page and 'role="alertdialog"' in page
        token = _token(client)
        assert client.post("/session/continue").status_code == 400  # no form token: refused
    with at("2026-03-02T09:48"):
        answer = client.post("/session/continue", headers={"X-CSRFToken": token})
        assert answer.status_code == 200 and answer.get_json() == {"left": 1800}
    with at("2026-03-02T10:10"):  # 22 minutes after 继续办理, 50 after the last page
        assert client.get("/tasks").status_code == 200
    with at("2026-03-02T10:40:01"):
        answer = client.post("/session/continue", headers={"X-CSRFToken": token})
        assert answer.status_code == 401 and answer.get_json() == {"left": 0}
    assert client.get("/tasks").status_code == 302


def test_only_the_holder_s_step_form_is_kept_and_only_for_her(live):
    review = _review_held_by_li(live)
    engine = _engine(live)
    app = live.app
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        li, zhang = app.test_client(), app.test_client()
        with clock.frozen(datetime(2026, 3, 2, 9, 0)):
            li.post("/login", data={"username": "li", "password": "demo"})
            zhang.post("/login", data={"username": "zhang", "password": "demo"})
        with clock.frozen(datetime(2026, 3, 2, 9, 31)):
            # a comment typed by someone not holding the step: not kept, and the page says so
            answer = zhang.post(f"/tasks/{review['id']}/comment", data={"comment": "何时完成？"},
                                headers={"Referer": f"http://localhost/tasks/{review['id']}"})
            assert "刚才提交的内容未保存" in zhang.get(answer.location).get_data(as_text=True)
            answer = li.post(f"/tasks/{review['id']}/complete", data={"legalityOpinion": OPINION},
                             headers={"Referer": f"http://localhost/tasks/{review['id']}"})
        assert answer.location == f"/login?next=/tasks/{review['id']}"
        assert engine.draft(review["id"], actor="zhang") is None
        assert engine.draft(review["id"], actor="li")["values"]["legalityOpinion"] == OPINION
        assert engine.task_view(review["id"])["status"] == "claimed"
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_work_in_another_tab_keeps_this_tab_from_warning_and_continue_there_closes_its_dialog(live, page):
    """One session for all of li's tabs: a page opened in a second tab 20 minutes on moves this
    tab's warning 20 minutes on; 继续办理 in the second tab closes this tab's dialog."""
    review, start = _li_opens_her_review(live, page)
    dialog = page.get_by_role("alertdialog", name="即将自动退出")
    page.clock.run_for("20:00")
    other = page.context.new_page()
    _server_at(start, 20)
    other.goto(f"{live.url}/tasks")
    page.clock.run_for("09:00")  # 29 minutes after this page came, 9 after the other
    expect(dialog).to_be_hidden()
    page.clock.run_for("19:30")  # 48.5 minutes: the session, renewed at 20, ends at 50
    expect(dialog).to_be_visible()
    expect(other.get_by_role("alertdialog", name="即将自动退出")).to_be_visible()
    _server_at(start, 48.5)
    other.get_by_role("alertdialog").get_by_role("button", name="继续办理").click()
    expect(other.get_by_role("alertdialog")).to_be_hidden()
    expect(dialog).to_be_hidden()
    page.clock.run_for("20:00")  # 68.5: renewed at 48.5, ends at 78.5
    expect(dialog).to_be_hidden()
    page.clock.run_for("09:00")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="继续办理")).to_be_visible()

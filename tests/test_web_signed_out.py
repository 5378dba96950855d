"""A page whose session ended some other way than by time (web/signed_out.py): signed out in
another browser, the password changed, deactivated and reactivated, the server's key changed.
The next click lands on the sign-in page, which says why; `next` is the page the person was on,
never an address only a form may post to; what was typed into a step's form is shown to copy,
neither written as anyone's nor carried in the session cookie (signed, not encrypted)."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from web import create_app

from .web_helper import open_task, page_text, sign_in

OPINION = "第三部分缺少上位法依据。"
REASON = "缺少上位法依据，请补充后重新送审"
GONE = "您已退出登录或登录已失效（例如在其他浏览器退出、修改了密码），请重新登录。"
SHOWN = "未能为您留存，请复制需要的部分，重新登录后再填写提交。"
NOT_SAVED = "刚才提交的内容未保存，请重新登录后再填写提交。"


def _flashes(answer) -> list[str]:
    return re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', answer.get_data(as_text=True))


def _review_held_by_li(engine) -> dict:
    review = open_task(engine, "DT-2015-04", "Task_LegalityReview")
    engine.claim(review["id"], actor="li")
    return review


def _app(engine, key: str = "test-secret", csrf: bool = False):
    app = create_app(engine=engine, secret_key=key, testing=True)
    app.config["WTF_CSRF_ENABLED"] = csrf
    return app


def _sign_in(client, username: str, password: str = "demo", **query):
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def _signed_out_elsewhere(app, username: str = "li"):
    """A client signed in as `username` whose session was then ended by signing out in another browser."""
    here, elsewhere = app.test_client(), app.test_client()
    _sign_in(here, username)
    _sign_in(elsewhere, username)
    assert elsewhere.post("/logout").location == "/login"
    return here


# ---------------------------------------------------------------- in a browser
def test_signed_out_in_another_browser_the_confirmed_return_is_shown_to_copy_then_back_to_the_step(live, page, browser):
    engine = live.app.extensions["reformflow"]
    review = _review_held_by_li(engine)
    sign_in(page, live, "li")
    page.goto(f"{live.url}/tasks/{review['id']}")
    page.get_by_label("审查结论").select_option("fail")
    page.get_by_label("合法性审查意见").fill(OPINION)
    page.get_by_label("退回理由（不通过时必填）").fill(REASON)
    page.get_by_label("留言").fill("请起草人补充依据")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("button", name="确认提交")).to_be_visible()

    other = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    try:  # li signs out in a second browser: every copy of her session is over
        there = other.new_page()
        sign_in(there, live, "li")
        there.get_by_role("button", name="退出").click()
        expect(there).to_have_url(f"{live.url}/login")
    finally:
        other.close()

    page.get_by_role("button", name="确认提交").click()
    expect(page.locator("p.flash")).to_have_text(GONE)
    expect(page.get_by_text(SHOWN)).to_be_visible()
    for kept in (OPINION, REASON, "请起草人补充依据"):
        expect(page.locator("textarea[data-kept-field]").filter(has_text=kept)).to_have_count(1)
    assert engine.task_view(review["id"])["status"] == "claimed"  # nothing submitted
    assert engine.draft(review["id"], actor="li") is None  # nor written as hers
    assert not any(OPINION in c["value"] for c in page.context.cookies())  # nor carried in the cookie
    page.get_by_role("link", name="重新登录").click()
    expect(page).to_have_url(f"{live.url}/login?next=/tasks/{review['id']}")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live.url}/tasks/{review['id']}")


# ---------------------------------------------------------------- nothing written, nothing carried
def test_nothing_typed_is_written_or_kept_in_the_session_before_sign_in(demo_engine):
    review = _review_held_by_li(demo_engine)
    app = _app(demo_engine)
    here = _signed_out_elsewhere(app)
    answer = here.post(f"/tasks/{review['id']}/draft", data={"legalityOpinion": OPINION},
                       headers={"Referer": f"http://localhost/tasks/{review['id']}"})
    assert answer.status_code == 401 and OPINION in page_text(answer) and GONE in page_text(answer)
    assert f'href="/login?next=/tasks/{review["id"]}"' in answer.get_data(as_text=True)
    with here.session_transaction() as kept:  # the signed cookie, decoded: readable by whoever has it
        assert OPINION not in str(dict(kept))
    assert demo_engine.draft(review["id"], actor="li") is None  # a copy of an ended session writes nothing
    _sign_in(here, "li")
    assert demo_engine.draft(review["id"], actor="li") is None


def test_a_password_changed_or_a_deactivation_in_between_ends_the_session_the_same_way(demo_engine):
    review = _review_held_by_li(demo_engine)
    step = f"/tasks/{review['id']}"
    here = _app(demo_engine).test_client()
    _sign_in(here, "li")
    demo_engine.set_password("li", "a-new-one-42", actor="chen")  # by the office, or by her in another browser
    assert here.get("/tasks").location == "/login?next=%2Ftasks"
    assert _flashes(here.get("/login")) == [GONE]
    answer = here.post(f"{step}/comment", data={"plan-comment": "何时完成？"}, headers={"Referer": f"http://localhost{step}"})
    assert answer.status_code == 401 and "何时完成？" in page_text(answer)
    assert _sign_in(here, "li", "a-new-one-42", next=step).location == step

    demo_engine.deactivate_user("li", actor="chen")
    demo_engine.reactivate_user("li", actor="chen")
    # a form that is not a step's: nothing to show, and the sign-in page says it was not saved
    answer = here.post("/account/password", headers={"Referer": "http://localhost/account/password"},
                       data={"current_password": "a-new-one-42", "new_password": "x-after-12",
                             "new_password_again": "x-after-12"})
    assert answer.location == "/login?next=/account/password"
    assert _flashes(here.get(answer.location)) == [GONE, NOT_SAVED]


# ---------------------------------------------------------------- what cannot be kept
def test_after_the_server_key_changed_the_form_is_refused_and_shown_to_copy(demo_engine):
    review = _review_held_by_li(demo_engine)
    before = _app(demo_engine, key="the-key-before", csrf=True).test_client()
    page = before.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    before.post("/login", data={"username": "li", "password": "demo", "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      before.get(f"/tasks/{review['id']}").get_data(as_text=True)).group(1)
    after = _app(demo_engine, key="the-key-after", csrf=True)
    here = after.test_client()
    here.set_cookie("session", before.get_cookie("session").value)
    sent = {"csrf_token": token, "legalityOpinion": OPINION, "plan-comment": "留言一句"}
    answer = here.post(f"/tasks/{review['id']}/complete", data=sent,
                       headers={"Origin": "http://localhost", "Referer": f"http://localhost/tasks/{review['id']}"})
    assert answer.status_code == 401
    text = page_text(answer)
    assert GONE in text and "未能为您留存，请复制需要的部分" in text
    html = answer.get_data(as_text=True)
    assert f'data-kept-field="legalityOpinion">{OPINION}</textarea>' in html
    assert f'href="/login?next=/tasks/{review["id"]}"' in html
    assert demo_engine.task_view(review["id"])["status"] == "claimed"
    # from another site: nothing done, and none of its words shown on this site's page
    answer = after.test_client().post(f"/tasks/{review['id']}/complete", data=sent,
                                      headers={"Origin": "https://elsewhere.example"})
    assert answer.status_code == 302 and OPINION not in page_text(answer)
    assert demo_engine.task_view(review["id"])["status"] == "claimed"


# ---------------------------------------------------------------- addresses only a form posts to
def test_an_address_only_a_form_posts_to_leads_to_its_page(demo_engine):
    review = _review_held_by_li(demo_engine)
    here = _app(demo_engine).test_client()
    assert _sign_in(here, "li", next=f"/tasks/{review['id']}/complete").location == f"/tasks/{review['id']}"
    answer = here.get(f"/tasks/{review['id']}/complete")
    assert answer.status_code == 302 and answer.location == f"/tasks/{review['id']}"
    assert _flashes(here.get(answer.location))[0] == "该地址只能由页面上的按钮提交，已为您打开相应的页面。"
    # the question before a decision is shown at /tasks/N/complete: a form from it comes back to /tasks/N
    here = _signed_out_elsewhere(_app(demo_engine))
    answer = here.post(f"/tasks/{review['id']}/complete", data={"legalityOpinion": OPINION, "confirmed": "1"},
                       headers={"Referer": f"http://localhost/tasks/{review['id']}/complete"})
    assert answer.status_code == 401 and f'href="/login?next=/tasks/{review["id"]}"' in answer.get_data(as_text=True)

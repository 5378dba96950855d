"""People and passwords in a real browser, over the demo: anyone changes their own password (with
the current one; their other browsers are signed out), the reform office keeps the users list:
adds a user who then signs in, changes a user's unit and groups (a change another office member
made meanwhile is a conflict, not undone), resets a forgotten password (the person's session
ends at their next click), deactivates someone who left (their session ends, their tasks go back
to their group or are listed to assign) and reactivates them. Nobody else sees these pages."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.passwords import matches
from models import AuditEvent, User

from .web_helper import sign_in

NEW = "new-password-2"


def _engine(live):
    return live.app.extensions["reformflow"]


def _user(engine, username: str) -> SimpleNamespace | None:
    """The user's row as the database now holds it."""
    with engine.db.reader() as s:
        user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        return None if user is None else SimpleNamespace(
            display_name=user.display_name, unit_name=user.unit.name if user.unit else None,
            group_codes=list(user.group_codes), active=user.active, password_hash=user.password_hash)


def _events(engine, kind: str) -> list[dict]:
    with engine.db.reader() as s:
        return [json.loads(p) | {"actor": a} for a, p in s.execute(
            select(AuditEvent.actor, AuditEvent.payload).where(AuditEvent.event_type == kind).order_by(AuditEvent.seq))]


@pytest.fixture
def browsers(browser, live):
    """More people, each at their own browser: `open_as("li")` is a page signed in as li."""
    contexts = []

    def open_as(username: str, password: str = "demo"):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        if username:
            sign_in(page, live, username, password)
        return page
    yield open_as
    for context in contexts:
        context.close()


def _signed_out(page, live) -> None:
    """The page's next click lands on the sign-in page."""
    page.goto(f"{live.url}/tasks")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="登录")).to_be_visible()


def _sign_in_refused(page, live, username: str, password: str, said: str) -> None:
    page.goto(f"{live.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text(said)


# ------------------------------------------------------------------ one's own password
def test_a_person_changes_their_own_password_and_their_other_browsers_are_signed_out(live, page, browsers):
    engine = _engine(live)
    elsewhere = browsers("li")  # li is signed in at another computer too
    sign_in(page, live, "li")
    page.get_by_role("link", name="账户设置").click()
    page.get_by_role("link", name="修改密码").click()
    expect(page.locator("h1")).to_have_text("修改密码")

    page.get_by_label("当前密码").fill("not-my-password")
    page.get_by_label("新密码", exact=True).fill(NEW)
    page.get_by_label("再次输入新密码").fill(NEW)
    with page.expect_response(re.compile(r"/account/password$")) as answer:
        page.get_by_role("button", name="修改密码").click()
    assert answer.value.status == 403
    expect(page.get_by_role("alert")).to_have_text("当前密码不正确，密码未修改")

    page.get_by_label("当前密码").fill("demo")
    page.get_by_label("新密码", exact=True).fill(NEW)
    page.get_by_label("再次输入新密码").fill(NEW + "x")
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_role("alert")).to_have_text("两次输入的新密码不一致，请重新输入。")
    assert matches(_user(engine, "li").password_hash, "demo")

    page.get_by_label("当前密码").fill("demo")
    page.get_by_label("新密码", exact=True).fill(NEW)
    page.get_by_label("再次输入新密码").fill(NEW)
    page.get_by_role("button", name="修改密码").click()
    expect(page).to_have_url(f"{live.url}/tasks")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    assert matches(_user(engine, "li").password_hash, NEW)
    assert [(e["username"], e["actor"]) for e in _events(engine, "password_set")] == [("li", "li")]

    page.get_by_role("link", name="全部").click()  # this browser goes on
    expect(page.locator("h1")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks\?scope=all"))
    _signed_out(elsewhere, live)  # the other does not
    _sign_in_refused(elsewhere, live, "li", "demo", "用户名或密码不正确")
    sign_in(elsewhere, live, "li", NEW)


def test_wrong_current_passwords_are_throttled_as_sign_ins_are(live, page):
    sign_in(page, live, "li")
    for _ in range(5):
        page.goto(f"{live.url}/account/password")
        page.get_by_label("当前密码").fill("guess-guess")
        page.get_by_label("新密码", exact=True).fill(NEW)
        page.get_by_label("再次输入新密码").fill(NEW)
        page.get_by_role("button", name="修改密码").click()
        expect(page.get_by_role("alert")).to_contain_text("当前密码不正确")
    page.get_by_label("当前密码").fill("demo")  # right, but too late: not even checked
    page.get_by_label("新密码", exact=True).fill(NEW)
    page.get_by_label("再次输入新密码").fill(NEW)
    with page.expect_response(re.compile(r"/account/password$")) as answer:
        page.get_by_role("button", name="修改密码").click()
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("密码输错次数过多")
    assert matches(_user(_engine(live), "li").password_hash, "demo")
    # each refusal is on the audit trail, with why, never with what was typed
    with _engine(live).db.reader() as s:
        refusals = s.execute(select(AuditEvent.actor, AuditEvent.payload)
                             .where(AuditEvent.event_type == "password_change_refused")).all()
    assert [(actor, json.loads(payload)["reason"]) for actor, payload in refusals] == \
        [("li", "wrong_current_password")] * 5 + [("li", "throttled")]
    assert not any("guess-guess" in payload or NEW in payload or "demo" in payload for _, payload in refusals)


# ------------------------------------------------------------------ the office's users list
def test_only_the_office_sees_the_users_pages(live, page):
    sign_in(page, live, "li")
    expect(page.get_by_role("navigation").get_by_role("link", name="用户")).to_have_count(0)
    expect(page.get_by_role("link", name="账户设置")).to_be_visible()  # everyone's
    for path in ("/people", "/people/zhang", "/people/new", "/people/zhang/deactivate"):
        assert page.goto(f"{live.url}{path}").status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("只有改革办可以查看此页面")


def test_the_office_adds_a_user_who_then_signs_in(live, page, browsers):
    engine = _engine(live)
    sign_in(page, live, "chen")
    page.get_by_role("navigation").get_by_role("link", name="用户").click()
    expect(page.locator("h1")).to_contain_text("用户")
    li = page.locator("tr[data-user='li']")
    expect(li).to_contain_text("李娜")
    expect(li).to_contain_text("市司法局")
    expect(li).to_contain_text("法制机构")  # the group by its name, not `legal`
    expect(li).to_contain_text("在岗")
    expect(page.locator("tr[data-user]")).to_have_count(len(engine.users(include_inactive=True)))

    page.get_by_role("link", name="添加用户").click()
    page.get_by_label("用户名").fill("qian")
    page.get_by_label("姓名").fill("钱进")
    page.get_by_label("单位", exact=True).fill("市财政局")
    page.get_by_label("牵头单位").check()
    page.get_by_label(re.compile(r"^初始密码")).fill("welcome-qian")
    page.get_by_label("再次输入初始密码").fill("welcome-qian")
    page.get_by_role("button", name="添加", exact=True).click()
    expect(page).to_have_url(f"{live.url}/people/qian")
    expect(page.get_by_role("status")).to_contain_text("已添加用户 钱进（qian），请将初始密码当面或经安全渠道告知本人")
    qian = _user(engine, "qian")
    assert (qian.display_name, qian.unit_name, qian.group_codes, qian.active) == ("钱进", "市财政局", ["drafter"], True)
    assert matches(qian.password_hash, "welcome-qian")
    [added] = [e for e in _events(engine, "user_added") if e["username"] == "qian"]
    assert (added["actor"], added["groups"], added["unit"]) == ("chen", ["drafter"], "市财政局")
    assert "welcome-qian" not in json.dumps(added)

    # a name taken, said as the engine says it; what was typed is kept
    page.goto(f"{live.url}/people/new")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("姓名").fill("李四")
    page.get_by_label(re.compile(r"^初始密码")).fill("welcome-li4")
    page.get_by_label("再次输入初始密码").fill("welcome-li4")
    with page.expect_response(re.compile(r"/people/new$")) as answer:
        page.get_by_role("button", name="添加", exact=True).click()
    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_have_text("用户 li 已存在")
    expect(page.get_by_label("姓名")).to_have_value("李四")
    assert _user(engine, "li").display_name == "李娜"

    newcomer = browsers("qian", "welcome-qian")
    expect(newcomer.locator(".me")).to_contain_text("钱进（qian） · 市财政局")


def test_the_office_resets_a_forgotten_password_and_the_persons_session_ends(live, page, browsers):
    engine = _engine(live)
    li = browsers("li")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/people/chen")  # one's own is changed with the current one, elsewhere
    expect(page.locator("section.person-password form")).to_have_count(0)
    expect(page.locator("section.person-password")).to_contain_text("修改自己的密码须输入当前密码")

    page.goto(f"{live.url}/people")
    page.locator("tr[data-user='li']").get_by_role("link", name="li").click()
    expect(page.locator("h1")).to_contain_text("李娜（li）")
    page.get_by_label("新密码", exact=True).fill("li-again-2026")
    page.get_by_label("再次输入新密码").fill("li-again-2026")
    page.get_by_role("button", name="重设密码").click()
    expect(page.get_by_role("status")).to_contain_text("已重设 李娜（li） 的密码，其网页登录已失效")
    assert matches(_user(engine, "li").password_hash, "li-again-2026")
    [reset] = _events(engine, "password_reset")
    assert reset == {"username": "li", "actor": "chen"}  # who and whose, nothing else

    _signed_out(li, live)  # at her next click
    _sign_in_refused(li, live, "li", "demo", "用户名或密码不正确")
    sign_in(li, live, "li", "li-again-2026")
    page.goto(f"{live.url}/tasks")  # the office member's own session is untouched
    expect(page).to_have_url(f"{live.url}/tasks")


def test_the_office_moves_a_user_and_a_change_made_meanwhile_is_a_conflict(live, browsers):
    engine = _engine(live)
    chen, yang, li = browsers("chen"), browsers("yang"), browsers("li")
    for office in (chen, yang):
        office.goto(f"{live.url}/people/li")
    yang.get_by_label("专家").check()
    yang.get_by_role("button", name="保存修改").click()
    expect(yang.get_by_role("status")).to_contain_text("已修改用户 李娜（li）")
    expect(yang.locator("dl.facts")).to_contain_text("专家、法制机构")  # by code, as the users list

    chen.get_by_label("单位", exact=True).fill("市委政法委")  # on the page as it was before yang's change
    with chen.expect_response(re.compile(r"/people/li/update$")) as answer:
        chen.get_by_role("button", name="保存修改").click()
    assert answer.value.status == 409
    expect(chen.get_by_role("alert")).to_contain_text("用户 li 刚被其他人修改过，请刷新后重试")
    user = _user(engine, "li")
    assert (user.unit_name, user.group_codes) == ("市司法局", ["expert", "legal"])  # yang's change stands

    chen.goto(f"{live.url}/people/li")  # reloaded: both
    chen.get_by_label("单位", exact=True).fill("市委政法委")
    chen.get_by_label("专家").uncheck()
    chen.get_by_role("button", name="保存修改").click()
    expect(chen.get_by_role("status")).to_contain_text("已修改用户 李娜（li）")
    user = _user(engine, "li")
    assert (user.unit_name, user.group_codes) == ("市委政法委", ["legal"])
    changed = [(e["actor"], e["old"], e["new"]) for e in _events(engine, "user_changed")]
    assert changed == [("yang", {"groups": ["legal"]}, {"groups": ["expert", "legal"]}),
                       ("chen", {"unit": "市司法局", "groups": ["expert", "legal"]},
                        {"unit": "市委政法委", "groups": ["legal"]})]
    li.goto(f"{live.url}/tasks")  # takes effect at her next click
    expect(li.locator(".me")).to_contain_text("李娜（li） · 市委政法委")


def test_deactivating_someone_hands_their_tasks_on_and_ends_their_session(live, page, browsers):
    engine = _engine(live)
    # a second drafter in zhang's unit, to take his step back; xie's nobody else may take
    engine.add_user("qian", "钱进", groups=["drafter"], unit="市财政局", password="demo")
    zhang = browsers("zhang")
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/people/zhang")
    page.get_by_role("link", name="停用该用户").click()
    expect(page.locator("h1")).to_have_text("停用用户")
    expect(page.locator("main")).to_contain_text("其手头待办 1 项将交回其角色的其他人员")
    assert _user(engine, "zhang").active  # asked first, nothing done yet
    page.get_by_role("button", name="确认停用").click()
    expect(page.get_by_role("status")).to_contain_text("已停用 张伟（zhang）：其网页登录已失效")
    handed = page.get_by_role("region", name="手头待办的去向")
    expect(handed.locator("ul.returned li")).to_have_count(1)
    expect(handed.locator("ul.returned")).to_contain_text("发布公开征求意见 · 交回 牵头单位")
    expect(page.locator("h1")).to_contain_text("已停用")
    assert not _user(engine, "zhang").active
    [task_id] = handed.locator("ul.returned li").evaluate_all("ls => ls.map(l => Number(l.dataset.task))")
    assert (engine.task_view(task_id)["status"], engine.task_view(task_id)["assignee"]) == ("open", None)

    _signed_out(zhang, live)
    _sign_in_refused(zhang, live, "zhang", "demo", "该用户已停用，请联系改革办")

    page.goto(f"{live.url}/people/xie/deactivate")
    page.get_by_role("button", name="确认停用").click()
    handed = page.get_by_role("region", name="手头待办的去向")
    expect(handed).to_contain_text("以下待办无其他人可接，请改革办在待办页面指派")
    expect(handed.locator("ul.to-assign li")).to_have_count(1)
    handed.locator("ul.to-assign").get_by_role("link", name="报送月度进展").click()
    expect(page.locator("section.assign")).to_be_visible()  # where the office assigns it

    # deactivated twice (another office member got there first): the engine's conflict
    page.goto(f"{live.url}/people/zhang/deactivate")
    expect(page.locator("main")).to_contain_text("该用户已停用")

    page.goto(f"{live.url}/people/zhang")
    page.get_by_role("button", name="重新启用").click()
    expect(page.get_by_role("status")).to_contain_text("已启用 张伟（zhang）。停用期间转交他人的待办不会回到其手中")
    assert _user(engine, "zhang").active
    sign_in(zhang, live, "zhang")
    assert [(e["username"], e["actor"]) for e in _events(engine, "user_deactivated")] == [("zhang", "chen"), ("xie", "chen")]
    assert [(e["username"], e["actor"]) for e in _events(engine, "user_reactivated")] == [("zhang", "chen")]


def test_the_users_pages_speak_english(live, page):
    sign_in(page, live, "chen")
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    expect(page.locator("h1")).to_contain_text("Users")
    page.goto(f"{live.url}/people/zhang/deactivate")
    expect(page.locator("main")).to_contain_text("The 1 task they hold goes back to the others in their group")
    page.get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_label("Current password")).to_be_visible()


def test_a_user_whose_name_has_a_slash_has_a_page_the_office_can_use(demo_engine):
    """Sign-in names may hold "/" (an OA system's "dept/name"): the page and its buttons must reach
    that user, not a 404 for a path that was never a user."""
    from .web_helper import signed_in_client
    demo_engine.add_user("fgw/wang", "王芳", unit=None, password="pass-word-1")
    chen = signed_in_client(demo_engine, "chen")
    page = chen.get("/people/fgw/wang")
    assert page.status_code == 200 and "王芳" in page.get_data(as_text=True)
    assert 'action="/people/fgw/wang/update"' in page.get_data(as_text=True)
    changed = chen.post("/people/fgw/wang/update", data={"seen_display_name": "王芳", "display_name": "王芳芳"})
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/people/fgw/wang")
    assert _user(demo_engine, "fgw/wang").display_name == "王芳芳"
    assert chen.get("/people/fgw/nobody").status_code == 404

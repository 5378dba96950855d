"""邮件提醒 in a real browser: a person sets, corrects and clears their own address on
/account/email; the reform office sees the outbox (/mail) with a failing mail and its error, and
tries it again. What is queued and sent: tests/test_mail.py."""
from __future__ import annotations

import json
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from engine import clock
from models import AuditEvent, MailMessage, User

from .web_helper import sign_in


def _email(engine, username: str) -> str | None:
    with engine.db.reader() as s:
        return s.execute(select(User.email).where(User.username == username)).scalar()


def test_a_person_sets_and_clears_their_own_address(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "zhang")
    page.get_by_role("link", name="账户设置").click()
    expect(page.locator("dl.account")).to_contain_text("未填写邮箱地址：不发邮件。")
    page.get_by_role("link", name="邮件提醒").click()
    expect(page.locator("h1")).to_have_text("邮件提醒")
    page.get_by_label("邮箱地址").fill("zhang@fgw")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("邮箱地址“zhang@fgw”格式不正确")
    expect(page.get_by_label("邮箱地址")).to_have_value("zhang@fgw")  # what was typed, kept to correct
    assert _email(engine, "zhang") is None
    page.get_by_label("邮箱地址").fill("zhang@fgw.example.gov.cn")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存邮箱地址 zhang@fgw.example.gov.cn")
    assert _email(engine, "zhang") == "zhang@fgw.example.gov.cn"
    page.get_by_label("邮箱地址").fill("")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已清除邮箱地址")
    assert _email(engine, "zhang") is None
    with engine.db.reader() as s:
        changed = s.execute(select(AuditEvent.actor).where(AuditEvent.event_type == "user_changed")).scalars().all()
    assert changed == ["zhang", "zhang"]


def test_the_office_sees_a_failing_mail_and_tries_it_again(live, page, monkeypatch):
    monkeypatch.delenv("REFORMFLOW_SMTP_HOST", raising=False)
    engine = live.app.extensions["reformflow"]
    now = clock.now()
    with engine.db.transaction() as s:
        s.add(MailMessage(username="li", address="li@legal.example.gov.cn", subject="【催办】某方案：合法性审查",
                          body="正文", kind="task_urged", created_at=now - timedelta(hours=1), attempts=8,
                          next_try_at=None, last_error="SMTPRecipientsRefused: 550 no such user"))
        s.add(MailMessage(username="zhang", address="zhang@fgw.example.gov.cn", subject="【待办】某方案：起草",
                          body="正文", kind="task_new", created_at=now, attempts=0, next_try_at=now))
    sign_in(page, live, "li")
    page.goto(f"{live.url}/mail")
    expect(page.locator("main")).to_contain_text("只有改革办可以查看此页面")
    sign_in(page, live, "chen")
    page.get_by_role("link", name="邮件发送").click()
    expect(page.locator("main")).to_contain_text("尚未配置发信服务器")
    expect(page.locator("dd.queued")).to_have_text("1")
    expect(page.locator("dd.gave-up")).to_have_text("1")
    row = page.locator("table.mail-failures tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("li@legal.example.gov.cn")
    expect(row).to_contain_text("550 no such user")
    expect(row).to_contain_text("已放弃")
    row.get_by_role("button", name="重试").click()
    expect(page.get_by_role("status")).to_contain_text("将在下一轮发送时重试")
    expect(page.locator("dd.queued")).to_have_text("2")
    expect(page.locator("dd.gave-up")).to_have_text("0")
    with engine.db.reader() as s:
        assert s.execute(select(MailMessage.next_try_at).where(MailMessage.username == "li")).scalar() is not None
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Mail")


def test_the_office_sets_and_clears_an_address_on_a_users_page(demo_engine):
    from web import create_app
    from .test_web_security import _sign_in, _token
    app = create_app(engine=demo_engine, secret_key="test-secret", testing=True)
    client = app.test_client()
    assert _sign_in(client, "chen").status_code == 302
    seen = {"seen_display_name": "李娜", "seen_unit": "市司法局", "seen_groups": "legal", "display_name": "李娜",
            "unit": "市司法局", "groups": ["legal"]}
    page = client.get("/people/li").get_data(as_text=True)
    assert 'name="seen_email" value=""' in page and "未填写，不发邮件提醒" in page
    bad = client.post("/people/li/update", data={**seen, "email": "li at legal", "seen_email": "",
                                                 "csrf_token": _token(client, "/people/li")})
    assert bad.status_code == 400 and "格式不正确" in bad.get_data(as_text=True)
    assert _email(demo_engine, "li") is None
    done = client.post("/people/li/update", data={**seen, "email": "li@legal.example.gov.cn", "seen_email": "",
                                                  "csrf_token": _token(client, "/people/li")})
    assert done.status_code == 302 and _email(demo_engine, "li") == "li@legal.example.gov.cn"
    # another office member's change since the page was loaded is a conflict, not overwritten
    stale = client.post("/people/li/update", data={**seen, "email": "li2@legal.example.gov.cn", "seen_email": "",
                                                   "csrf_token": _token(client, "/people/li")})
    assert stale.status_code == 409 and _email(demo_engine, "li") == "li@legal.example.gov.cn"
    cleared = client.post("/people/li/update", data={**seen, "email": "", "seen_email": "li@legal.example.gov.cn",
                                                     "csrf_token": _token(client, "/people/li")})
    assert cleared.status_code == 302 and _email(demo_engine, "li") is None


def _digest(engine, username: str) -> bool:
    with engine.db.reader() as s:
        return s.execute(select(User.mail_digest).where(User.username == username)).scalar()


def test_a_person_turns_the_daily_digest_on_and_off_with_the_address(demo_engine):
    """账户设置 → 邮件提醒: the checkbox (off by default) is saved with the address, in one change on
    the trail; the page says so in English too."""
    from web import create_app
    from .test_web_security import _sign_in, _token
    app = create_app(engine=demo_engine, secret_key="test-secret", testing=True)
    client = app.test_client()
    assert _sign_in(client, "zhang").status_code == 302
    page = client.get("/account/email").get_data(as_text=True)
    assert "每个工作日早上发一封待办摘要" in page and 'name="digest" type="checkbox" >' in page  # not checked
    assert "每个工作日 08:30（北京时间）后发一封" in page
    done = client.post("/account/email", data={"email": "zhang@fgw.example.gov.cn", "digest": "on",
                                               "csrf_token": _token(client, "/account/email")}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "已保存邮箱地址 zhang@fgw.example.gov.cn" in page and "已开启每日待办摘要：每个工作日 08:30 后发一封" in page
    assert 'name="digest" type="checkbox" checked>' in page and _digest(demo_engine, "zhang") is True
    off = client.post("/account/email", data={"email": "zhang@fgw.example.gov.cn",
                                              "csrf_token": _token(client, "/account/email")}, follow_redirects=True)
    assert "已取消每日待办摘要。" in off.get_data(as_text=True) and _digest(demo_engine, "zhang") is False
    with demo_engine.db.reader() as s:
        changed = s.execute(select(AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.event_type == "user_changed").order_by(AuditEvent.seq)).all()
    assert [(actor, json.loads(p)["new"]) for actor, p in changed] == [
        ("zhang", {"email": "zhang@fgw.example.gov.cn", "digest": True}), ("zhang", {"digest": False})]
    client.post("/language/en", data={"csrf_token": _token(client, "/account/email")})
    english = client.get("/account/email").get_data(as_text=True)
    assert "每个工作日早上发一封待办摘要" not in english and "digest" in english.lower()


def test_in_the_browser_the_digest_is_a_labelled_checkbox_kept_after_saving(live, page):
    engine = live.app.extensions["reformflow"]
    sign_in(page, live, "li")
    page.get_by_role("link", name="账户设置").click()
    page.get_by_role("link", name="邮件提醒").click()
    box = page.get_by_label("每个工作日早上发一封待办摘要")
    expect(box).not_to_be_checked()
    page.get_by_label("邮箱地址").fill("li@legal.example.gov.cn")
    box.check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已开启每日待办摘要")).to_have_count(1)
    expect(page.get_by_label("每个工作日早上发一封待办摘要")).to_be_checked()
    assert _digest(engine, "li") is True


def test_the_office_turns_someones_digest_on_on_their_page(demo_engine):
    from web import create_app
    from .test_web_security import _sign_in, _token
    app = create_app(engine=demo_engine, secret_key="test-secret", testing=True)
    client = app.test_client()
    assert _sign_in(client, "chen").status_code == 302
    seen = {"seen_display_name": "李娜", "seen_unit": "市司法局", "seen_groups": "legal", "display_name": "李娜",
            "unit": "市司法局", "groups": ["legal"], "seen_email": "", "email": ""}
    page = client.get("/people/li").get_data(as_text=True)
    assert 'name="seen_digest" value=""' in page and '<dd class="digest">未开启</dd>' in page
    done = client.post("/people/li/update", data={**seen, "digest": "on", "seen_digest": "",
                                                  "csrf_token": _token(client, "/people/li")})
    assert done.status_code == 302 and _digest(demo_engine, "li") is True
    assert '<dd class="digest">开启</dd>' in client.get("/people/li").get_data(as_text=True)
    # unticked on a page that showed it on: off, on the trail by the office
    client.post("/people/li/update", data={**seen, "seen_digest": "on", "csrf_token": _token(client, "/people/li")})
    assert _digest(demo_engine, "li") is False
    with demo_engine.db.reader() as s:
        changed = s.execute(select(AuditEvent.actor, AuditEvent.payload).where(
            AuditEvent.event_type == "user_changed").order_by(AuditEvent.seq)).all()
    assert [(actor, json.loads(p)["new"]) for actor, p in changed][-2:] == [
        ("chen", {"digest": True}), ("chen", {"digest": False})]


def test_the_outbox_page_shows_a_digests_kind(demo_engine):
    from web import create_app
    from .test_web_security import _sign_in
    now = clock.now()
    with demo_engine.db.transaction() as s:
        s.add(MailMessage(username="li", address="li@legal.example.gov.cn", subject="【待办摘要】12月7日：…",
                          body="正文", kind="digest", created_at=now, attempts=2, next_try_at=now,
                          last_error="SMTPServerDisconnected", digest_on=now.date()))
    app = create_app(engine=demo_engine, secret_key="test-secret", testing=True)
    client = app.test_client()
    assert _sign_in(client, "chen").status_code == 302
    assert '<td class="kind">待办摘要</td>' in client.get("/mail").get_data(as_text=True)

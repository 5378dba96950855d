"""Sign-ins leave a trace and idle sessions end (MLPS 2.0, 等保2.0): every sign-in, refused
sign-in (and why), sign-out and session that ended by itself is an event of the audit trail,
never with the password; a session left idle, or signed in too long, ends at its next request,
which lands on the sign-in page and then back where the person was, in their language; the
office sees a user's last sign-in and refused ones on the user's page."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import audit, clock
from models import AuditEvent, User
from web import create_app

from .web_helper import sign_in

ROOT = Path(__file__).resolve().parents[1]

SECRET = "not-this-one-9"  # a wrong password typed: it must appear nowhere in the trail


def _app(engine):
    app = create_app(engine=engine, secret_key="test-secret", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _client(app, address: str = "10.0.0.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _sign_in(client, username: str, password: str = "demo", **query):
    return client.post("/login", query_string=query, data={"username": username, "password": password})


def _flashes(response) -> list[str]:
    return re.findall(r'<p class="flash[^"]*"[^>]*>([^<]*)</p>', response.get_data(as_text=True))


def _events(engine, *kinds: str) -> list[dict]:
    """The trail's events of those kinds, oldest first: actor, type, plan and payload."""
    with engine.db.reader() as s:
        return [{"actor": e.actor, "type": e.event_type, "plan": e.instance_id, **json.loads(e.payload)}
                for e in s.execute(select(AuditEvent).where(AuditEvent.event_type.in_(kinds))
                                   .order_by(AuditEvent.seq)).scalars()]


SIGN_INS = ("signed_in", "sign_in_refused", "signed_out", "session_expired")


# ---------------------------------------------------------------- the trail
def test_sign_ins_refusals_and_sign_outs_are_in_the_trail_never_the_password(demo_engine, monkeypatch, tmp_path):
    from web import sign_in_throttle
    monkeypatch.setattr(sign_in_throttle, "PER_NAME", 2)
    demo_engine.deactivate_user("zhou", actor="chen")
    app = _app(demo_engine)
    client = _client(app)
    assert _sign_in(client, "li").status_code == 302
    assert client.post("/logout").status_code == 302
    assert _sign_in(client, "li", SECRET).status_code == 401
    assert _sign_in(client, "nobody-here", SECRET).status_code == 401
    assert _sign_in(client, "zhou").status_code == 401  # the right password, but deactivated
    assert _sign_in(client, "li", SECRET).status_code == 401
    assert _sign_in(client, "li").status_code == 429  # two failures: li waits a while
    where = {"plan": None, "address": "10.0.0.7"}
    assert _events(demo_engine, *SIGN_INS) == [
        {"actor": "li", "type": "signed_in", "username": "li", **where},
        {"actor": "li", "type": "signed_out", "username": "li", **where},
        {"actor": "li", "type": "sign_in_refused", "username": "li", "reason": "wrong_password", **where},
        {"actor": "nobody-here", "type": "sign_in_refused", "username": "nobody-here", "reason": "unknown_user", **where},
        {"actor": "zhou", "type": "sign_in_refused", "username": "zhou", "reason": "deactivated", **where},
        {"actor": "li", "type": "sign_in_refused", "username": "li", "reason": "wrong_password", **where},
        {"actor": "li", "type": "sign_in_refused", "username": "li", "reason": "throttled", **where},
    ]
    with demo_engine.db.reader() as s:  # events without a plan verify and export as every other
        assert audit.verify(s).ok
        out = io.StringIO()
        audit.export(s, out, "jsonl")
    assert SECRET not in out.getvalue()
    (tmp_path / "trail.jsonl").write_text(out.getvalue(), encoding="utf-8")  # an auditor's own check, outside
    checked = subprocess.run([sys.executable, str(ROOT / "ops" / "check_audit_export.py"), str(tmp_path / "trail.jsonl")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    office = _client(app)
    _sign_in(office, "chen")
    exported = office.get("/audit/export.csv").get_data(as_text=True)
    assert SECRET not in exported
    refused = [line for line in exported.splitlines() if ",sign_in_refused,," in line]
    assert len(refused) == 5  # no plan: an empty instance_id


def test_the_unknown_name_and_the_wrong_password_are_refused_alike_but_told_apart_in_the_trail(demo_engine):
    client = _client(_app(demo_engine))
    answers = [_sign_in(client, name, SECRET) for name in ("li", "nobody-here")]
    assert [(a.status_code, _flashes(a)) for a in answers] == [
        (401, ["用户名或密码不正确。没有密码的用户请向改革办申领。"])] * 2
    assert [e["reason"] for e in _events(demo_engine, "sign_in_refused")] == ["wrong_password", "unknown_user"]


# ---------------------------------------------------------------- idle sessions end
def test_an_idle_session_ends_at_the_next_request_which_comes_back_after_sign_in(demo_engine, at):
    app = _app(demo_engine)
    client = _client(app)
    client.post("/language/en", data={"next": "/login"})
    with at("2026-03-02T09:00"):
        _sign_in(client, "li")
    with at("2026-03-02T09:30"):  # 30 minutes: still on
        assert client.get("/tasks").status_code == 200
    with at("2026-03-02T10:00:01"):  # 30 minutes and a second since that request
        answer = client.get("/tasks?view=all")
    assert answer.status_code == 302 and answer.location == "/login?next=/tasks?view%3Dall"
    page = client.get(answer.location)
    assert 'lang="en"' in page.get_data(as_text=True)  # the language survives
    assert _flashes(page) == ["You were signed out after a long time without activity. Please sign in again."]
    assert client.get("/tasks").status_code == 302  # signed out for good
    [ended] = _events(demo_engine, "session_expired")
    assert ended == {"actor": "li", "type": "session_expired", "plan": None, "username": "li", "address": "10.0.0.7",
                     "reason": "idle", "last_seen": "2026-03-02T01:30:00+00:00", "signed_in_at": "2026-03-02T01:00:00+00:00"}
    with at("2026-03-02T10:05"):
        assert _sign_in(client, "li", next="/tasks?view=all").location == "/tasks?view=all"


def test_a_busy_session_ends_after_the_most_hours_and_the_settings_come_from_the_environment(demo_engine, at, monkeypatch):
    monkeypatch.setenv("REFORMFLOW_IDLE_MINUTES", "20")
    monkeypatch.setenv("REFORMFLOW_SESSION_HOURS", "1")
    client = _client(_app(demo_engine))
    with at("2026-03-02T09:00"):
        _sign_in(client, "li")
    for minute in (19, 38, 57):  # never 20 minutes idle
        with at(f"2026-03-02T09:{minute}"):
            assert client.get("/tasks").status_code == 200
    with at("2026-03-02T10:00:01"):
        answer = client.get("/tasks")
    assert answer.location == "/login?next=/tasks"
    assert _flashes(client.get(answer.location)) == ["登录已超过 1 小时，已自动退出，请重新登录。"]
    assert [e["reason"] for e in _events(demo_engine, "session_expired")] == ["too_long"]
    client = _client(_app(demo_engine))
    with at("2026-03-02T11:00"):
        _sign_in(client, "li")
    with at("2026-03-02T11:20:01"):
        assert client.get("/tasks").status_code == 302


@pytest.mark.parametrize("setting, value", [("REFORMFLOW_IDLE_MINUTES", "half an hour"),
                                            ("REFORMFLOW_SESSION_HOURS", "0")])
def test_a_wrong_setting_stops_the_start_up(demo_engine, monkeypatch, setting, value):
    monkeypatch.setenv(setting, value)
    with pytest.raises(ValueError, match=setting):
        _app(demo_engine)


def test_a_form_posted_after_the_session_ended_is_not_saved_and_the_page_says_so(demo_engine, at):
    client = _client(_app(demo_engine))
    with at("2026-03-02T09:00"):
        _sign_in(client, "li")
    with demo_engine.db.reader() as s:
        before = s.execute(select(User.password_hash).where(User.username == "li")).scalar()
    with at("2026-03-02T12:00"):
        answer = client.post("/account/password", headers={"Referer": "http://localhost/account/password"},
                             data={"current_password": "demo", "new_password": "after-lunch-1",
                                   "new_password_again": "after-lunch-1"})
    assert answer.status_code == 302 and answer.location == "/login?next=/account/password"
    assert _flashes(client.get(answer.location)) == ["长时间未操作，已自动退出，请重新登录。",
                                                     "刚才提交的内容未保存，请重新登录后再填写提交。"]
    with demo_engine.db.reader() as s:
        assert s.execute(select(User.password_hash).where(User.username == "li")).scalar() == before


def test_signing_out_after_a_long_lunch_still_signs_out_everywhere(demo_engine, at):
    app = _app(demo_engine)
    here, elsewhere = _client(app), _client(app, "10.0.0.8")
    with at("2026-03-02T09:00"):
        _sign_in(here, "li")
        _sign_in(elsewhere, "li")
    with at("2026-03-02T13:00"):
        assert here.post("/logout").location == "/login"
    with at("2026-03-02T13:01"):
        assert elsewhere.get("/tasks").location == "/login?next=%2Ftasks"  # the other browser too (Flask-Login)
    assert [e["type"] for e in _events(demo_engine, *SIGN_INS)] == ["signed_in", "signed_in", "signed_out"]


# ---------------------------------------------------------------- where the office sees it
def test_the_office_sees_a_users_last_sign_in_and_refused_ones(demo_engine, at):
    app = _app(demo_engine)
    with at("2026-03-02T09:00"):
        _sign_in(_client(app, "10.0.0.7"), "li")
    with at("2026-03-02T09:10"):
        _sign_in(_client(app, "10.6.6.6"), "li", SECRET)
    with at("2026-03-02T09:20"):
        office = _client(app, "10.0.0.1")
        _sign_in(office, "chen")
        page = office.get("/people/li").get_data(as_text=True)
        never = office.get("/people/zhang").get_data(as_text=True)
    assert re.search(r'class="last-sign-in">2026年3月2日 09:00（10.0.0.7）<', page)
    assert re.search(r"<tr><td>2026年3月2日 09:10</td><td>10.6.6.6</td><td>密码错误</td></tr>", page)
    assert SECRET not in page
    assert "从未登录网页" in never and "审计记录中没有以该用户名登录失败的记录。" in never


def test_the_sign_ins_query_runs_on_both_databases(engine):
    engine.add_user("li", "李娜")
    with clock.frozen(datetime(2026, 3, 2, 9, 0)):
        engine.signed_in("li", address="10.0.0.7")
    for minute, reason in enumerate(("wrong_password", "throttled", "deactivated"), start=1):
        with clock.frozen(datetime(2026, 3, 2, 9, minute)):
            engine.sign_in_refused("li", address="10.6.6.6", reason=reason)
    engine.sign_in_refused("someone-else", address="10.6.6.6", reason="unknown_user")
    found = engine.sign_ins("li", refused=2)
    assert found["last"] == {"at": "2026-03-02T01:00:00+00:00", "address": "10.0.0.7", "reason": None}
    assert [(r["reason"], r["at"]) for r in found["refused"]] == [
        ("deactivated", "2026-03-02T01:03:00+00:00"), ("throttled", "2026-03-02T01:02:00+00:00")]
    assert engine.sign_ins("wang") == {"last": None, "refused": []}


# ---------------------------------------------------------------- in a browser
def test_after_a_timeout_the_person_signs_in_again_and_lands_on_the_page_they_were_on(live, page):
    sign_in(page, live, "li")
    page.locator("table.inbox a[href*='/tasks/']").first.click()  # a task of hers, with its form
    expect(page).to_have_url(re.compile(r"/tasks/\d+$"))
    task_url = page.url
    clock.set_override(clock.now() + timedelta(minutes=31))  # lunch (the server's clock)
    page.reload()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("p.flash")).to_have_text("长时间未操作，已自动退出，请重新登录。")
    page.get_by_label("用户名").fill("li")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(task_url)

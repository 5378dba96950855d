"""QA auditor finding 11: the events that belong to no plan (deploys, users, tokens, the calendar,
sign-ins, exports and anchors) are read by the auditor newest first, a page at a time, by type and
by date, each with who, when, how and its data: in the engine, `reformflow audit events`, the
auditor's web page (linked from the audit page) and the API; nobody else may."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Invalid
from engine.planless import checked_filters, planless_events

from .conftest import FIXTURES, read
from .web_helper import page_text, signed_in_client


def _read(engine, **given) -> dict:
    with engine.db.reader() as s:
        return planless_events(s, **checked_filters(**given))


@pytest.fixture
def history(engine, people, at):
    """Users on 2026-03-02, a deploy and a plan on 03-03, a rename and a token made and revoked on 03-04."""
    with at("2026-03-03T10:00"):
        engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")], actor="chen")
        engine.start("mini_approval", actor="zhang", title="有方案的事件")
    with at("2026-03-04T10:00"):
        engine.update_user("li", actor="chen", display_name="李娜娜")
        token = engine.create_token("zhang", "OA 系统")
        engine.revoke_token("chen", token["id"])
    return token


def test_newest_first_none_of_a_plan_each_with_who_how_and_its_data(engine, history):
    found = _read(engine)
    events = found["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs, reverse=True)
    assert all(e["event_type"] not in ("instance_started", "task_created") for e in events)
    newest = events[0]
    assert (newest["event_type"], newest["actor"], newest["actor_name"]) == ("token_revoked", "chen", "陈静")
    assert newest["payload"]["username"] == "zhang" and newest["intact"]
    assert "channel" in newest and newest["channel"] is None  # the engine called directly: not recorded
    kinds = [e["event_type"] for e in events]
    assert kinds[:4] == ["token_revoked", "token_created", "user_changed", "deployed"]
    assert "user_added" in kinds and "group_added" in kinds


def test_filtered_by_type_and_by_beijing_day_and_paged_without_overlap(engine, history):
    changed = _read(engine, kind="user_changed")["events"]
    assert [(e["payload"]["username"], e["payload"]["new"]) for e in changed] == [("li", {"display_name": "李娜娜"})]
    on_the_4th = _read(engine, since="2026-03-04", until="2026-03-04")["events"]
    assert [e["event_type"] for e in on_the_4th] == ["token_revoked", "token_created", "user_changed"]
    assert [e["event_type"] for e in _read(engine, since=date(2026, 3, 3), until="2026-03-03")["events"]] == ["deployed"]
    everything = [e["seq"] for e in _read(engine, limit=200)["events"]]
    pages, before = [], None
    while True:
        page = _read(engine, limit=3, before=before)
        pages += [e["seq"] for e in page["events"]]
        assert len(page["events"]) <= 3
        if page["next_before"] is None:
            break
        before = page["next_before"]
    assert pages == everything and len(everything) > 3


@pytest.mark.parametrize("given, said", [
    ({"kind": "task_created"}, "不认识的事件类型 task_created"),
    ({"since": "3月1日"}, "起始日期「3月1日」不是日期，请写成 2026-03-01"),
    ({"since": "2026-03-05", "until": "2026-03-01"}, "起始日期 2026-03-05 晚于截止日期 2026-03-01，请对调"),
    ({"limit": "500"}, "每页条数（limit）须为 1 到 200 之间的整数"),
])
def test_a_wrong_filter_is_refused_naming_it(given, said):
    with pytest.raises(Invalid, match=said):
        checked_filters(**given)


def test_the_command_line_lists_them_with_the_next_page_to_ask_for(engine, history):
    def run(*args, code=0):
        result = CliRunner().invoke(main, ["--db", engine.db.url, "audit", "events", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output + result.stderr
        return result
    lines = run("--type", "user_changed").stdout.splitlines()
    assert "陈静 (chen)  [未记录 (not recorded)]  修改用户" in lines[0]
    assert json.loads(lines[1].strip())["new"] == {"display_name": "李娜娜"}
    first = run("--limit", "2").stdout.splitlines()
    assert first[-1].startswith("更早的事件 (older events)：reformflow audit events --before ")
    assert json.loads(run("--limit", "2", "--json").stdout)["next_before"] is not None
    assert "不认识的事件类型" in run("--type", "nope", code=3).stderr


def test_the_auditors_page_linked_from_the_audit_page_filters_and_pages(demo_engine):
    feng = signed_in_client(demo_engine, "feng")
    assert "/audit/events" in feng.get("/audit").get_data(as_text=True)
    page = feng.get("/audit/events")
    assert page.status_code == 200
    text = page_text(page)
    assert "不属于方案的事件" in text and "事件号 时间 办理人 渠道 事件 记录的数据" in text
    assert "冯敏 feng 网页 登录" in text  # her own sign-in, just now, through the web
    html = feng.get("/audit/events?type=user_added&limit=5").get_data(as_text=True)
    rows = re.findall(r'<tr data-seq="(\d+)" data-type="(\w+)"', html)
    assert rows and {kind for _, kind in rows} == {"user_added"} and "添加用户" in page_text(feng.get("/audit/events?type=user_added"))
    assert len(rows) == 5 and 'rel="next"' in html  # the demo adds more users than that
    older = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "type=user_added" in older and "before=" in older
    second = re.findall(r'<tr data-seq="(\d+)" data-type="(\w+)"', feng.get(older).get_data(as_text=True))
    assert second and {kind for _, kind in second} == {"user_added"}
    assert int(second[0][0]) < int(rows[-1][0])  # older, none shown twice
    refused = feng.get("/audit/events?since=2026-13-01")
    assert refused.status_code == 400 and "起始日期「2026-13-01」不是日期" in page_text(refused)
    assert signed_in_client(demo_engine, "zhang").get("/audit/events").status_code == 403
    english = page_text(signed_in_client(demo_engine, "feng", language="en").get("/audit/events?type=signed_in"))
    assert "Events of no plan" in english and "web" in english and "signed in" in english


def _link(html: str, text: str) -> str:
    """The address of the page's link that says `text`."""
    return re.search(rf'<a href="([^"]+)"[^>]*>{text}</a>', html)[1].replace("&amp;", "&")


def test_the_newest_events_link_and_the_filter_keep_the_page_size_the_auditor_chose(demo_engine):
    feng = signed_in_client(demo_engine, "feng")
    first = feng.get("/audit/events?type=user_added&limit=5").get_data(as_text=True)
    second = feng.get(_link(first, "更早的事件")).get_data(as_text=True)
    newest = _link(second, "最新的事件")
    assert "limit=5" in newest and "type=user_added" in newest and "before=" not in newest
    again = feng.get(newest).get_data(as_text=True)
    assert re.findall(r'<tr data-seq="(\d+)"', again) == re.findall(r'<tr data-seq="(\d+)"', first)  # 5, not 50
    # filtering anew (another type, dates) keeps it too
    assert '<input type="hidden" name="limit" value="5">' in second


def test_the_api_answers_auditors_and_refuses_others(demo_engine):
    client = signed_in_client(demo_engine, "feng").application.test_client()
    feng = {"Authorization": f"Bearer {demo_engine.create_token('feng', 'audit script')['secret']}"}
    answer = client.get("/api/v1/audit/events?type=token_created&limit=5", headers=feng)
    assert answer.status_code == 200, answer.get_json()
    events = answer.get_json()["events"]
    assert events[0]["event_type"] == "token_created" and events[0]["payload"]["new"]["name"] == "audit script"
    # made by the engine called directly (no channel, as before schema 0025): said as not recorded
    assert (events[0]["channel"], events[0]["via"]) == (None, "未记录")
    zhang = {"Authorization": f"Bearer {demo_engine.create_token('zhang', 'mine')['secret']}"}
    refused = client.get("/api/v1/audit/events", headers=zhang)
    assert refused.status_code == 403 and refused.get_json()["message"].startswith("只有审计人员和改革办可以查阅")
    assert client.get("/api/v1/audit/events?colour=red", headers=feng).status_code == 422

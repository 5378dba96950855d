"""Every kind of event the engine records has its own English line, with the details the Chinese
one gives, and a plan's page in English shows it whole (the page once cut a line at its last
bracket and showed only `filing_overdue`, `SHA-256 …` or `calendar changed`)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import display
from engine.trail_text import said

from .web_helper import signed_in_client

ENGINE = Path(__file__).resolve().parent.parent / "engine"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def recorded_kinds() -> set[str]:
    """The event types engine/ can append to the trail: `record("kind", …)`, `record(CONSTANT, …)`
    with the constant's value, and `event = "kind"` passed to record."""
    kinds = set()
    for path in ENGINE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        kinds |= set(re.findall(r"\.record\(\s*\"([a-z_]+)\"", text))
        kinds |= set(re.findall(r"^\s*event = \"([a-z_]+)\"", text, re.M))
        for name in re.findall(r"\.record\(\s*(?:\w+\.)?([A-Z_]+)\b", text):
            for module in ENGINE.rglob("*.py"):
                found = re.search(rf"^(?:[A-Z_, ]*\b{name}\b[A-Z_, ]*) = (.+)$", module.read_text(encoding="utf-8"), re.M)
                if found:
                    names = [n.strip() for n in found.group(0).split("=")[0].split(",")]
                    values = re.findall(r"\"([a-z_]+)\"", found.group(1))
                    if len(names) == len(values):
                        kinds.add(values[names.index(name)])
    return kinds


# a payload of ASCII values for each kind: what is left Chinese in an English line is then the
# engine's own words
PAYLOAD = {"key": "reform_plan", "version": 3, "code": "late", "reason": "calendar", "note": "note",
           "username": "li", "display_name": "Li Na", "address": "127.0.0.1", "groups": ["legal"], "unit": "unit",
           "name": "OA", "file": "a.bpmn", "sha256": "ab" * 32, "day": "2027-01-01", "database": "db",
           "ok": True, "events": 10, "files": 2, "problems": 0, "head_hash": "cd" * 32, "mail_id": 4, "attempts": 2,
           "to": ["li"], "end_name": "End", "due_at": "2027-01-08",
           "old": {"due_at": "2027-01-04", "due": "2027-01-04T09:00:00", "working": True, "unit": "a"},
           "new": {"due_at": "2027-01-05", "due": "2027-01-05T09:00:00", "working": False, "unit": "b",
                   "file_name": "draft.docx", "sha256": "ef" * 32, "text": "ok", "name": "OA", "principal": "li",
                   "delegate": "zhou", "starts_on": "2027-01-04", "ends_on": "2027-01-08", "reason": "trip",
                   "fields": ["a"], "assignee": "li"}}


def test_the_engine_records_the_kinds_this_test_knows_of():
    kinds = recorded_kinds()
    assert {"task_created", "escalation", "document_attached", "task_due_changed", "calendar_changed",
            "delegation_created", "token_refused", "task_urged", "password_reset", "mail_retried"} <= kinds


@pytest.mark.parametrize("kind", sorted(recorded_kinds()))
def test_every_kind_has_an_english_line_of_its_own(kind):
    event = {"event_type": kind, "name": "step", "payload": PAYLOAD, "task_id": 1}
    en, zh = said(event, "en"), said(event, "zh")
    assert en != kind and en != zh, (kind, en)
    assert not CJK.search(en), (kind, en)
    # the details the Chinese gives (numbers, dates, names) are in the English too
    assert sorted(re.findall(r"[0-9][0-9-]*", zh)) == sorted(re.findall(r"[0-9][0-9-]*", en)), (kind, zh, en)


def test_a_due_date_moved_by_the_calendar_says_the_step_and_the_dates():
    event = {"event_type": "task_due_changed", "name": "明确责任分工", "payload": {
        "reason": "calendar", "old": {"due_at": "2027-01-04"}, "new": {"due_at": "2027-01-05"}}}
    old, new = display.deadline("2027-01-04"), display.deadline("2027-01-05")
    assert said(event, "zh") == f"期限变更 明确责任分工：{old} → {new}（节假日安排录入或撤销后重算）"
    assert said(event, "en") == f"due changed 明确责任分工: {old} → {new} (calendar changed)"


def test_the_plan_page_in_english_shows_each_line_whole(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    client.post("/language/en")
    ids = {}
    with demo_engine.db.reader() as s:
        from sqlalchemy import select

        from models import ProcessInstance
        ids = dict(s.execute(select(ProcessInstance.business_key, ProcessInstance.id)).all())
    filing = client.get(f"/plans/{ids['DT-2015-07']}").get_data(as_text=True)
    assert "escalation 逾期上报改革办 (on 报送备案) (filing_overdue)" in filing
    report = client.get(f"/plans/{ids['DT-2015-08-LS']}").get_data(as_text=True)
    assert "escalation 逾期未报上报改革办 (on 报送月度进展) (report_overdue)" in report
    attached = client.get(f"/plans/{ids['DT-2015-02']}").get_data(as_text=True)
    assert re.search(r"file attached 发布公开征求意见: \S+\.txt \(SHA-256 [0-9a-f]{16}…\)", attached)

"""Verifying the whole trail from the web, in the background (engine/audit_checks.py): who may start
one, one at a time, the progress written as it goes, the result on its row and on the trail, a
check whose worker died reported as cut off; on SQLite and PostgreSQL. The pages are in
tests/test_web_auditor.py."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine import audit_checks
from engine.audit import verify
from engine.errors import Forbidden, NotFound
from models import AuditCheck, AuditEvent

from .test_audit import tamper


@pytest.fixture
def trail(engine, people):
    """A trail of a few dozen events (the people added), and an auditor."""
    engine.add_group("auditor", "审计")
    engine.add_user("feng", "冯敏", groups=["auditor"])
    return engine


def _events(engine) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _last_event(engine) -> AuditEvent:
    with engine.db.reader() as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()


def test_a_check_verifies_the_trail_and_goes_on_it(trail):
    before = _events(trail)
    check = audit_checks.start(trail, "feng")
    assert check["started"] and check["state"] == "running" and check["requested_by"] == "feng"
    done = audit_checks.run(trail, check["id"], every=0)
    assert done["state"] == "finished" and done["finished_at"] is not None
    assert done["result"]["ok"] and done["result"]["events"] == before and done["result"]["problems"] == []
    assert (done["events_checked"], done["events_expected"]) == (before, before)  # the progress, to the end
    event = _last_event(trail)
    assert (event.seq, event.event_type, event.actor) == (before + 1, "audit_verified", "feng")
    assert json.loads(event.payload) == {"ok": True, "events": before, "head_hash": done["result"]["head_hash"],
                                         "files": 0, "problems": 0, "check_id": check["id"]}
    assert event.prev_hash == done["result"]["head_hash"]  # checked up to the event before its own record
    with trail.db.reader() as s:
        assert verify(s).ok  # recording it kept the chain intact
    assert audit_checks.latest(trail)["id"] == check["id"]


def test_a_changed_event_is_found_and_the_finding_recorded(trail):
    tamper(trail.db, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    check = audit_checks.start(trail, "chen")  # the reform office may check too
    done = audit_checks.run(trail, check["id"])
    assert not done["result"]["ok"]
    assert any(p.startswith("事件 3 ") for p in done["result"]["problems"])
    payload = json.loads(_last_event(trail).payload)
    assert payload["ok"] is False and payload["problems"] == len(done["result"]["problems"])


def test_only_auditors_and_the_office_start_a_check(trail):
    for who in ("zhang", "li"):
        with pytest.raises(Forbidden, match="只有审计人员和改革办可以校验审计记录"):
            audit_checks.start(trail, who)
    with pytest.raises(Forbidden, match="不存在或已停用"):
        audit_checks.start(trail, "nobody")
    with trail.db.reader() as s:
        assert s.execute(select(func.count()).select_from(AuditCheck)).scalar_one() == 0


def test_one_check_at_a_time_and_a_dead_one_is_cut_off(trail):
    first = audit_checks.start(trail, "feng")
    again = audit_checks.start(trail, "chen")  # pressed while the first runs: the first is shown
    assert (again["id"], again["started"], again["requested_by"]) == (first["id"], False, "feng")

    audit_checks.Progress(trail.db, first["id"]).events(1200, 5000)  # as the check writes it
    shown = audit_checks.status(trail, first["id"])
    assert (shown["state"], shown["events_checked"], shown["events_expected"]) == ("running", 1200, 5000)

    # its worker died: no sign of life for longer than STALE
    with trail.db.transaction() as s:
        row = s.get(AuditCheck, first["id"])
        row.updated_at -= audit_checks.STALE + timedelta(seconds=1)
    assert audit_checks.status(trail, first["id"])["state"] == "cut_off"
    second = audit_checks.start(trail, "chen")
    assert second["started"] and second["id"] != first["id"]
    assert audit_checks.latest(trail) is None  # neither has a result yet
    audit_checks.run(trail, second["id"])
    assert audit_checks.latest(trail)["id"] == second["id"]
    with pytest.raises(NotFound):
        audit_checks.status(trail, 999)


def test_progress_is_written_at_most_once_a_second(trail):
    check = audit_checks.start(trail, "feng")
    progress = audit_checks.Progress(trail.db, check["id"])
    progress.events(100, 1000)
    progress.events(200, 1000)  # within the second: kept, not written
    assert audit_checks.status(trail, check["id"])["events_checked"] == 100
    progress.write()  # the end of a phase writes what it has
    assert audit_checks.status(trail, check["id"])["events_checked"] == 200

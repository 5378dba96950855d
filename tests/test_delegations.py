"""委托办理: someone away names a colleague to act for them for a period. The rules of setting and
ending one, the window it is in force by the engine clock, what the delegate may then do (claim
what the principal could, complete, attach to, hand back and comment on what the principal holds)
and that every such event says for whom; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.audit import verify
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.queries import count_tasks, list_tasks
from models import AuditEvent

from .conftest import FIXTURES, read
from .plan_helper import audit_payloads

MONDAY = "2026-12-07T09:00:00"  # Beijing time


@pytest.fixture
def office(engine, people, at):
    """The small approval deployed; zhang (drafter, 市财政局) started a plan: its 起草 is his."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    with at(MONDAY):
        plan = engine.start("mini_approval", actor="zhang")
    return engine, plan


def _events(engine, event_type: str) -> list[dict]:
    with engine.db.reader() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.event_type == event_type)
                         .order_by(AuditEvent.seq)).scalars().all()
    return [{"actor": r.actor, **json.loads(r.payload)} for r in rows]


def _away(engine, principal="li", to="zhao", starts="2026-12-07", ends="2026-12-11", actor=None, reason="出差"):
    return engine.delegate(principal, to=to, starts_on=date.fromisoformat(starts), ends_on=date.fromisoformat(ends),
                           reason=reason, actor=actor or principal)


def _to_review(engine, plan, at):
    """zhang submits his draft: 审核 opens for legal and the reform office."""
    draft = plan["tasks"][0]
    with at(MONDAY):
        engine.complete(draft["id"], actor="zhang", data={"summary": "方案"})
    return engine.instance(plan["id"])["tasks"][0]


# ------------------------------------------------------------------ setting and ending
def test_a_person_sets_a_delegation_and_the_trail_says_who_for_whom_when_and_why(office, at):
    engine, _ = office
    with at(MONDAY):
        made = _away(engine)
    assert (made["principal"], made["delegate"], made["starts_on"], made["ends_on"], made["reason"], made["state"]) \
        == ("li", "zhao", "2026-12-07", "2026-12-11", "出差", "in_force")
    [event] = _events(engine, "delegation_created")
    assert event["actor"] == "li"
    assert event["new"] == {"id": made["id"], "principal": "li", "delegate": "zhao", "starts_on": "2026-12-07",
                            "ends_on": "2026-12-11", "reason": "出差"}
    with at(MONDAY):
        assert [d["id"] for d in engine.delegations("li")] == [made["id"]]  # given
        assert [d["id"] for d in engine.delegations("zhao")] == [made["id"]]  # received
        assert engine.delegations("zhang") == []
        assert [d["id"] for d in engine.delegations("chen", everyone=True)] == [made["id"]]


@pytest.mark.parametrize("change, refusal, says", [
    ({"to": "li"}, Invalid, "不能委托给自己"),
    ({"to": "nobody"}, Forbidden, "用户 nobody 不存在或已停用"),
    ({"principal": "nobody", "actor": "chen"}, Forbidden, "用户 nobody 不存在或已停用"),
    ({"ends": "2026-12-06"}, Invalid, "早于第一天"),
    ({"starts": "2026-12-01", "ends": "2026-12-06"}, Invalid, "已过"),
    ({"ends": "2027-03-07"}, Invalid, "最长 90 天"),
    ({"reason": "  "}, Invalid, "请填写委托事由"),
    ({"reason": "出差\u202e"}, Invalid, "不可见字符"),
    ({"actor": "zhang"}, Forbidden, "只有本人或改革办"),
])
def test_each_rule_refuses_with_what_to_do(office, at, change, refusal, says):
    engine, _ = office
    args = {"principal": "li", "to": "zhao", "starts": "2026-12-07", "ends": "2026-12-11", "actor": None,
            "reason": "出差"} | change
    with at(MONDAY), pytest.raises(refusal, match=says):
        _away(engine, **args)
    assert _events(engine, "delegation_created") == []


def test_the_office_sets_one_for_anyone_and_ninety_days_is_the_longest(office, at):
    engine, _ = office
    with at(MONDAY):
        made = _away(engine, starts="2026-12-07", ends="2027-03-06", actor="chen")  # 90 days, both included
    assert made["created_by"] == "chen"


def test_no_overlap_and_no_chains(office, at):
    engine, _ = office
    with at(MONDAY):
        _away(engine)  # li -> zhao, 7-11 Dec
        with pytest.raises(Conflict, match="已委托 zhao 办理"):
            _away(engine, to="sun", starts="2026-12-11", ends="2026-12-20")  # li again, overlapping
        with pytest.raises(Conflict, match="正受 li 委托代办，不能转委托"):
            _away(engine, principal="zhao", to="sun")  # zhao passing li's work on
        with pytest.raises(Conflict, match="本人也委托了 zhao"):
            _away(engine, principal="wu", to="li", starts="2026-12-10", ends="2026-12-12")  # li is away
        # not overlapping, or someone standing in for two: allowed
        _away(engine, to="sun", starts="2026-12-12", ends="2026-12-20")
        _away(engine, principal="wu", to="zhao")
        _away(engine, principal="zhao", to="sun", starts="2026-12-14", ends="2026-12-18")


def test_ending_by_principal_delegate_or_office_and_not_twice(office, at):
    engine, _ = office
    with at(MONDAY):
        first, second = _away(engine), _away(engine, principal="wu", to="sun")
        with pytest.raises(Forbidden, match="只有委托人、受托人或改革办"):
            engine.end_delegation(first["id"], actor="zhang")
        ended = engine.end_delegation(first["id"], actor="zhao")
        assert (ended["state"], ended["ended_by"]) == ("ended", "zhao")
        with pytest.raises(Conflict, match="已于 .* 由 zhao 结束"):
            engine.end_delegation(first["id"], actor="li")
        assert engine.end_delegation(second["id"], actor="chen")["ended_by"] == "chen"
        with pytest.raises(NotFound):
            engine.end_delegation(999, actor="chen")
        # once ended, li may name someone else for the same days
        _away(engine, to="sun")
    assert [(e["actor"], e["new"]["id"]) for e in _events(engine, "delegation_ended")] == [
        ("zhao", first["id"]), ("chen", second["id"])]


# ------------------------------------------------------------------ rights while in force
def test_the_delegate_sees_and_claims_what_the_principal_could_claim(office, at):
    engine, plan = office
    review = _to_review(engine, plan, at)
    with at(MONDAY):
        with pytest.raises(Forbidden, match="不是任务"):
            engine.claim(review["id"], actor="zhao")  # not yet: zhao is no reviewer
        _away(engine)
        with engine.db.reader() as s:
            [row] = list_tasks(s, "zhao", "claimable")
            assert (row["id"], row["on_behalf_of"]) == (review["id"], "li")
            assert count_tasks(s, "zhao") == {"mine": 0, "claimable": 1, "all": 1}
            assert list_tasks(s, "li", "claimable")[0]["on_behalf_of"] is None  # li's own right
        claimed = engine.claim(review["id"], actor="zhao")
    assert (claimed["assignee"], claimed["on_behalf_of"]) == ("zhao", "li")  # zhao does the work
    [event] = audit_payloads(engine, plan["id"], "task_claimed")
    assert (event["new"], event["on_behalf_of"]) == ({"assignee": "zhao"}, "li")
    with at(MONDAY), engine.db.reader() as s:
        assert [t["on_behalf_of"] for t in list_tasks(s, "zhao", "mine")] == [None]  # now his own


def test_a_step_the_delegate_claimed_for_the_principal_is_completed_for_them_on_the_record(office, at):
    """The step is zhao's to do, but by li's right: the completion says so, with li's unit, as
    the claim did (it had said zhao did it in his own right: a legality review filed as the work
    of the delegate's office)."""
    engine, plan = office
    review = _to_review(engine, plan, at)
    with at(MONDAY):
        _away(engine)
        engine.claim(review["id"], actor="zhao")
        done = engine.complete(review["id"], actor="zhao", data={"decision": "approve"})
    assert (done["completed_by"], done["on_behalf_of"]) == ("zhao", "li")
    [completed] = audit_payloads(engine, plan["id"], "task_completed")[-1:]
    li_unit = next(u["unit"] for u in engine.users() if u["username"] == "li")
    assert (completed["on_behalf_of"], completed["on_behalf_of_unit"]) == ("li", li_unit)


def test_the_delegate_completes_a_task_the_principal_holds_which_stays_theirs(office, at):
    engine, plan = office
    draft = plan["tasks"][0]
    with at(MONDAY):
        _away(engine, principal="zhang", to="zhao")
        with engine.db.reader() as s:
            [row] = list_tasks(s, "zhao", "mine")
        assert (row["id"], row["assignee"], row["on_behalf_of"]) == (draft["id"], "zhang", "zhang")
        engine.attach(draft["id"], "草稿.txt", "起草稿".encode(), actor="zhao")
        engine.comment(plan["id"], "张伟出差，由赵敏代为提交。", actor="zhao", task_id=draft["id"])
        done = engine.complete(draft["id"], actor="zhao", data={"summary": "方案"}, comment="代提交")
    assert (done["completed_by"], done["assignee"], done["on_behalf_of"]) == ("zhao", "zhang", "zhang")
    [completed] = audit_payloads(engine, plan["id"], "task_completed")
    assert completed["on_behalf_of"] == "zhang"
    assert completed["on_behalf_of_unit"] == next(u["unit"] for u in engine.users() if u["username"] == "zhang")
    assert [p.get("on_behalf_of") for p in audit_payloads(engine, plan["id"], "document_attached")] == ["zhang"]
    assert [p.get("on_behalf_of") for p in audit_payloads(engine, plan["id"], "comment_added")] == ["zhang", "zhang"]
    with engine.db.reader() as s:
        assert verify(s).ok


def test_the_delegate_hands_back_what_the_principal_claimed(office, at):
    engine, plan = office
    review = _to_review(engine, plan, at)
    with at(MONDAY):
        engine.claim(review["id"], actor="li")
        with pytest.raises(Forbidden, match="只有办理人 li 或改革办"):
            engine.unclaim(review["id"], actor="zhao")
        _away(engine)
        engine.unclaim(review["id"], actor="zhao")
    [event] = audit_payloads(engine, plan["id"], "task_unclaimed")
    assert (event["old"], event["on_behalf_of"]) == ({"assignee": "li"}, "li")


def test_someone_not_the_delegate_is_still_refused_and_the_principal_keeps_their_rights(office, at):
    engine, plan = office
    draft = plan["tasks"][0]
    with at(MONDAY):
        _away(engine, principal="zhang", to="zhao")
        with pytest.raises(Forbidden, match="的办理人是 zhang"):
            engine.complete(draft["id"], actor="sun", data={"summary": "方案"})
        with pytest.raises(Forbidden, match="只有办理人可以上传附件"):
            engine.attach(draft["id"], "a.txt", b"x", actor="sun")
        done = engine.complete(draft["id"], actor="zhang", data={"summary": "方案"})
    assert done["completed_by"] == "zhang" and "on_behalf_of" not in done
    assert "on_behalf_of" not in audit_payloads(engine, plan["id"], "task_completed")[0]


@pytest.mark.parametrize("moment, in_force", [
    ("2026-12-06T23:59:00", False),  # the evening before the first day
    ("2026-12-07T00:00:00", True),   # the first day, from midnight, Beijing time
    ("2026-12-11T23:59:00", True),   # the last day, to its end
    ("2026-12-12T00:00:00", False),  # the day after
])
def test_in_force_from_the_first_to_the_end_of_the_last_day_by_the_engine_clock(engine, people, at, moment, in_force):
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    with at("2026-12-04T09:00:00"):  # the Friday before: the step exists before each moment tried
        draft = engine.start("mini_approval", actor="zhang")["tasks"][0]
        _away(engine, principal="zhang", to="zhao")
    with at(moment):
        with engine.db.reader() as s:
            assert len(list_tasks(s, "zhao", "mine")) == (1 if in_force else 0)
        if in_force:
            engine.complete(draft["id"], actor="zhao", data={"summary": "方案"})
        else:
            with pytest.raises(Forbidden, match="的办理人是 zhang"):
                engine.complete(draft["id"], actor="zhao", data={"summary": "方案"})


def test_an_ended_delegation_takes_the_rights_away(office, at):
    engine, plan = office
    draft = plan["tasks"][0]
    with at(MONDAY):
        made = _away(engine, principal="zhang", to="zhao")
        engine.end_delegation(made["id"], actor="zhang")
        with engine.db.reader() as s:
            assert list_tasks(s, "zhao", "mine") == []
        with pytest.raises(Forbidden, match="的办理人是 zhang"):
            engine.complete(draft["id"], actor="zhao", data={"summary": "方案"})


def test_deactivating_either_person_ends_their_delegations_with_an_event(office, at):
    engine, plan = office
    with at(MONDAY):
        given = _away(engine, principal="zhang", to="zhao")
        received = _away(engine, principal="wu", to="zhang", starts="2026-12-14", ends="2026-12-18")
        other = _away(engine, principal="li", to="sun")
        result = engine.deactivate_user("zhang", actor="chen")
        assert result["delegations_ended"] == 2
        states = {d["id"]: d["state"] for d in engine.delegations("chen", user="zhang")}
        assert states == {given["id"]: "ended", received["id"]: "ended"}
        assert [d["id"] for d in engine.delegations("chen", everyone=True)] == [other["id"]]
        with engine.db.reader() as s:
            assert list_tasks(s, "zhao", "mine") == []
    ended = _events(engine, "delegation_ended")
    assert [(e["new"]["id"], e["reason"], e["actor"]) for e in ended] == [
        (given["id"], "user_deactivated", "chen"), (received["id"], "user_deactivated", "chen")]
    with engine.db.reader() as s:
        assert verify(s).ok


def test_only_the_office_lists_other_peoples_delegations(office, at):
    engine, _ = office
    with at(MONDAY):
        _away(engine)
        with pytest.raises(Forbidden, match="只有改革办可以查看他人的委托"):
            engine.delegations("zhang", user="li")
        with pytest.raises(Forbidden, match="只有改革办"):
            engine.delegations("zhang", everyone=True)
        assert len(engine.delegations("chen", user="li")) == 1


# ------------------------------------------------------------------ the command line
def test_reformflow_delegate_add_list_end_and_the_inbox_says_for_whom(office, at):
    from click.testing import CliRunner

    from engine.cli import main
    engine, plan = office
    draft = plan["tasks"][0]
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--db", str(engine.db.url), "--now", "2026-12-07T09:00", *args])
    added = run("delegate", "add", "zhang", "--to", "zhao", "--from", "2026-12-07", "--until", "2026-12-11",
                "--reason", "出差", "--as", "zhang", "--json")
    assert added.exit_code == 0, added.output
    made = json.loads(added.stdout)
    assert (made["principal"], made["delegate"], made["state"]) == ("zhang", "zhao", "in_force")
    listed = run("delegate", "list", "--as", "zhao")
    assert listed.exit_code == 0
    assert listed.stdout == f"{made['id']} zhang → zhao 2026-12-07 至 (to) 2026-12-11「出差」[生效中 in force]\n"
    inbox = run("tasks", "--as", "zhao", "--scope", "mine")
    assert f"待办 (task) {draft['id']}：起草" in inbox.stdout and "zhang（委托您代办 delegated to you）" in inbox.stdout
    assert json.loads(run("tasks", "--as", "zhao", "--json").stdout)["tasks"][0]["on_behalf_of"] == "zhang"
    done = run("complete", str(draft["id"]), "--as", "zhao", "--data", '{"summary": "方案"}')
    assert done.exit_code == 0, done.output
    assert "zhao 代 zhang (on behalf of)" in done.stdout  # who did it, for whom (it said "zhang 代 zhang")
    refused = run("delegate", "add", "zhang", "--to", "sun", "--from", "2026-12-08", "--until", "2026-12-09",
                  "--reason", "休假", "--as", "zhang")
    assert refused.exit_code != 0 and "已委托 zhao 办理" in refused.stderr
    not_theirs = run("delegate", "end", str(made["id"]), "--as", "sun")
    assert not_theirs.exit_code != 0 and "只有委托人、受托人或改革办" in not_theirs.stderr
    ended = run("delegate", "end", str(made["id"]), "--as", "chen")
    assert ended.exit_code == 0 and ended.stdout.startswith(f"已结束委托 {made['id']} (delegation ended)：zhang → zhao")
    assert "[已结束 ended]" in ended.stdout
    assert run("tasks", "--as", "zhao", "--scope", "mine").stdout == "（没有待办）(no tasks)\n"


# ------------------------------------------------------------------ the JSON API
def test_the_api_lists_the_principals_rows_with_on_behalf_of_and_ones_delegations(office, at):
    from web import create_app
    engine, plan = office
    with at(MONDAY):
        made = _away(engine, principal="zhang", to="zhao")
        client = create_app(engine=engine, secret_key="test", testing=True).test_client()
        zhao = {"Authorization": f"Bearer {engine.create_token('zhao', 'OA')['secret']}"}
        sun = {"Authorization": f"Bearer {engine.create_token('sun', 'OA')['secret']}"}
        rows = client.get("/api/v1/tasks?scope=mine", headers=zhao).get_json()["tasks"]
        assert [(t["id"], t["assignee"], t["on_behalf_of"]) for t in rows] == [(plan["tasks"][0]["id"], "zhang", "zhang")]
        assert [d["id"] for d in client.get("/api/v1/delegations", headers=zhao).get_json()["delegations"]] == [made["id"]]
        assert client.get("/api/v1/delegations", headers=sun).get_json()["delegations"] == []
        # the task's page is open to the delegate, and the complete is theirs to send
        draft = client.get(f"/api/v1/tasks/{plan['tasks'][0]['id']}", headers=zhao).get_json()
        done = client.post(f"/api/v1/tasks/{draft['id']}/complete", headers=zhao,
                           json={"data": {"summary": "方案"}, "version": draft["version"]})
        assert done.status_code == 200, done.get_json()
        assert client.get(f"/api/v1/tasks/{draft['id']}", headers=sun).status_code == 404
    assert audit_payloads(engine, plan["id"], "task_completed")[0]["on_behalf_of"] == "zhang"


# ------------------------------------------------------------------ with a deactivation under way
@pytest.mark.parametrize("database", ["sqlite_db", "postgres_db"])
@pytest.mark.parametrize("action", ["claim", "complete"])
def test_acting_for_someone_being_deactivated_waits_for_it_and_is_refused(request, monkeypatch, database, action):
    """legal0 is away, zhao acts for them; the office deactivates legal0 (which ends the delegation
    and hands legal0's review back to the legal group). zhao's claim or submit for legal0, begun
    while that transaction is about to commit, waits for it (the principal's row is share-locked
    before the task, as the actor's is) and then finds no delegation: refused, nothing done."""
    from engine import clock

    from .test_concurrency import _acting_while_deactivated, _legal_review_for_legal0
    db = request.getfixturevalue(database)
    engine, plan, legal = _legal_review_for_legal0(db)
    if action == "complete":
        engine.claim(legal["id"], actor="legal0")
    engine.delegate("legal0", to="zhao", starts_on=clock.today(), ends_on=clock.today(), reason="出差", actor="legal0")
    act = {"claim": lambda e: e.claim(legal["id"], actor="zhao"),
           "complete": lambda e: e.complete(legal["id"], actor="zhao", data={})}[action]
    acted, deactivated = _acting_while_deactivated(db, monkeypatch, "legal0", act)
    assert isinstance(acted, Forbidden) and "候选人" in str(acted), acted
    assert deactivated["delegations_ended"] == 1
    [task] = [t for t in engine.instance(plan["id"])["tasks"] if t["id"] == legal["id"]]
    assert (task["status"], task["assignee"]) == ("open", None)


def test_the_decision_archive_and_the_history_say_for_whom_a_step_was_completed(office, at):
    from engine import clock
    from engine.archive import decision_archive
    from engine.archive_export import rows
    from engine.history import plan_history
    from engine.trail_text import said
    engine, plan = office
    draft = plan["tasks"][0]
    with at(MONDAY):
        _away(engine, principal="zhang", to="zhao")
        engine.complete(draft["id"], actor="zhao", data={"summary": "方案"})
        with engine.db.reader() as s:
            archive = decision_archive(s, plan["id"], clock.now())
            history = plan_history(s, plan["id"])
    [record] = [r for section in archive["sections"] for r in section["records"]]
    assert (record["actor_name"], record["on_behalf_name"]) == ("赵敏", "张伟")
    assert [row[2] for row in rows(archive) if row[2]] == ["赵敏（代 张伟）"]
    [done] = [e for e in history["events"] if e["event_type"] == "task_completed"]
    assert (done["actor"], done["on_behalf_of"], done["on_behalf_name"]) == ("zhao", "zhang", "张伟")
    assert said(done, "zh").startswith("提交 起草")

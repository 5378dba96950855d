"""The API's event feed (GET /api/v1/events) reads the caller's plans first and then only their
events: at 1M audit events a poll by someone who sees few plans or none walked the whole trail
(scale audit of 6 December 2026, finding 3: 0.6-1.8 s a call, returning nothing). What each person
gets must stay what they may see (engine/visibility.py), page after page."""
from __future__ import annotations

from sqlalchemy import event, select

from engine.history import events_after
from engine.visibility import visible_plans
from models import AuditEvent, ProcessInstance
from web import create_app
from web.auth import Person

from .conftest import add_people
from .plan_helper import deploy_library


def _feed(client, secret: str, limit: int) -> list[dict]:
    """Every event of the feed, page after page of `limit` with `next_after`."""
    events, after = [], 0
    while True:
        page = client.get(f"/api/v1/events?after={after}&limit={limit}",
                          headers={"Authorization": f"Bearer {secret}"}).get_json()
        assert len(page["events"]) <= limit
        events += page["events"]
        if not page["more"]:
            return events
        after = page["next_after"]


def test_each_person_follows_through_the_feed_exactly_the_events_of_the_plans_they_may_see(engine):
    deploy_library(engine)
    add_people(engine)  # zhang and wang: drafters of 市财政局; chen: the office; li: legal, no unit
    engine.add_user("qian_x", "钱进", groups=["drafter"], unit="市国资委")  # `_`: a LIKE wildcard
    engine.add_user("xu", "徐立", groups=["drafter"], unit="市国资委")
    engine.add_user("qianax", "钱安", groups=["drafter"], unit="市教育局")  # what `qian_x` would match unescaped
    engine.add_group("auditor", "审计")
    engine.add_user("feng", "冯审", groups=["auditor"], unit="市审计局")
    keys = {}
    for key, actor, unit in (("A", "chen", " 市国资委 "), ("B", "zhang", "市财政局"), ("C", "wang", None),
                             ("D", "chen", None), ("E", "zhang", "市财政局")):
        engine.signed_in(actor, address="127.0.0.1")  # events of no plan between the plans'
        plan = engine.start("reform_plan", actor=actor, business_key=key, data={"leadUnit": unit} if unit else {})
        keys[plan["id"]] = key
    # held and taken away again: only the trail remembers that qian_x held B's first step
    first = engine.instance(next(i for i, k in keys.items() if k == "B"))["tasks"][0]
    engine.assign(first["id"], to="qian_x", actor="chen", reassign=True)
    engine.comment(first["instance_id"], "请钱进先看", actor="chen")
    engine.assign(first["id"], to="zhang", actor="chen", reassign=True)
    engine.signed_in("li", address="127.0.0.1")

    app = create_app(engine=engine, secret_key="test", testing=True)
    client = app.test_client()
    people = {"chen": (["reform_office"], "市委改革办"), "feng": (["auditor"], "市审计局"),
              "zhang": (["drafter"], "市财政局"), "wang": (["drafter"], "市财政局"),
              "qian_x": (["drafter"], "市国资委"), "xu": (["drafter"], "市国资委"),
              "qianax": (["drafter"], "市教育局"), "li": (["legal"], None), "lin": (["party_office"], None)}
    seen = {}
    for name, (groups, unit) in people.items():
        secret = engine.create_token(name, "OA")["secret"]
        with engine.db.reader() as s:  # the feed's old query: the trail walked with the visibility joined
            expected = s.execute(select(AuditEvent.seq).join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
                                 .where(visible_plans(Person(name, name, groups, unit))).order_by(AuditEvent.seq)).scalars().all()
        for limit in (1, 3, 200):
            events = _feed(client, secret, limit)
            assert [e["seq"] for e in events] == expected, (name, limit)
        seen[name] = sorted({keys[e["instance_id"]] for e in events})
    assert seen["chen"] == seen["feng"] == ["A", "B", "C", "D", "E"]
    assert seen["zhang"] == seen["wang"] == ["B", "C", "D", "E"]
    assert seen["qian_x"] == ["A", "B", "D"]  # B: held once, then reassigned
    assert seen["xu"] == ["A", "D"] and seen["qianax"] == ["D"]
    assert seen["li"] == seen["lin"] == []


def test_someone_who_sees_no_plan_is_answered_without_reading_the_trail(engine, people):
    """lin (常委会议) holds no plan: the feed answers empty from the list of their plans alone, not
    by walking every event of the trail against it."""
    for _ in range(3):
        engine.signed_in("chen", address="127.0.0.1")
    read = []

    def note(conn, cursor, statement, parameters, context, executemany):
        read.append(statement)
    event.listen(engine.db.read_engine, "before_cursor_execute", note)
    try:
        with engine.db.reader() as s:
            feed = events_after(s, Person("lin", "林涛", ["party_office"], None), 0, 50)
    finally:
        event.remove(engine.db.read_engine, "before_cursor_execute", note)
    assert feed == {"after": 0, "next_after": 0, "more": False, "events": []}
    assert not [q for q in read if q.lstrip().startswith("SELECT audit_events.seq")], read

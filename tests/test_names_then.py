"""QA auditor finding 13: after a rename or a move to another unit, the trail showed old events as
done by the new name in the new unit. Now each event names the person as they were then, with
today's name or unit beside it where it differs (张伟（现名 张维）), in the history, the plan page,
the decision archive and the audit CSV; what they did after the change shows the new name alone."""
from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from engine import audit, clock, names_then
from engine.archive import decision_archive
from engine.archive_export import unit_text, who_text
from engine.cli import main
from engine.history import plan_history

from .conftest import FIXTURES, read
from .web_helper import page_text, signed_in_client

PASSWORD = "names-then-Pw-2026"


def _renamed_after_drafting(engine) -> int:
    """张伟 of 市财政局 starts and drafts a plan; then the office renames him 张维 and moves him to
    市发改委; then he comments on it."""
    engine.deploy([read(FIXTURES / "diagrams" / "mini_approval.bpmn")])
    plan = engine.start("mini_approval", actor="zhang", title="改名前的方案")
    engine.complete(plan["tasks"][0]["id"], actor="zhang", data={"summary": "初稿", "days": 10})
    engine.update_user("zhang", actor="chen", display_name="张维", unit="市发改委")
    engine.comment(plan["id"], "改名后的留言", actor="zhang")
    return plan["id"]


def test_the_trail_names_each_event_as_it_was_and_today_beside_it(engine, people):
    plan_id = _renamed_after_drafting(engine)
    with engine.db.reader() as s:
        events = plan_history(s, plan_id)["events"]
    started = next(e for e in events if e["event_type"] == "instance_started")
    assert (started["actor_name"], started["actor_name_now"]) == ("张伟", "张维")
    assert (started["actor_unit"], started["actor_unit_now"]) == ("市财政局", "市发改委")
    commented = next(e for e in events if e["event_type"] == "comment_added")
    assert commented["actor_name"] == "张维" and "actor_name_now" not in commented and "actor_unit_now" not in commented
    # the reform office member who renamed him was never renamed: her name alone
    lines = CliRunner().invoke(main, ["--db", engine.db.url, "history", str(plan_id)]).stdout.splitlines()
    assert any(line.startswith("  ") and "  张伟（现名 张维） (zhang)  " in line and "发起方案" in line for line in lines)
    assert any("  张维 (zhang)  " in line and "留言" in line for line in lines)


def test_the_archive_files_the_name_and_unit_of_the_day_with_todays(engine, people, tmp_path):
    plan_id = _renamed_after_drafting(engine)
    with engine.db.reader() as s:
        archive = decision_archive(s, plan_id, clock.now())
    [record] = [r for section in archive["sections"] for r in section["records"] if r["actor"] == "zhang"]
    assert (record["actor_name"], record["actor_unit"]) == ("张伟", "市财政局")
    assert who_text(record) == "张伟（现名 张维）"
    assert unit_text(record) == "市财政局（现属 市发改委）"
    lines = CliRunner().invoke(main, ["--db", engine.db.url, "archive", str(plan_id)]).stdout
    assert "张伟（现名 张维）（zhang，市财政局（现属 市发改委））" in lines


def test_the_plan_page_and_the_audit_csv_say_both(engine, people):
    plan_id = _renamed_after_drafting(engine)
    engine.set_password("zhang", PASSWORD, actor="zhang", first=True)
    page = page_text(signed_in_client(engine, "zhang", PASSWORD).get(f"/plans/{plan_id}"))
    assert "张伟（现名 张维） ［未记录］ 发起方案" in page
    assert "张维 ［未记录］ 留言" in page
    english = page_text(signed_in_client(engine, "zhang", PASSWORD, language="en").get(f"/plans/{plan_id}"))
    assert "张伟 (now 张维)" in english
    out = io.StringIO()
    with engine.db.reader() as s:
        audit.export(s, out, "csv", plan_id)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    name_column = rows[0].index("办理人姓名 (actor's name)")
    by_type = {(r[rows[0].index("事件类型代码 (event_type)")], r[name_column]) for r in rows[1:]}
    assert ("instance_started", "张伟（现名 张维）") in by_type and ("comment_added", "张维") in by_type
    # nothing hashed changed: the names said are read from the trail's own user events
    with engine.db.reader() as s:
        assert audit.verify(s).ok


def test_someone_added_before_the_trail_began_is_named_from_the_change_itself():
    """No user_added for them: their first change's `old` says what they were before it; a field
    no event tells (the unit here) is today's."""
    class Changes:  # the one SELECT load makes, answered
        @staticmethod
        def execute(_statement):
            return [(5, "user_changed", json.dumps({"username": "qian", "old": {"display_name": "钱进"},
                                                    "new": {"display_name": "钱晋"}})),
                    (7, "user_changed", json.dumps({"username": "qian", "old": {"email": None},
                                                    "new": {"email": "q@example.cn"}}))]
    found = names_then.load(Changes(), {"qian": "钱晋"}, {"qian": "市审计局"})
    assert found.at("qian", 3) == ("钱进", "市审计局")
    assert found.at("qian", 5) == ("钱进", "市审计局")  # the rename itself is written by the office
    assert found.at("qian", 9) == ("钱晋", "市审计局")
    assert found.differs("qian", 3) == {"name": "钱进", "unit": "市审计局", "name_now": "钱晋"}
    assert found.at("nobody", 3) == (None, None)

"""催办: the reform office presses a step's holder (engine/urging.py). Who may, on which steps, what
the trail keeps and says, that a reload adds nothing twice, and the note's limits; on SQLite and
PostgreSQL, through the engine and on the command line. The pages are in tests/test_web_urging.py."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine import urging
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid
from engine.history import plan_history
from engine.trail_text import said

from .plan_helper import audit_payloads
from .test_comments import _drafting  # a plan whose 起草方案 the drafter zhang holds


def _urged_lines(library, plan_id: int, language: str) -> list[str]:
    with library.db.reader() as s:
        events = plan_history(s, plan_id)["events"]
    return [said(e, language) for e in events if e["event_type"] == urging.EVENT]


def test_the_office_urges_the_holder_and_the_trail_keeps_it(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-10T09:00:00"):
        done = urging.urge(library, task["id"], actor="chen", note="  请于本周五前报送初稿。 ")
    assert (done["note"], done["assignee"], done["repeated"]) == ("请于本周五前报送初稿。", "zhang", False)
    [payload] = audit_payloads(library, plan.id, urging.EVENT)
    assert payload == {"element_id": "Task_DraftPlan", "name": "起草方案", "note": "请于本周五前报送初稿。",
                       "assignee": "zhang", "due_at": task["due_at"]}
    assert _urged_lines(library, plan.id, "zh") == ["催办 起草方案（办理人 zhang）：请于本周五前报送初稿。"]
    assert _urged_lines(library, plan.id, "en") == ["urged 起草方案 (held by zhang): 请于本周五前报送初稿。"]
    # the step itself is as it was: same holder, same deadline, same version
    after = library.task_view(task["id"])
    assert (after["assignee"], after["due_at"], after["version"]) == ("zhang", task["due_at"], task["version"])
    with library.db.reader() as s:
        assert urging.urged(s, [task["id"], task["id"] + 999]) == {
            task["id"]: {"count": 1, "last_at": done["occurred_at"]}}
        assert [u["note"] for u in urging.urges(s, task["id"])] == ["请于本周五前报送初稿。"]
    assert plan.audit_ok()


def test_a_reload_adds_nothing_twice_a_new_note_or_a_later_urge_does(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-10T09:00:00"):
        urging.urge(library, task["id"], actor="chen", note="请抓紧。")
    with at("2026-03-10T09:00:30"):
        again = urging.urge(library, task["id"], actor="chen", note="请抓紧。")  # the page sent again
        other = urging.urge(library, task["id"], actor="chen", note="请今天办结。")
    with at("2026-03-10T09:05:00"):
        later = urging.urge(library, task["id"], actor="chen", note="请抓紧。")
    assert (again["repeated"], other["repeated"], later["repeated"]) == (True, False, False)
    assert [p["note"] for p in audit_payloads(library, plan.id, urging.EVENT)] == ["请抓紧。", "请今天办结。", "请抓紧。"]
    with library.db.reader() as s:
        assert urging.urged(s, [task["id"]])[task["id"]]["count"] == 3


def test_only_the_office_urges_and_only_open_steps(library, at):
    plan, task = _drafting(library, at)
    for who in ("zhang", "li"):
        with pytest.raises(Forbidden, match="只有改革办可以催办"):
            urging.urge(library, task["id"], actor=who)
    plan.do("Task_DraftPlan")
    with pytest.raises(Conflict, match="无需催办"):
        urging.urge(library, task["id"], actor="chen")
    assert audit_payloads(library, plan.id, urging.EVENT) == []


@pytest.mark.parametrize("note, says", [
    ("x" * (urging.MAX_CHARS + 1), f"催办说明最多 {urging.MAX_CHARS} 个字"),
    ("请\u202e办理", "控制字符或不可见字符"),
])
def test_a_note_too_long_or_with_hidden_characters_is_refused(library, at, note, says):
    plan, task = _drafting(library, at)
    with pytest.raises(Invalid, match=says):
        urging.urge(library, task["id"], actor="chen", note=note)
    assert audit_payloads(library, plan.id, urging.EVENT) == []


def test_an_empty_note_says_the_usual(library, at):
    plan, task = _drafting(library, at)
    assert urging.urge(library, task["id"], actor="chen", note="  ")["note"] == urging.DEFAULT_NOTE


def test_reformflow_urge_on_the_command_line(library, at):
    plan, task = _drafting(library, at)
    runner = CliRunner()
    url = str(library.db.url)
    first = runner.invoke(main, ["--db", url, "urge", str(task["id"]), "--as", "chen", "--note", "请周五前报送"])
    assert first.exit_code == 0 and first.stdout == f"已催办任务 {task['id']} (urged)：请周五前报送\n"
    again = runner.invoke(main, ["--db", url, "urge", str(task["id"]), "--as", "chen", "--note", "请周五前报送", "--json"])
    assert json.loads(again.stdout)["repeated"] is True
    refused = runner.invoke(main, ["--db", url, "urge", str(task["id"]), "--as", "zhang"])
    assert refused.exit_code != 0 and "只有改革办可以催办" in refused.stderr


def test_the_office_urges_the_picked_steps_at_once_and_a_step_done_meanwhile_is_said(library, at):
    """催办所选: the office's month-end round: three plans' drafting steps ticked on its list; one
    was submitted after the list was shown. The other two are urged, in one transaction, and the
    third is named as done, not a reason to urge none."""
    first, one = _drafting(library, at)
    second, two = _drafting(library, at)
    third, three = _drafting(library, at)
    with at("2026-03-10T08:00:00"):
        third.do("Task_DraftPlan")  # submitted after the office's list was shown
    with at("2026-03-10T09:00:00"):
        done = urging.urge_many(library, [two["id"], one["id"], three["id"], one["id"]], actor="chen",
                                note="月底前请报送初稿。")
    assert [u["task_id"] for u in done["urged"]] == [two["id"], one["id"]]  # as picked, each once
    assert done["skipped"] == [{"task_id": three["id"], "name": "起草方案", "reason": "completed"}]
    for plan in (first, second):
        assert [p["note"] for p in audit_payloads(library, plan.id, urging.EVENT)] == ["月底前请报送初稿。"]
        assert plan.audit_ok()
    assert audit_payloads(library, third.id, urging.EVENT) == []
    # the same round sent again (a reload): nothing twice
    with at("2026-03-10T09:00:30"):
        again = urging.urge_many(library, [one["id"], two["id"]], actor="chen", note="月底前请报送初稿。")
    assert [u["repeated"] for u in again["urged"]] == [True, True]
    assert len(audit_payloads(library, first.id, urging.EVENT)) == 1


def test_only_the_office_urges_many_and_a_choice_is_needed_within_bounds(library, at):
    plan, task = _drafting(library, at)
    with pytest.raises(Forbidden, match="只有改革办可以催办"):
        urging.urge_many(library, [task["id"]], actor="zhang", note="x")
    with pytest.raises(Invalid, match="请先选择要催办的待办"):
        urging.urge_many(library, [], actor="chen")
    with pytest.raises(Invalid, match="一次最多催办 200 项"):
        urging.urge_many(library, list(range(1, 202)), actor="chen")
    with pytest.raises(Invalid, match="最多 200 个字"):  # the note's own limit, as for one step
        urging.urge_many(library, [task["id"]], actor="chen", note="催" * 201)
    gone = urging.urge_many(library, [task["id"], 999_999], actor="chen")
    assert gone["skipped"] == [{"task_id": 999_999, "name": None, "reason": "not_found"}]
    assert [u["note"] for u in gone["urged"]] == ["请抓紧办理。"]
    assert len(audit_payloads(library, plan.id, urging.EVENT)) == 1

"""Comments on a plan (批注/留言): a reviewer asks the drafter for something, or leaves a note for
the next reviewer, without completing a step. Who may comment and when, what is refused, that
every comment stays (append-only) and is in the hash-chained trail; on SQLite and PostgreSQL,
through the engine and on the command line."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine import comments
from engine.audit import verify
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.history import plan_history
from engine.trail_text import said

from .plan_helper import Plan, audit_payloads
from .test_audit import tamper

ASK = "请补充社会稳定风险评估材料。"


def _drafting(library, at):
    """A plan whose 起草方案 task the drafter zhang (市财政局) holds."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_DraftPlan")
    return plan, plan.task("Task_DraftPlan")


def _said(library, plan_id: int, language: str) -> list[str]:
    with library.db.reader() as s:
        events = plan_history(s, plan_id)["events"]
    return [said(e, language) for e in events if e["event_type"] == comments.EVENT]


def test_the_office_asks_the_drafter_who_answers_on_the_step_and_the_trail_keeps_both(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        asked = library.comment(plan.id, f"  {ASK}\r\n谢谢。  ", actor="chen")
    with at("2026-03-02T11:00:00"):
        answered = library.comment(plan.id, "已补充，见附件。", actor="zhang", task_id=task["id"])
    # kept trimmed, line breaks made plain, with who, their unit and when
    assert (asked["text"], asked["author"], asked["author_name"], asked["task_id"]) == (f"{ASK}\n谢谢。", "chen", "陈静", None)
    assert (answered["unit"], answered["task_id"], answered["task_name"]) == ("市财政局", task["id"], "起草方案")
    listed = library.comments(plan.id)
    assert [(c["id"], c["author_name"], c["text"]) for c in listed] == [
        (asked["id"], "陈静", f"{ASK}\n谢谢。"), (answered["id"], "张伟", "已补充，见附件。")]
    assert listed[1]["created_at"].startswith("2026-03-02T03:00:00")  # 11:00 in Beijing
    # a comment completes nothing: the step is still zhang's, at the version he loaded
    assert library.task_view(task["id"])["version"] == task["version"]
    assert plan.task("Task_DraftPlan")["status"] == "claimed"
    # in the hash-chained trail, text and all, and in the plan's trail as people read it
    assert [p["new"] for p in audit_payloads(library, plan.id, comments.EVENT)] == [
        {"id": asked["id"], "text": f"{ASK}\n谢谢。"}, {"id": answered["id"], "text": "已补充，见附件。"}]
    assert plan.audit_ok()
    assert _said(library, plan.id, "zh") == [f"留言：{ASK}\n谢谢。", "留言（市财政局）（关于 起草方案）：已补充，见附件。"]
    assert _said(library, plan.id, "en")[1] == "comment (市财政局) (on 起草方案): 已补充，见附件。"


@pytest.mark.parametrize("words, says", [
    ("", "留言内容不能为空"),
    (" \n\t ", "留言内容不能为空"),
    ("x" * (comments.MAX_CHARS + 1), f"留言最多 {comments.MAX_CHARS} 个字，现有 {comments.MAX_CHARS + 1} 个"),
    ("请补充\x1b[2J材料", "控制字符或不可见字符（U+001B"),
    ("请补充\u202e材料", "控制字符或不可见字符（U+202E"),
])
def test_an_empty_overlong_or_hidden_text_is_refused_and_nothing_is_kept(library, at, words, says):
    plan, _ = _drafting(library, at)
    with pytest.raises(Invalid, match=re.escape(says)):
        library.comment(plan.id, words, actor="chen")
    assert library.comments(plan.id) == [] and audit_payloads(library, plan.id, comments.EVENT) == []


def test_only_who_may_see_the_plan_comments_and_only_on_its_own_tasks(library, at):
    plan, task = _drafting(library, at)
    other, _ = _drafting(library, at)
    with pytest.raises(Forbidden, match=f"您无权查看方案 {plan.id}，不能留言"):
        library.comment(plan.id, ASK, actor="li")  # legal affairs: nothing to do with it yet
    with pytest.raises(NotFound, match=f"方案 {other.id} 没有任务 {task['id']}"):
        library.comment(other.id, ASK, actor="zhang", task_id=task["id"])
    with pytest.raises(NotFound):
        library.comment(99999, ASK, actor="chen")
    with pytest.raises(NotFound):
        library.comments(99999)
    with pytest.raises(Forbidden, match="用户 nobody 不存在或已停用"):
        library.comment(plan.id, ASK, actor="nobody")
    assert library.comments(plan.id) == [] and library.comments(other.id) == []
    # the wider circle the web shows the plan to: the drafting unit's colleague, the reform office
    library.comment(plan.id, "同意。", actor="wang")
    assert [c["author"] for c in library.comments(plan.id)] == ["wang"]


def test_a_stopped_plan_takes_comments_from_the_reform_office_only(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-03T09:00:00"):
        library.cancel_plan(plan.id, reason="重复发起", actor="chen")
    with pytest.raises(Conflict, match=f"方案 {plan.id} 已终止，不能再留言；如需补充说明，请联系改革办"):
        library.comment(plan.id, ASK, actor="zhang", task_id=task["id"])
    noted = library.comment(plan.id, "已与 DT-2015-02 合并办理。", actor="chen")
    assert [c["id"] for c in library.comments(plan.id)] == [noted["id"]]


def test_comments_cannot_be_changed_or_removed_through_the_database(library, at):
    plan, _ = _drafting(library, at)
    noted = library.comment(plan.id, ASK, actor="chen")
    for sql in ("UPDATE comments SET text = 'x' WHERE id = :id", "DELETE FROM comments WHERE id = :id"):
        with pytest.raises(DatabaseError, match="comments is append-only"):
            with library.db.engine.begin() as conn:
                conn.execute(text(sql), {"id": noted["id"]})
    assert [c["text"] for c in library.comments(plan.id)] == [ASK]


def test_audit_verify_catches_a_comment_changed_removed_or_added_behind_the_trigger(library, at):
    plan, _ = _drafting(library, at)
    first = library.comment(plan.id, ASK, actor="chen")
    second = library.comment(plan.id, "同意。", actor="wang")
    assert plan.audit_ok()
    tamper(library.db, "UPDATE comments SET text = '无需补充。' WHERE id = :id",
           "DELETE FROM comments WHERE id = :other", table="comments", id=first["id"], other=second["id"])
    tamper(library.db, "INSERT INTO comments (id, instance_id, author, text, created_at) "
           "VALUES (99, :plan, 'chen', '已同意。', '2026-03-02 02:00:00')", table="comments", plan=plan.id)
    with library.db.reader() as s:
        problems = verify(s).problems
    assert [p.split(" (")[0] for p in problems] == [
        f"留言 {first['id']} 与审计事件 {audit_seq(library, first['id'])} 登记的内容不符，已被改动",
        "留言 99 没有审计记录，是绕过系统添加的",
        f"审计事件 {audit_seq(library, second['id'])} 登记的留言 {second['id']} 已不存在，被删除"]


def audit_seq(library, comment_id: int) -> int:
    """The seq of the comment's `comment_added` event."""
    from sqlalchemy import select

    from models import AuditEvent
    with library.db.reader() as s:
        rows = s.execute(select(AuditEvent.seq, AuditEvent.payload).where(AuditEvent.event_type == comments.EVENT)).all()
    return next(seq for seq, payload in rows if json.loads(payload)["new"]["id"] == comment_id)


def test_a_comment_sent_with_a_submission_is_kept_only_if_the_submission_is(library, at):
    plan, task = _drafting(library, at)
    with pytest.raises(Invalid):  # the form refused (the summary is required): no comment either
        library.complete(task["id"], actor="zhang", data={}, comment="已按要求起草。")
    with pytest.raises(Invalid, match="留言最多"):  # the comment refused: nothing submitted
        library.complete(task["id"], actor="zhang", data={"draftSummary": "摘要"}, comment="x" * 3000)
    assert library.comments(plan.id) == [] and plan.task("Task_DraftPlan")["status"] == "claimed"
    with at("2026-03-02T10:00:00"):
        done = library.complete(task["id"], actor="zhang", data={"draftSummary": "摘要"}, comment="已按要求起草。")
    assert done["status"] == "completed" and done["comment"]["task_id"] == task["id"]
    assert [(c["author"], c["task_name"], c["text"]) for c in library.comments(plan.id)] == [
        ("zhang", "起草方案", "已按要求起草。")]
    # said before the submission in the trail, in the same transaction
    with library.db.reader() as s:
        kinds = [e["event_type"] for e in plan_history(s, plan.id)["events"]]
    assert kinds[kinds.index(comments.EVENT) + 1] == "task_completed"
    assert plan.audit_ok()


def _cli(library, *args):
    return CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-02T10:00:00", *args])


def test_comment_and_list_comments_on_the_command_line(library, at):
    plan, task = _drafting(library, at)
    added = _cli(library, "comment", str(plan.id), "--as", "chen", ASK)
    assert added.exit_code == 0, added.output
    assert "留言 (comment) 1：陈静 (chen) 于 2026-03-02 10:00" in added.stdout and ASK in added.stdout
    as_json = _cli(library, "comment", str(plan.id), "--as", "zhang", "--task", str(task["id"]), "已补充。", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert {k: json.loads(as_json.stdout)[k] for k in ("id", "author", "unit", "task_id", "text")} == {
        "id": 2, "author": "zhang", "unit": "市财政局", "task_id": task["id"], "text": "已补充。"}

    listed = _cli(library, "comments", str(plan.id))
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "  留言 (comment) 1：陈静 (chen) 于 2026-03-02 10:00", f"    {ASK}",
        f"  留言 (comment) 2：张伟 (zhang)，市财政局 于 2026-03-02 10:00 关于待办 (on task) {task['id']} 起草方案",
        "    已补充。"]
    assert [c["text"] for c in json.loads(_cli(library, "comments", str(plan.id), "--json").stdout)] == [ASK, "已补充。"]
    assert f"留言 (comment)：{ASK}" in _cli(library, "history", str(plan.id)).stdout

    refused = _cli(library, "comment", str(plan.id), "--as", "li", ASK)
    assert refused.exit_code == 4 and "不能留言" in refused.stderr and len(refused.stderr.splitlines()) == 1
    empty = _cli(library, "comment", str(plan.id), "--as", "chen", "  ", "--json")
    assert empty.exit_code == 3 and json.loads(empty.stdout)["error"] == "invalid"
    assert _cli(library, "comments", "99999").exit_code == 5
    assert "此方案没有留言" in _cli(library, "comments", str(_drafting(library, at)[0].id)).stdout


def test_the_same_comment_sent_again_from_the_same_page_is_kept_once(library, at):
    """A reload of the page's POST or a double click sends the comment again with the newest comment
    id the page showed (`after`): comments can never be deleted, so the copy must not be added."""
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        earlier = library.comment(plan.id, "先看一下。", actor="chen")
        first = library.comment(plan.id, ASK, actor="zhang", task_id=task["id"], after=earlier["id"])
        again = library.comment(plan.id, ASK, actor="zhang", task_id=task["id"], after=earlier["id"])
    assert again == {**first, "repeated": True} and "repeated" not in first
    assert [c["id"] for c in library.comments(plan.id)] == [earlier["id"], first["id"]]
    assert len(audit_payloads(library, plan.id, comments.EVENT)) == 2
    # what a page that already showed the first comment sends is a new comment, meant twice;
    # so is another person's same text, and the same text about the plan rather than the step
    with at("2026-03-02T10:05:00"):
        meant = library.comment(plan.id, ASK, actor="zhang", task_id=task["id"], after=first["id"])
        others = library.comment(plan.id, ASK, actor="chen", after=earlier["id"])
        plan_wide = library.comment(plan.id, ASK, actor="zhang", after=earlier["id"])
    assert not any(c.get("repeated") for c in (meant, others, plan_wide))
    assert len(library.comments(plan.id)) == 5
    assert plan.audit_ok()

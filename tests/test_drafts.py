"""暂存 (engine/drafts.py): a reviewer writing a long legality opinion saves it without submitting,
closes the browser and finds it again the next day; only the holder saves, only their own draft
comes back, the submission removes it, and the trail says a draft was saved without its words;
on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import drafts
from engine.errors import Conflict, Forbidden, Invalid
from models import TaskDraft

from .plan_helper import Plan, audit_payloads

OPINION = "经审查，方案第三条关于收费的规定缺乏上位法依据，" * 40  # ~1,000 characters, typed over two days


def _reviewing(library, at):
    """A plan at its legality review, claimed by li (法制机构)."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_LegalityReview")
        review = plan.task("Task_LegalityReview")
        library.claim(review["id"], actor="li")
    return plan, plan.task("Task_LegalityReview")


def test_the_holder_saves_a_draft_and_finds_it_again_then_submitting_removes_it(library, at):
    plan, review = _reviewing(library, at)
    with at("2026-03-02T17:55:00"):
        saved = library.save_draft(review["id"], {"legalityResult": "pass_with_changes", "legalityOpinion": OPINION},
                                   actor="li", comment="请起草人补充收费依据")
    assert saved["saved_at"] == "2026-03-02T09:55:00+00:00"
    again = library.draft(review["id"], actor="li")
    assert again["values"] == {"legalityResult": "pass_with_changes", "legalityOpinion": OPINION}
    assert again["comment"] == "请起草人补充收费依据"
    # the step itself is unchanged: same version, so the page's submission later is not refused
    assert plan.task("Task_LegalityReview")["version"] == review["version"]
    # the next day: a second save replaces the first
    with at("2026-03-03T10:00:00"):
        library.save_draft(review["id"], {"legalityResult": "pass_with_changes", "legalityOpinion": OPINION + "建议删除。",
                                          "requiredChanges": "删除第三条"}, actor="li")
    assert library.draft(review["id"], actor="li")["values"]["requiredChanges"] == "删除第三条"
    assert library.draft(review["id"], actor="li")["comment"] == ""
    # the trail: two saves, which fields held something, never the words
    saves = audit_payloads(library, plan.id, drafts.EVENT)
    assert [s["new"] for s in saves] == [
        {"fields": ["legalityOpinion", "legalityResult"], "comment": True},
        {"fields": ["legalityOpinion", "legalityResult", "requiredChanges"], "comment": False}]
    assert all(OPINION[:20] not in str(s) for s in saves)
    assert plan.audit_ok()
    with at("2026-03-03T11:00:00"):
        library.complete(review["id"], actor="li", expected_version=review["version"], data={
            "legalityResult": "pass", "legalityOpinion": OPINION})
    assert library.draft(review["id"], actor="li") is None
    with library.db.reader() as s:
        assert s.execute(select(func.count()).select_from(TaskDraft)).scalar() == 0


def test_only_the_holder_saves_and_only_their_own_draft_comes_back(library, at):
    plan, review = _reviewing(library, at)
    with pytest.raises(Forbidden, match="只有办理人可以暂存"):
        library.save_draft(review["id"], {"legalityOpinion": "我来写"}, actor="chen")  # the office, not the holder
    library.save_draft(review["id"], {"legalityOpinion": "李娜的初稿"}, actor="li")
    assert library.draft(review["id"], actor="chen") is None
    # handed back: nobody holds it; a colleague who claims it starts from the form, not from li's words
    library.unclaim(review["id"], actor="li")
    with pytest.raises(Forbidden, match="请先认领任务"):
        library.save_draft(review["id"], {"legalityOpinion": "x"}, actor="li")
    library.assign(review["id"], to="li", actor="chen")  # back to li: her draft is there again
    assert library.draft(review["id"], actor="li")["values"] == {"legalityOpinion": "李娜的初稿"}


def test_a_draft_keeps_only_the_forms_editable_fields_and_refuses_what_no_form_takes(library, at):
    plan, review = _reviewing(library, at)
    saved = library.save_draft(review["id"], {"legalityOpinion": "意见", "noSuchField": "x", "__class__": "y",
                                              "legalityResult": None}, actor="li")
    assert saved["values"] == {"legalityOpinion": "意见"}
    with pytest.raises(Invalid, match="超过 20000 字"):
        library.save_draft(review["id"], {"legalityOpinion": "字" * 20_001}, actor="li")
    with pytest.raises(Invalid, match="暂存内容须为文字"):
        library.save_draft(review["id"], {"legalityOpinion": {"nested": ["x"]}}, actor="li")
    with pytest.raises(Invalid, match="JSON 对象"):
        library.save_draft(review["id"], ["legalityOpinion"], actor="li")
    assert library.draft(review["id"], actor="li")["values"] == {"legalityOpinion": "意见"}  # refusals changed nothing


def test_no_draft_is_saved_on_a_step_already_submitted_or_on_a_stopped_plan(library, at):
    plan, review = _reviewing(library, at)
    library.save_draft(review["id"], {"legalityOpinion": "初稿"}, actor="li")
    library.cancel_plan(plan.id, reason="重复发起", actor="chen")
    with pytest.raises(Conflict, match="不能再暂存"):
        library.save_draft(review["id"], {"legalityOpinion": "初稿"}, actor="li")
    assert library.draft(review["id"], actor="li") is None
    with library.db.reader() as s:  # withdrawn with its plan: nobody will finish it
        assert s.execute(select(func.count()).select_from(TaskDraft)).scalar() == 0

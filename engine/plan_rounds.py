"""The rounds of a plan, for what its reviewers read (送审材料一览, engine/task_page.py).

A plan goes round again when its drafter redrafts it after a return (风险评估提出调整要求,
专项小组退回, 合法性审查不通过, 审议后修改, 中央有关部门退回): each completion of a step whose form asks
for a 修改说明 (an editable `revisionNotes`: 起草方案, 提出调整意见) begins a round, the first draft
round 1. A procedure's records are then those of its latest round: round 1's 提出方案调整要求 is
no longer what the risk assessment says once round 2 assessed the plan again and went another way
(the decision archive keeps every round). Where that latest round is older than the plan's current
draft, the page says so: the record is about an earlier draft.

`CONTENT`: what the plan says and its content review, which legality review, the reform office
and the leadership read beside the five procedures: the drafter's 方案稿摘要 and the special
group's 审核结论 and 审核意见 (专项小组审核把关), or an adjustment's proposal and the reform office's
review of it, each from its latest round. Nothing a reviewer could not read before: whoever sees a
task's page sees its plan and the plan's decision archive, where these records are.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from .archive import Records

# the field a redraft asks for (起草方案, 提出调整意见, 修改进展报告): what changed since the last round
REVISION_NOTES = "revisionNotes"

# element id -> the fields of its record a reviewer reads, in this order: the plan's draft and the
# review of its content (bpmn/reform_plan.bpmn), an adjustment's proposal and the reform office's
# review of it (bpmn/adjustment.bpmn)
CONTENT = {
    "Task_DraftPlan": ("draftSummary",),
    "Task_SpecialGroupReview": ("specialGroupDecision", "specialGroupOpinion", "returnReason"),
    "Task_ProposeAdjustment": ("adjustmentType", "adjustmentContent", "adjustmentReasons"),
    "Task_ReviewProposal": ("adjustmentReviewDecision", "adjustmentReviewOpinion", "returnReason", "keepReason"),
}


def all_records(found: Records) -> list[dict]:
    """Every record of the plan, procedures and others, oldest first."""
    return sorted((r for section in found.sections.values() for r in section), key=lambda r: r["seq"])


def _redrafts(found: Records) -> Callable[[dict], bool]:
    """Whether a record's step asks for a 修改说明 (is a draft or redraft), its form read once."""
    forms: dict[str, bool] = {}

    def redraft(r: dict) -> bool:
        form_json = found.trail.tasks[r["task_id"]].form_json
        if form_json not in forms:
            forms[form_json] = any(f["id"] == REVISION_NOTES and "readonly" not in f["constraints"]
                                   for f in json.loads(form_json or "[]"))
        return forms[form_json]
    return redraft


def rounds(found: Records) -> tuple[dict[int, int], int]:
    """Each record's round (by its event's seq) and the plan's current round (1 before any draft)."""
    redraft = _redrafts(found)
    drafts, of = 0, {}
    for r in all_records(found):
        if redraft(r):
            drafts += 1
        of[r["seq"]] = max(drafts, 1)
    return of, max(drafts, 1)


def latest_round(records: list[dict], round_of: dict[int, int]) -> tuple[list[dict], int | None]:
    """The records of the latest round among `records`, each step's last (a step done twice in a
    round, 核对送审材料 after 补充送审材料, by its second), and that round; ([], None) for none."""
    last = max((round_of[r["seq"]] for r in records), default=None)
    latest: dict[str, dict] = {}
    for r in records:
        if round_of[r["seq"]] == last:
            latest.pop(r["element_id"], None)
            latest[r["element_id"]] = r
    return list(latest.values()), last


def content(found: Records, round_of: dict[int, int], current: int) -> list[dict]:
    """The CONTENT steps' latest records, with their round and only the fields a reviewer reads;
    `earlier`: from before the plan's current draft (专项小组 has not reviewed the redraft yet)."""
    found_steps = []
    records = all_records(found)
    for element_id, fields in CONTENT.items():
        done = [r for r in records if r["element_id"] == element_id]
        if not done:
            continue
        last = done[-1]
        values = sorted((v for v in last["values"] if v["field"] in fields), key=lambda v: fields.index(v["field"]))
        found_steps.append({**last, "values": values, "round": round_of[last["seq"]],
                            "earlier": round_of[last["seq"]] < current})
    return found_steps

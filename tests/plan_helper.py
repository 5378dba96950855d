"""Drive a reform plan through the engine step by step, as the people in each role would."""
from __future__ import annotations

from engine.audit import verify
from engine.commands import Engine
from engine.drive import pick_user

from .conftest import BPMN, read

MEMBERS = {"drafter": "zhang", "participant": "zhao", "special_group": "sun", "legal": "li",
           "risk": "zhou", "expert": "wu", "reform_office": "chen", "group_leader": "liu",
           "gov_office": "huang", "party_office": "lin"}

MEETING = {"meetingDate": "2026-03-10", "meetingPlace": "市委常委会议室", "meetingChair": "刘洋",
           "attendees": "刘洋、陈静、孙强", "memberStances": "均同意", "decision": "approve"}

# A valid answer for every task of the library; scenarios override what they test.
ANSWERS = {
    "Task_RegisterPlan": {"leadUnit": "市财政局"},
    "Task_Research": {"researchSummary": "赴三个区县调研"},
    "Task_DraftPlan": {"draftSummary": "方案初稿"},
    "Task_DepartmentOpinions": {"departmentsConsulted": "市发改委、市人社局",
                                "departmentOpinionsHandling": "均已采纳", "consensusReached": True},
    "Task_CoordinateDepartments": {"coordinationSummary": "已协调一致"},
    "Task_PublicConsultation": {"consultationMethods": "网上公示", "consultationStart": "2026-02-01",
                                "consultationDays": 30, "publicCommentsHandling": "采纳12条"},
    "Task_ExpertArgumentation": {"expertPanel": "五人专家组", "expertOpinions": "可行",
                                 "opinionsSigned": True, "conflictsExcluded": True},
    "Task_PrepareRiskReport": {"riskPoints": "征地补偿", "preventionMeasures": "提前公示",
                               "responsePlan": "应急预案", "riskLevel": "low"},
    "Task_RecordControls": {"riskControls": "专人跟踪"},
    "Task_RequestAdjustment": {"returnReason": "补偿标准须调整"},
    "Task_SpecialGroupReview": {"specialGroupOpinion": "内容可行", "specialGroupDecision": "approve"},
    "Task_CheckMaterials": {"materialsComplete": True},
    "Task_LegalityReview": {"legalityResult": "pass", "legalityOpinion": "符合法律法规"},
    "Task_ReformOfficeReview": {"officeReviewDecision": "approve"},
    "Task_ApproveAgenda": {"agendaDecision": "approve"},
    "Task_ChooseOrdinaryRoute": {"ordinaryRoute": "countersign"},
    "Task_LeadershipGroupMeeting": MEETING,
    "Task_ExecutiveMeeting": MEETING,
    "Task_SpecialGroupMeeting": MEETING,
    "Task_Countersign": {"memberStances": "各单位同意", "decision": "approve"},
    "Task_GovExecutiveMeeting": {"govMeetingDecision": "approve"},
    "Task_StandingCommittee": {"standingCommitteeDecision": "approve"},
    "Task_ReportUp": {"reportedTo": "国家发改委", "centralApproval": "approve"},
    "Task_IssuePlan": {"documentNumber": "同改发〔2026〕1号", "issueDate": "2026-03-20"},
    "Task_FileDocument": {"filingDate": "2026-03-25", "filingMaterials": "正式文本、起草说明"},
    "Task_CheckFiling": {"filingComplete": True},
    "Task_SupplementFiling": {"supplementNote": "已补充起草说明"},
    "Task_EscalateOverdueFiling": {"noticeAction": "public_notice"},
}


def deploy_library(engine: Engine):
    return engine.deploy([read(p) for p in sorted(BPMN.glob("*.bpmn"))])


class Plan:
    """One reform plan and the people acting on it."""

    def __init__(self, engine: Engine, data: dict | None = None, title="深化财政预算管理制度改革方案"):
        self.engine = engine
        self.view = engine.start("reform_plan", actor="zhang", title=title, data=data or {})
        self.id = self.view["id"]
        self.done: list[str] = []

    def refresh(self) -> dict:
        self.view = self.engine.instance(self.id)
        return self.view

    @property
    def active(self) -> list[str]:
        return sorted(t["element_id"] for t in self.refresh()["tasks"])

    @property
    def variables(self) -> dict:
        return self.refresh()["variables"]

    def task(self, element_id: str) -> dict:
        matches = [t for t in self.refresh()["tasks"] if t["element_id"] == element_id]
        assert matches, f"{element_id} is not active; active: {self.active}"
        return matches[0]

    def do(self, element_id: str, **data) -> dict:
        """Claim (if needed) and complete the active task, with the default answer + data."""
        task = self.task(element_id)
        user = pick_user(task, MEMBERS)
        if task["status"] == "open":
            self.engine.claim(task["id"], actor=user)
        answer = {**ANSWERS.get(element_id, {}), **data}
        result = self.engine.complete(task["id"], actor=user, data=answer)
        self.done.append(element_id)
        return result

    def run_until(self, element_id: str, **overrides) -> None:
        """Complete tasks with their default answers until `element_id` is active."""
        for _ in range(80):
            active = self.active
            if element_id in active:
                return
            assert active, f"plan ended before reaching {element_id}; done: {self.done}"
            step = active[0]
            self.do(step, **overrides.get(step, {}))
        raise AssertionError(f"{element_id} never became active; done: {self.done}")

    def finish(self, **overrides) -> None:
        for _ in range(80):
            if self.refresh()["status"] != "running":
                return
            active = self.active
            assert active, f"plan is waiting without tasks (timer?); done: {self.done}"
            self.do(active[0], **overrides.get(active[0], {}))
        raise AssertionError(f"plan did not finish; done: {self.done}")

    def audit_ok(self) -> bool:
        with self.engine.db.reader() as s:
            return verify(s).ok


def end_event(engine: Engine, instance_id: int) -> str | None:
    import json

    from sqlalchemy import select

    from models import AuditEvent
    with engine.db.reader() as s:
        row = s.execute(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                 AuditEvent.event_type == "instance_ended")).scalar_one_or_none()
    return json.loads(row.payload)["end_event"] if row else None

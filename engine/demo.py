"""Demo data: the people of a city reform office and plans from the Datong 2015 reform task
list (seeds/002), stopped at different stages of the procedure."""
from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from models import User

from . import clock, passwords
from .commands import Engine
from .drive import drive
from .errors import Conflict
from .workdays import add_months

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
PASSWORD = "demo"

GROUPS = {
    "drafter": "牵头单位（起草人）", "participant": "参与单位", "special_group": "专项小组",
    "legal": "法制机构", "risk": "社会稳定风险评估", "expert": "专家", "reform_office": "改革办",
    "group_leader": "领导小组组长", "gov_office": "政府常务会议", "party_office": "常委会议",
    "auditor": "审计",
}

# username, display name, group, unit
PEOPLE = [
    ("zhang", "张伟", "drafter", "市财政局"),
    ("wang", "王芳", "drafter", "市政府办公厅"),
    ("guo", "郭鹏", "drafter", "市国土局"),
    ("ma", "马丽", "drafter", "市工商局"),
    ("he", "何军", "drafter", "市金融办"),
    ("luo", "罗敏", "drafter", "市科技局"),
    ("song", "宋涛", "drafter", "市国资委"),
    ("xie", "谢娟", "drafter", "市经信委"),
    ("zhao", "赵敏", "participant", "市发改委"),
    ("sun", "孙强", "special_group", "经济体制改革专项小组"),
    ("li", "李娜", "legal", "市司法局"),
    ("zhou", "周杰", "risk", "市委政法委"),
    ("wu", "吴磊", "expert", "市社科院"),
    ("chen", "陈静", "reform_office", "市委改革办"),
    ("yang", "杨帆", "reform_office", "市委改革办"),
    ("liu", "刘洋", "group_leader", "市委全面深化改革领导小组"),
    ("huang", "黄磊", "gov_office", "市政府办公厅"),
    ("lin", "林涛", "party_office", "市委办公厅"),
    ("feng", "冯敏", "auditor", "市审计局"),  # exports and anchors the audit trail
]

# Who acts for each candidate group when the demo moves plans forward.
MEMBERS = {group: next(u for u, _, g, _ in PEOPLE if g == group) for group in GROUPS}


def _today() -> str:
    return clock.today().isoformat()


# A meeting is recorded once it has been held (its date may not be after today): it was held on
# the day the demo or a test records it, whatever the clock says (engine.drive.answer_for calls
# the date when it answers).
RECORD = {"meetingDate": _today, "meetingPlace": "市委常委会议室", "meetingChair": "刘洋",
          "attendees": "刘洋、陈静、孙强", "memberStances": "均同意"}
MEETING = {**RECORD, "decision": "approve"}


def _days_from_today(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def document_number(prefix: str, number: int, issued: date | str | None = None) -> str:
    """A document's number as the office writes it, with the year it was issued in (today's by
    default): 同改发〔2027〕1号 for a plan the demo issues in 2027, not a fixed 〔2026〕."""
    year = (date.fromisoformat(issued) if isinstance(issued, str) else issued or clock.today()).year
    return f"{prefix}〔{year}〕{number}号"

# A valid answer for every task of the library (docs/processes.md lists the fields). Dates that
# depend on "now" are callables (engine.drive.answer_for calls them): a plan is issued today, its
# public consultation of 30 days ended a fortnight ago (a period ending on a day off runs on to the next
# working day, so ending yesterday may not be over yet), a new filing deadline is a week away.
STANDARD_ANSWERS = {
    "Task_RegisterPlan": lambda _task: {"leadUnit": "市财政局", "responsiblePerson": "张伟",
                                        "plannedCompletion": _days_from_today(180)},
    "Task_Research": {"researchSummary": "赴三个区县调研，形成调研报告"},
    "Task_DraftPlan": {"draftSummary": "方案初稿"},
    "Task_DepartmentOpinions": {"departmentsConsulted": "市发改委、市人社局",
                                "departmentOpinionsHandling": "均已采纳", "consensusReached": True},
    "Task_CoordinateDepartments": {"coordinationSummary": "已协调一致"},
    "Task_PublicConsultation": lambda _task: {"consultationMethods": "网上公示", "consultationDays": 30,
                                              "consultationStart": _days_from_today(-45)},
    "Task_RecordPublicComments": {"publicCommentsReceived": "收到意见37条", "publicCommentsHandling": "采纳12条，其余说明理由"},
    "Task_ExpertArgumentation": {"expertPanel": "五人专家组", "expertOpinions": "可行",
                                 "opinionsSigned": True, "conflictsExcluded": True},
    "Task_RecordExpertOpinionsHandling": {"expertOpinionsHandling": "采纳专家关于分步实施的建议，已修改第三部分"},
    "Task_PrepareRiskReport": {"riskPoints": "征地补偿", "preventionMeasures": "提前公示",
                               "responsePlan": "应急预案", "riskLevel": "low"},
    "Task_RecordControls": {"riskControls": "专人跟踪"},
    "Task_RequestAdjustment": {"adjustmentDecision": "return", "returnReason": "补偿标准须调整"},
    "Task_SpecialGroupReview": {"specialGroupOpinion": "内容可行", "specialGroupDecision": "approve"},
    "Task_CheckMaterials": {"materialsComplete": True},
    "Task_LegalityReview": {"legalityResult": "pass", "legalityOpinion": "符合法律法规"},
    "Task_IncorporateLegalChanges": {"legalChangesMade": "已按审查意见逐项修改"},
    "Task_ReformOfficeReview": {"officeReviewDecision": "approve",
                                "agendaProposal": "提请市委全面深化改革领导小组下次全体会议审议；牵头单位会上作起草说明"},
    "Task_ApproveAgenda": {"agendaDecision": "approve"},
    "Task_ChooseOrdinaryRoute": {"ordinaryRoute": "countersign"},
    "Task_LeadershipGroupMeeting": MEETING,
    "Task_ExecutiveMeeting": MEETING,
    "Task_SpecialGroupMeeting": MEETING,
    "Task_Countersign": {"memberStances": "各单位同意", "decision": "approve"},
    "Task_GovExecutiveMeeting": {**RECORD, "meetingPlace": "市政府常务会议室", "govMeetingDecision": "approve"},
    "Task_StandingCommittee": {**RECORD, "standingCommitteeDecision": "approve"},
    "Task_DeferredRetable": lambda _task: {"retableDate": _days_from_today(14)},
    "Task_GovMeetingRetable": lambda _task: {"retableDate": _days_from_today(14)},
    "Task_StandingCommitteeRetable": lambda _task: {"retableDate": _days_from_today(14)},
    "Task_ReportUp": {"reportedTo": "国家发改委", "centralApproval": "approve"},
    "Task_IssuePlan": lambda _task: {"documentNumber": document_number("同改发", 1), "issueDate": clock.today().isoformat()},
    "Task_HandOverArchive": lambda _task: {"archiveHandedOverOn": clock.today().isoformat(), "archiveReceiver": "市档案馆",
                                           "archiveContents": "决策草案及起草说明、征求意见及采纳情况、合法性审查意见、会议记录、"
                                                              "决策档案（系统导出）"},
    "Task_FileDocument": lambda _task: {"filingDate": clock.today().isoformat(), "filingMaterials": "正式文本、起草说明"},
    "Task_CheckFiling": {"filingComplete": True},
    "Task_SupplementFiling": {"supplementNote": "已补充起草说明"},
    "Task_EscalateOverdueFiling": lambda _task: {"newDeadline": _days_from_today(7), "escalationNote": "责令限期报送"},
    "Task_PublicNotice": lambda _task: {"noticeDecision": "notice", "noticeNote": document_number("同改办通报", 1)},
    # implementation.bpmn (the monthly report's counts fit a plan of 5 measures)
    "Task_AssignResponsibility": {"responsibleLeader": "分管副市长", "responsibleUnit": "综合改革处",
                                  "responsiblePerson": "张伟", "workTeam": "综合改革处、预算处、国库处"},
    "Task_MonthlyReport": {"measuresDone": 1, "measuresStarted": 2, "measuresNotStarted": 2,
                           "progressSummary": "完成预算公开平台建设，绩效评价办法已起草"},
    "Task_UrgeMonthlyReport": {"urgeNote": "已电话催报"},
    "Task_SetPilotEnd": lambda _task: {"pilotEnd": _days_from_today(365)},
    "Task_PilotSummary": lambda _task: {"finalEvaluation": "试点目标基本实现", "summaryReport": "试点总结报告及推广建议",
                                        "summaryDate": clock.today().isoformat()},
    "Task_UrgePilotSummary": {"urgeNote": "已督办，责令一周内报送"},
    "Task_EvaluateEffects": lambda _task: {"evaluationDate": clock.today().isoformat(), "effectsSummary": "预算透明度明显提高",
                                           "evaluationRating": "effective"},
    "Task_RecordThirdPartyEvaluation": {"thirdPartyEvaluator": "市社科院评估中心", "thirdPartyConclusion": "成效明显",
                                        "satisfactionSurvey": "满意度86%"},
    "Task_Supervise": lambda _task: {"supervisionDate": clock.today().isoformat(), "supervisionMethod": "实地督察",
                                     "supervisionFindings": "按计划推进", "problemsFound": False},
    "Task_IssueRectificationNotice": lambda _task: {"rectificationNoticeNumber": document_number("同改督", 1),
                                                    "problemList": "1. 绩效评价办法未出台", "rectificationDeadline": _days_from_today(30),
                                                    "noticeDate": clock.today().isoformat()},
    "Task_Rectify": {"rectificationReport": "绩效评价办法已印发"},
    "Task_RequestReReview": {"reReviewChoice": "request", "reReviewReasons": "问题清单第1项所列办法已于督察前报送市政府审议，不属未出台"},
    "Task_DecideReReview": {"reReviewPanel": "杨帆（未参与督察）", "reReviewDecision": "upheld",
                            "reReviewDecisionReasons": "办法尚未印发施行，维持原意见"},
    "Task_ReviewQuarter": {"quarterReviewDecision": "approve", "quarterReviewOpinion": "进展属实，同意报改革办"},
    "Task_ReviseQuarterReport": {"progressSummary": "已按审核意见补充本季度进展"},
    "Task_ReviewEvaluation": {"evaluationReviewDecision": "pass", "evaluationReviewOpinion": "评估客观，同意"},
    "Task_PilotPhaseEvaluation": lambda _task: {"phaseEvaluator": "省委改革办", "phaseEvaluationDate": clock.today().isoformat(),
                                                "phaseEvaluationConclusion": "试点按期推进，阶段目标基本实现"},
    "Task_UrgeRectification": {"urgeNote": "已督办"},
    "Task_ReInspect": {"reinspectionResult": "passed", "reinspectionOpinion": "问题已整改到位"},
    "Task_OrderFurtherRectification": lambda _task: {"newRectificationDeadline": _days_from_today(14), "interviewLeader": False},
    "Task_RecordInterview": lambda _task: {"interviewDate": clock.today().isoformat(), "interviewee": "分管副市长",
                                           "interviewRecord": "指出整改不力，要求两周内整改到位"},
    "Task_ClosePlan": lambda _task: {"closingDate": clock.today().isoformat(), "closingNote": "全部举措完成，评估已登记"},
    # adjustment.bpmn's own tasks; its other steps are reform_plan's, answered above
    "Task_ProposeAdjustment": {"adjustmentType": "supplement", "adjustmentContent": "补充民营企业应急转贷和融资担保措施",
                               "adjustmentReasons": "实施中发现融资难问题突出，原方案缺少相应举措",
                               "trackingFindings": "牵头单位自查：走访企业42家，31家反映融资难，见自查报告"},
    "Task_ReviewProposal": {"adjustmentReviewOpinion": "调整理由充分，同意报原审定机关", "adjustmentReviewDecision": "submit"},
    # work_report.bpmn (each body's report, the compiled report and the leader's reading need their files attached)
    "Task_ConfirmRound": lambda _task: {"reportPeriod": "year_end", "reportYear": report_year(clock.today()),
                                        "reportDeadline": _days_from_today(10), "submissionDue": _days_from_today(30)},
    "Task_SubmitReport": {"progressMade": "年度改革要点本领域任务已完成七项，其余按计划推进",
                          "resultsAchieved": "预算公开覆盖全部市级部门", "problemsFaced": "部门协同不够顺畅",
                          "nextSteps": "明年一季度完成绩效评价办法"},
    "Task_ReviseReport": {"progressMade": "年度改革要点本领域任务已完成七项，其余按计划推进",
                          "resultsAchieved": "预算公开覆盖全部市级部门，公开率100%", "problemsFaced": "部门协同不够顺畅",
                          "nextSteps": "明年一季度完成绩效评价办法", "revisionNotes": "已按编审意见补充量化成效"},
    "Task_UrgeReport": {"urgeNote": "已电话催报，承诺三日内报送"},
    "Task_ReviewReport": {"reviewDecision": "accept"},
    "Task_CompileHalfYearReport": {"reportTitle": "上半年全面深化改革进展情况报告",
                                   "reportSummary": "各专项小组、牵头单位和县（市、区）改革任务总体按计划推进"},
    "Task_CompileAnnualReport": {"reportTitle": "年度全面深化改革情况总结报告",
                                 "reportSummary": "年度改革要点任务总体完成，重点突破项目取得成效，问题和明年打算见报告"},
    "Task_LeaderReview": {"leaderDecision": "approve"},
}

# (business key, title, drafter, start data, stop when one of these tasks is ready)
PLANS = [
    ("DT-2015-01", "加快推进简政放权实施方案", "wang", {}, {"Task_RegisterPlan"}),
    ("DT-2015-02", "深化财政预算管理制度改革方案", "zhang",
     {"touchesPublicInterest": True}, {"Task_PublicConsultation"}),
    ("DT-2015-03", "推进用地管理改革方案", "guo",
     {"riskAssessmentRequired": True, "touchesPublicInterest": True}, {"Task_PrepareRiskReport"}),
    ("DT-2015-04", "深化商事制度和投资体制改革方案", "ma", {}, {"Task_LegalityReview"}),
    ("DT-2015-05", "深化金融领域改革方案", "he", {"category": "major"}, {"Task_ApproveAgenda"}),
    ("DT-2015-06", "深化科技体制改革方案", "luo",
     {"category": "major", "partyDocument": True, "governmentDuties": True}, {"Task_StandingCommittee"}),
    ("DT-2015-07", "深化国资国企改革方案", "song", {"category": "major"},
     {"Task_FileDocument", "Task_EscalateOverdueFiling", "Task_HandOverArchive"}),
    ("DT-2015-08", "深化非公经济领域改革方案", "xie", {}, set()),
]


def library_files() -> list[tuple[str, bytes]]:
    """The process library in bpmn/, as deploy takes it."""
    return [(p.name, p.read_bytes()) for p in sorted(BPMN_DIR.glob("*.bpmn"))]


def add_people(engine: Engine, password: str | None = None) -> None:
    """The demo's groups and users, one for every role; any already there is kept (a benchmark
    given a database with --db may hold an earlier run's). The password is hashed once for them
    all: a salted hash costs a tenth of a second, and they share the one printed password anyway."""
    shared_hash = passwords.hashed(password) if password else None
    for code, name in GROUPS.items():
        with suppress(Conflict):
            engine.add_group(code, name)
    for username, display, group, unit in PEOPLE:
        with suppress(Conflict):
            engine.add_user(username, display, groups=[group], unit=unit, password_hash=shared_hash)


def load_demo(engine: Engine, progress: Callable[[str], None] | None = None) -> dict:
    """Add the demo organisation, deploy bpmn/ and start the demo plans (once)."""
    say = progress or (lambda _msg: None)
    with engine.db.reader() as s:
        if s.execute(select(User.id).where(User.username == "chen")).first():
            # `make run` a second time: what the person did is kept; say how to start over
            say("演示数据已加载过，现有数据保持不变；要从头再来，请删除数据库后重新运行"
                "（默认的 SQLite：rm instance/reformflow.sqlite3） (demo data already loaded and kept as it is; "
                "to start over, remove the database and run again)")
            return {"loaded": False}
    add_people(engine, password=PASSWORD)
    say(f"{len(PEOPLE)} 个用户，{len(GROUPS)} 个角色，密码 {PASSWORD} ({len(PEOPLE)} users in {len(GROUPS)} groups)")
    deployed = engine.deploy(library_files(), actor="chen")
    say("已部署 (deployed) " + ", ".join(f"{d['key']} v{d['version']}" for d in deployed))
    # The issued plan was issued 40 days ago, so its filing is overdue and the worker escalates it.
    issued = (clock.today() - timedelta(days=40)).isoformat()
    plans = []
    for number, (key, title, drafter, data, stop_at) in enumerate(PLANS, start=1):
        unit = next(u for name, _, _, u in PEOPLE if name == drafter)
        members = {**MEMBERS, "drafter": drafter}
        register = {"leadUnit": unit, "responsiblePerson": next(d for name, d, _, _ in PEOPLE if name == drafter),
                    "plannedCompletion": _days_from_today(180), **data}
        answers = {**STANDARD_ANSWERS, **_meetings_held_on(issued), "Task_RegisterPlan": register,
                   "Task_IssuePlan": {"documentNumber": document_number("同改发", number, issued), "issueDate": issued}}
        plan = engine.start("reform_plan", actor=drafter, title=title, business_key=key,
                            data=register)
        drive(engine, plan["id"], answers, members, stop_at=stop_at)
        view = engine.instance(plan["id"])
        stage = ", ".join(t["name"] for t in view["tasks"]) or ("已办结 (completed)" if view["status"] == "completed" else view["status"])
        say(f"{key} {title}: {stage}")
        plans.append({"id": plan["id"], "business_key": key, "title": title, "stage": stage})
    _attach_draft(engine, plans[1]["id"], say)
    plans.append(_start_implementation(engine, say))
    plans.append(_start_adjustment(engine, say))
    plans.append(_start_report_round(engine, say))
    plans.append(_start_quarterly_plan(engine, say))
    fired = engine.fire_due_timers()
    if fired:
        say(f"已触发 {len(fired)} 个方案的定时器：逾期未备案已报改革办 (timers fired in {len(fired)} plan(s): overdue filings escalated to the reform office)")
    return {"loaded": True, "users": len(PEOPLE), "plans": plans}


def _meetings_held_on(day: str) -> dict:
    """The meeting records of STANDARD_ANSWERS dated `day`: a plan issued on a day was decided
    on or before it (印发日期 may not be before 会议日期)."""
    return {element: {**answer, "meetingDate": day} for element, answer in STANDARD_ANSWERS.items()
            if isinstance(answer, dict) and "meetingDate" in answer}


def _attach_draft(engine: Engine, plan_id: int, say: Callable[[str], None]) -> None:
    """DT-2015-02's drafter attaches the draft put out for public comment to the consultation task."""
    task = next(t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == "Task_PublicConsultation")
    draft = ("关于深化财政预算管理制度改革的实施方案（征求意见稿）\n\n"
             "一、总体要求\n二、主要任务：（一）完善政府预算体系；（二）推进预算公开；（三）实施中期财政规划管理\n"
             "三、保障措施\n").encode("utf-8")
    attached = engine.attach(task["id"], "深化财政预算管理制度改革方案（征求意见稿）.txt", draft, actor=task["assignee"])
    say(f"DT-2015-02 附件 (file) {attached['id']}：{attached['file_name']}")


# The filed plan DT-2015-08 goes into implementation (implementation.bpmn): started 40 days ago,
# so a month has ended and its progress table is waiting for the lead unit (overdue when the 10th
# has passed, and then the reform office is asked to chase it), and the reform office has the
# plan's supervision in its inbox.
IMPLEMENTATION = ("DT-2015-08-LS", "深化非公经济领域改革方案", "xie")


def _start_implementation(engine: Engine, say: Callable[[str], None]) -> dict:
    key, title, drafter = IMPLEMENTATION
    unit, person = next((u, d) for name, d, _, u in PEOPLE if name == drafter)
    data = {"documentNumber": document_number("同改发", 8, _days_from_today(-40)), "leadUnit": unit, "measureCount": 5,
            "implementationStart": _days_from_today(-40), "plannedCompletion": _days_from_today(180),
            "thirdPartyEvaluation": True}
    plan = engine.start("implementation", actor=drafter, title=title, business_key=key, data=data)
    answers = {**STANDARD_ANSWERS, "Task_AssignResponsibility": {
        **STANDARD_ANSWERS["Task_AssignResponsibility"], "responsiblePerson": person}}
    drive(engine, plan["id"], answers, {**MEMBERS, "drafter": drafter},
          stop_at={"Task_MonthlyReport", "Task_Supervise", "Task_UrgeMonthlyReport"})
    view = engine.instance(plan["id"])
    stage = ", ".join(t["name"] for t in view["tasks"])
    say(f"{key} {title}（落实与督察）: {stage}")
    return {"id": plan["id"], "business_key": key, "title": title, "stage": stage}


# The filed plan DT-2015-08 found lacking (adjustment.bpmn): its lead unit's self-check proposes to
# supplement it, and the proposal waits for the reform office's review. Submitted, it would pass the
# legality review and go to the body that approved the original: an ordinary plan, by the route the
# reform office chooses (the original was countersigned).
ADJUSTMENT = ("DT-2015-08-TZ1", "深化非公经济领域改革方案", "xie")


def _start_adjustment(engine: Engine, say: Callable[[str], None]) -> dict:
    key, title, drafter = ADJUSTMENT
    unit, person = next((u, d) for name, d, _, u in PEOPLE if name == drafter)
    data = {"originalDocumentNumber": document_number("同改发", 8, _days_from_today(-40)), "leadUnit": unit, "responsiblePerson": person,
            "plannedCompletion": _days_from_today(60), "proposalSource": "self_check"}
    plan = engine.start("adjustment", actor=drafter, title=title, business_key=key, data=data)
    drive(engine, plan["id"], STANDARD_ANSWERS, {**MEMBERS, "drafter": drafter}, stop_at={"Task_ReviewProposal"})
    stage = ", ".join(t["name"] for t in engine.instance(plan["id"])["tasks"])
    say(f"{key} {title}（动态调整）: {stage}")
    return {"id": plan["id"], "business_key": key, "title": title, "stage": stage}


# The year-end reporting round (work_report.bpmn) of this year, or of the last in its first half, due in ten days: the special group and the
# finance bureau have reported (the first accepted, the second waiting for the reform office's
# review), the state-owned assets commission has not. Each report goes in with its file attached.
REPORT_ROUND = [{"unit": "经济体制改革专项小组", "group": "special_group"},
                {"unit": "市财政局", "user": "zhang"},
                {"unit": "市国资委", "user": "song"}]


def report_year(day) -> int:
    """The year a year-end round made on `day` sums up: this year from July on, else the year
    just ended (a round made in January reports on the last year, not on the one just begun)."""
    return day.year if day.month >= 7 else day.year - 1


def _start_report_round(engine: Engine, say: Callable[[str], None]) -> dict:
    year = report_year(clock.today())
    key, title = f"BG-{year}-NB", f"{year}年度全面深化改革情况报告"
    plan = engine.start("work_report", actor="chen", title=title, business_key=key, data={"reporters": REPORT_ROUND})
    drive(engine, plan["id"], STANDARD_ANSWERS, MEMBERS, stop_at={"Task_SubmitReport"})  # reportYear: report_year too
    for who in ("special_group", "zhang"):
        task = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_SubmitReport"
                    and who in (t["assignee"], *t["candidate_groups"]))
        user = task["assignee"] or MEMBERS[who]
        if task["status"] == "open":
            engine.claim(task["id"], actor=user)
        unit = engine.task_view(task["id"])["values"]["reportingUnit"]
        engine.attach(task["id"], f"{unit}{year}年度改革进展报告.txt",
                      f"{unit}{year}年度改革进展报告\n\n一、主要进展\n二、取得成效\n三、存在问题\n四、下一步打算\n".encode("utf-8"),
                      actor=user)
        engine.complete(task["id"], actor=user, data=STANDARD_ANSWERS["Task_SubmitReport"])
    first = next(t for t in engine.instance(plan["id"])["tasks"] if t["element_id"] == "Task_ReviewReport")
    engine.claim(first["id"], actor=MEMBERS["reform_office"])
    engine.complete(first["id"], actor=MEMBERS["reform_office"], data=STANDARD_ANSWERS["Task_ReviewReport"])
    stage = ", ".join(t["name"] for t in engine.instance(plan["id"])["tasks"])
    say(f"{key} {title}（年度总结）: {stage}")
    return {"id": plan["id"], "business_key": key, "title": title, "stage": stage}


# A key breakthrough project (重点突破改革项目) in implementation with quarterly reporting, for the
# reform office's quarterly bulletin (`reformflow bulletin`): started at the beginning of the quarter
# before the latest one whose tables are in (the quarter that ended at least two weeks ago). Each
# month's table is filed on the 5th of the next month, on time; each quarter's last table goes to
# the special group, which approves the first quarter's and returns the second's once, approving it
# revised. The months since are filed the same way up to today; the latest month's table, if its
# month has ended, opens today. It runs on its own dates, so the clock is set to each of them.
QUARTERLY = ("DT-2015-09-LS", "推进国有资本投资运营公司改革方案", "song")
RETURNED = {"quarterReviewDecision": "return", "quarterReviewOpinion": "已完成项数与督察掌握情况不符，请核实后重报"}


def _start_quarterly_plan(engine: Engine, say: Callable[[str], None]) -> dict:
    from .bulletin import last_ended
    key, title, drafter = QUARTERLY
    unit, person = next((u, d) for name, d, _, u in PEOPLE if name == drafter)
    reviewed = last_ended(clock.today() - timedelta(days=14))
    month = add_months(reviewed.first_day, -3)
    data = {"documentNumber": document_number("同改发", 9, month), "leadUnit": unit, "measureCount": 4,
            "implementationStart": month.isoformat(), "plannedCompletion": add_months(month, 18).isoformat(),
            "quarterlyReporting": True}
    members = {**MEMBERS, "drafter": drafter}
    with clock.frozen(datetime.combine(month, datetime.min.time()).replace(hour=9)):
        plan = engine.start("implementation", actor=drafter, title=title, business_key=key, data=data)
        drive(engine, plan["id"], {**STANDARD_ANSWERS, "Task_AssignResponsibility": {
            **STANDARD_ANSWERS["Task_AssignResponsibility"], "responsiblePerson": person}}, members,
            stop_at={"Task_Supervise"})
    filed = 0
    while (next_month := add_months(month, 1)).replace(day=5) < clock.today():
        with clock.frozen(datetime.combine(next_month, datetime.min.time()).replace(second=1)):
            engine._fire_plan(plan["id"])  # this plan's timers only: the others' fire on today's clock
        done = min(filed // 2, 3)
        table = {"measuresDone": done, "measuresStarted": min(2, 4 - done), "measuresNotStarted": 4 - done - min(2, 4 - done),
                 "progressSummary": f"{month.month}月：完成{done}项，清产核资和章程修订按计划推进",
                 "problemsMet": "部分企业清产核资进度滞后" if month.month % 3 == 0 else None}
        answers = {**STANDARD_ANSWERS, "Task_MonthlyReport": table,
                   "Task_ReviseQuarterReport": {**table, "progressSummary": table["progressSummary"] + "（已核实）"}}
        # filed on the 5th; the quarter's last month reviewed on the 7th, the reviewed quarter's returned
        # then and approved revised on the 9th
        days = [(5, {"Task_ReviewQuarter"}), (7, {"Task_ReviseQuarterReport"}), (9, set())]
        for day, steps in days:
            if next_month.replace(day=day) >= clock.today():
                break  # not yet: what that day would do is still open today, not done ahead of time
            review = RETURNED if (day, month) == (7, reviewed.last_month) else STANDARD_ANSWERS["Task_ReviewQuarter"]
            with clock.frozen(datetime.combine(next_month.replace(day=day), datetime.min.time()).replace(hour=10)):
                drive(engine, plan["id"], {**answers, "Task_ReviewQuarter": review}, members,
                      stop_at={"Task_Supervise"} | steps)
        month, filed = next_month, filed + 1
    _supervise(engine, plan["id"])
    stage = ", ".join(t["name"] for t in engine.instance(plan["id"])["tasks"])
    say(f"{key} {title}（落实与督察，季末报专项小组审核）: {filed} 个月的进度表已报送，{reviewed.label}已审核 "
        f"({filed} monthly tables filed, {reviewed.code} reviewed); {stage}")
    return {"id": plan["id"], "business_key": key, "title": title, "stage": stage}


# The reform office supervised DT-2015-09-LS on site three days ago and found problems: today it
# serves a rectification notice, due in a month, for the supervision ledger (`reformflow
# supervision`); the lead unit rectifies it and may ask for a re-review.
SUPERVISION = {"supervisionDate": -3, "supervisionMethod": "实地督察、查阅资料",
               "supervisionFindings": "清产核资进度滞后，两户企业章程未按方案修订", "problemsFound": True}
NOTICE = {"problemList": "1. 清产核资进度滞后；2. 两户企业章程未按方案修订"}


def _supervise(engine: Engine, plan_id: int) -> None:
    office = MEMBERS["reform_office"]
    for element, data in (("Task_Supervise", {**SUPERVISION, "supervisionDate": _days_from_today(-3)}),
                          ("Task_IssueRectificationNotice", {**NOTICE, "rectificationNoticeNumber": document_number("同改督", 2),
                                                             "rectificationDeadline": _days_from_today(30),
                                                             "noticeDate": clock.today().isoformat()})):
        task = next(t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element)
        engine.claim(task["id"], actor=office)
        engine.complete(task["id"], actor=office, data=data)

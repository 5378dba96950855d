"""A submission the diagram sends straight back says where: the gateway and the flow it took,
as the diagram names them, on the step's page after submitting."""
from __future__ import annotations

from engine.demo import PASSWORD

from .plan_helper import Plan
from .web_helper import page_text, signed_in_client


def test_an_expert_step_sent_back_for_unsigned_opinions_says_so(library):
    library.add_user("wu2", "吴二", groups=["expert"], password=PASSWORD)
    plan = Plan(library)
    plan.run_until("Task_ExpertArgumentation", Task_RegisterPlan={"technical": True})
    task = plan.task("Task_ExpertArgumentation")
    library.claim(task["id"], actor="wu2")
    client = signed_in_client(library, "wu2")
    answer = client.post(f"/tasks/{task['id']}/complete", data={
        "version": library.task_view(task["id"])["version"], "expertPanel": "王教授（市社科院）",
        "expertOpinions": "建议分步实施", "conflictsExcluded": "true"}, follow_redirects=True)
    again = plan.task("Task_ExpertArgumentation")
    assert again["id"] != task["id"] and again["assignee"] == "wu2"
    assert (f"已提交，但流程图在「意见是否有效：未署名或未回避」处把「专家论证」送回您这里（任务 {again['id']}），"
            "须再次办理") in page_text(answer)
    english = signed_in_client(library, "wu2", language="en")
    library.complete(again["id"], actor="wu2", data={"expertPanel": "王教授", "expertOpinions": "同意",
                                                     "opinionsSigned": False, "conflictsExcluded": True})
    third = plan.task("Task_ExpertArgumentation")
    answer = english.post(f"/tasks/{third['id']}/complete", data={
        "version": library.task_view(third["id"])["version"], "expertPanel": "王教授", "expertOpinions": "同意",
        "conflictsExcluded": "true"}, follow_redirects=True)
    assert "Submitted, but the diagram sent “专家论证” back to you at “意见是否有效：未署名或未回避”" in page_text(answer)

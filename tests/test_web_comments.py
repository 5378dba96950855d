"""Comments (批注/留言) in the web inbox, over the demo: on a plan's page (who, unit, when, in time
order, and in its trail in the page's language), on a task's page (the assignee's comment leaves
the step open and keeps what they typed), a refused comment put back in its box, and a plan
that has ended taking comments from the reform office only."""
from __future__ import annotations

import io
import re

from playwright.sync_api import expect

from .web_helper import open_task, sign_in, signed_in_client


def _comments(html: str) -> list[str]:
    """The comments list as a person reads it, one line per comment."""
    found = re.search(r'<ol class="comments">(.*?)</ol>', html, re.S)
    items = re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S) if found else []
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def test_a_reviewer_comments_on_a_plan_and_everyone_who_sees_it_reads_it(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    plan = f"/plans/{review['instance_id']}"
    li = signed_in_client(demo_engine, "li")
    assert "还没有留言。" in li.get(plan).get_data(as_text=True)
    answer = li.post(f"{plan}/comments", data={"plan-comment": "  请补充社会稳定风险评估材料。\r\n谢谢。 "})
    assert answer.status_code == 302 and answer.location.endswith(f"{plan}#comments")
    shown = li.get(plan).get_data(as_text=True)
    assert "已留言。" in shown
    [line] = _comments(shown)
    assert re.fullmatch(r"李娜（市司法局） · \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d 请补充社会稳定风险评估材料。 谢谢。", line), line
    assert "留言（市司法局）：请补充社会稳定风险评估材料。" in shown  # the trail, in Chinese

    chen = signed_in_client(demo_engine, "chen")  # the office sees it too, and answers below it
    chen.post(f"{plan}/comments", data={"plan-comment": "已转告牵头单位。"})
    chen.post("/language/en")
    shown = chen.get(plan).get_data(as_text=True)
    assert [c.split(" · ")[0] for c in _comments(shown)] == ["李娜 (市司法局)", "陈静 (市委改革办)"]
    assert "comment (市司法局): 请补充社会稳定风险评估材料。" in shown and "留言（" not in shown


def test_a_refused_comment_is_said_and_kept_in_its_box(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    li = signed_in_client(demo_engine, "li")
    too_long = "请补充" * 700
    answer = li.post(f"/plans/{review['instance_id']}/comments", data={"plan-comment": too_long})
    shown = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "留言最多 2000 个字，现有 2100 个" in shown
    assert f">{too_long}</textarea>" in shown
    assert demo_engine.comments(review["instance_id"]) == []
    answer = li.post(f"/tasks/{review['id']}/comment", data={"plan-comment": "   "})
    assert answer.status_code == 400 and "留言内容不能为空" in answer.get_data(as_text=True)


def test_a_stopped_plan_takes_comments_from_the_reform_office_only(demo_engine):
    review = open_task(demo_engine, "DT-2015-04", "Task_LegalityReview")
    plan = f"/plans/{review['instance_id']}"
    demo_engine.cancel_plan(review["instance_id"], reason="与其他方案合并办理", actor="chen")
    li = signed_in_client(demo_engine, "li")
    shown = li.get(plan).get_data(as_text=True)
    assert "方案已结束，如需补充说明，请联系改革办。" in shown and 'name="plan-comment"' not in shown
    answer = li.post(f"{plan}/comments", data={"plan-comment": "请补充材料。"})
    assert answer.status_code == 409 and "不能再留言" in answer.get_data(as_text=True)
    chen = signed_in_client(demo_engine, "chen")
    assert 'name="plan-comment"' in chen.get(plan).get_data(as_text=True)
    assert chen.post(f"{plan}/comments", data={"plan-comment": "已并入 DT-2015-02。"}).status_code == 302
    assert [c["author"] for c in demo_engine.comments(review["instance_id"])] == ["chen"]


def test_the_assignee_comments_on_the_step_without_submitting_it_and_keeps_what_they_typed(live, page):
    engine = live.app.extensions["reformflow"]
    consultation = open_task(engine, "DT-2015-02", "Task_PublicConsultation")
    sign_in(page, live, "zhang")
    page.goto(f"{live.url}/tasks/{consultation['id']}")
    page.get_by_label("征求意见方式").fill("座谈会、网上公示")
    page.locator("#plan-comment").fill("座谈会定于下周三，纪要随后上传。")
    page.get_by_role("button", name="仅留言").click()
    expect(page.get_by_role("status")).to_contain_text("已留言，此环节尚未提交")
    comments = page.locator("ol.comments")
    expect(comments).to_contain_text("张伟（市财政局）")
    expect(comments).to_contain_text("关于 发布公开征求意见")
    expect(comments).to_contain_text("座谈会定于下周三，纪要随后上传。")
    expect(page.get_by_label("征求意见方式")).to_have_value("座谈会、网上公示")  # what they typed, kept
    expect(page.locator("#plan-comment")).to_have_value("")  # the comment sent, its box empty
    after = engine.task_view(consultation["id"])
    assert (after["status"], after["assignee"], after["version"]) == ("claimed", "zhang", consultation["version"])
    # the plan's page shows it too
    page.get_by_role("link", name=re.compile("DT-2015-02")).first.click()
    expect(page.locator("ol.comments")).to_contain_text("座谈会定于下周三，纪要随后上传。")
    expect(page.locator("ol.trail")).to_contain_text("留言（市财政局）（关于 发布公开征求意见")


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="(\d+)"', html).group(1)


def test_a_reload_after_a_comment_or_an_upload_adds_nothing_twice(demo_engine):
    """The browser's reload (or a double click) sends the same POST again: the comment or file
    that went through is kept once, the person is told so, and what they typed is still there."""
    consultation = open_task(demo_engine, "DT-2015-02", "Task_PublicConsultation")
    zhang = signed_in_client(demo_engine, "zhang")
    shown = zhang.get(f"/tasks/{consultation['id']}").get_data(as_text=True)
    sent = {"version": str(consultation["version"]), "consultationMethods": "座谈会",
            "plan-comment": "纪要随后上传。", "comments-seen": _hidden(shown, "comments-seen")}
    before = len(demo_engine.comments(consultation["instance_id"]))
    first = zhang.post(f"/tasks/{consultation['id']}/comment", data=sent).get_data(as_text=True)
    again = zhang.post(f"/tasks/{consultation['id']}/comment", data=sent).get_data(as_text=True)
    assert "已留言，此环节尚未提交" in first
    assert "这条留言已经发表，没有重复添加。" in again and ">座谈会</textarea>" in again
    assert len(demo_engine.comments(consultation["instance_id"])) == before + 1
    # the page after the first carries its comment: the same words sent from there are meant twice
    sent["comments-seen"] = _hidden(first, "comments-seen")
    zhang.post(f"/tasks/{consultation['id']}/comment", data=sent)
    assert len(demo_engine.comments(consultation["instance_id"])) == before + 2

    upload = {"version": str(consultation["version"]), "files-seen": _hidden(shown, "files-seen")}
    files = len(demo_engine.documents(consultation["instance_id"]))
    for _ in range(2):
        answer = zhang.post(f"/tasks/{consultation['id']}/attach", content_type="multipart/form-data",
                            data={**upload, "files": (io.BytesIO("座谈会纪要".encode()), "纪要.txt")})
    assert "附件「纪要.txt」已经上传，没有重复添加。" in answer.get_data(as_text=True)
    assert len(demo_engine.documents(consultation["instance_id"])) == files + 1

    # the plan page's box, posted twice from one page (a double click)
    plan = f"/plans/{consultation['instance_id']}"
    seen = _hidden(zhang.get(plan).get_data(as_text=True), "comments-seen")
    for _ in range(2):
        zhang.post(f"{plan}/comments", data={"plan-comment": "请改革办协调。", "comments-seen": seen})
    assert "这条留言已经发表，没有重复添加。" in zhang.get(plan).get_data(as_text=True)
    assert [c["text"] for c in demo_engine.comments(consultation["instance_id"])].count("请改革办协调。") == 1

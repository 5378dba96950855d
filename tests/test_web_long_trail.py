"""A plan with a long trail (returned to drafting, then much talk: comments, urges): its page lists
the newest lines of the trail and the newest comments, says how many there are in all and links
to 全部留言与办理经过, which lists every one; the redraft's page still says who sent it back and
why, though the return is older than everything said since. (How long the pages take: bench/trail.py.)"""
from __future__ import annotations

import re

from engine import task_page, urging
from engine.history import load_trail, plan_history

from .test_audit import tamper
from .test_web_daily_use import REASON, REVIEW_OPINION, _returned, page_text_of
from .web_helper import signed_in_client

SHOWN, COMMENTS_SHOWN = 50, 30  # web/plans.py TRAIL_SHOWN, COMMENTS_SHOWN


def _talked_about(engine):
    """A plan sent back by the 专项小组, then 35 comments and 25 urges on the redraft: the return
    is sixty events back."""
    plan = _returned(engine)
    draft = plan.task("Task_DraftPlan")
    for n in range(25):
        engine.comment(plan.id, f"改革办第{n}问：本轮修改到哪一步了？", actor="chen", task_id=draft["id"])
        urging.urge(engine, draft["id"], actor="chen", note=f"第{n}次催办：请于本周内完成修改。")
    for n in range(10):
        engine.comment(plan.id, f"起草人第{n}答：正在修改。", actor="zhang", task_id=draft["id"])
    return plan, draft


def _section(html: str, start: str, end: str = "</section>") -> str:
    found = re.search(re.escape(start) + r".*?" + re.escape(end), html, re.S)
    assert found, start
    return found.group(0)


def test_a_plans_page_lists_the_newest_of_a_long_trail_and_links_to_the_whole(demo_engine):
    plan, _ = _talked_about(demo_engine)
    with demo_engine.db.reader() as s:
        every = plan_history(s, plan.id)["events"]
    chen = signed_in_client(demo_engine, "chen")
    page = chen.get(f"/plans/{plan.id}").get_data(as_text=True)

    trail = _section(page, '<section id="trail">')
    said = page_text_of(trail)
    assert f"办理经过共 {len(every)} 条，这里列出最近 {SHOWN} 条。 查看全部办理经过" in said
    assert f'href="/plans/{plan.id}/trail#trail"' in trail  # past the comments listed first there
    assert trail.count("<li") == SHOWN
    assert "data-earlier-broken" not in page  # nothing changed
    assert "起草人第9答：正在修改。" in said  # the newest
    assert "发起方案" not in said and "改革办第0问" not in said  # the oldest, behind the link

    comments = _section(page, '<section class="comments" id="comments">')
    assert "共 35 条留言，这里列出最近 30 条。 查看全部留言" in page_text_of(comments)
    assert f'href="/plans/{plan.id}/trail#comments"' in comments
    assert comments.count("data-comment=") == COMMENTS_SHOWN
    assert "起草人第9答" in comments and "改革办第4问" not in comments and "改革办第5问" in comments
    # the comment box still carries the newest comment: a reload that sends it again adds nothing
    newest = demo_engine.comments(plan.id)[-1]
    assert f'name="comments-seen" value="{newest["id"]}"' in page


def test_the_whole_trail_and_every_comment_are_one_link_away(demo_engine):
    plan, _ = _talked_about(demo_engine)
    with demo_engine.db.reader() as s:
        every = plan_history(s, plan.id)["events"]
    answer = signed_in_client(demo_engine, "zhang").get(f"/plans/{plan.id}/trail")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    trail = _section(page, '<section id="trail">')
    lines = re.findall(r"<li.*?</li>", trail, re.S)
    assert len(lines) == len(every) > SHOWN
    assert "发起方案" in page_text_of(lines[0]) and "起草人第9答" in page_text_of(lines[-1])
    returned = [page_text_of(line) for line in lines if "专项小组审核把关" in line and "退回修改" in line]
    assert len(returned) == 1 and REASON in returned[0]
    comments = _section(page, '<section class="comments" id="comments">')
    assert "共 35 条留言，从最早的一条起。" in page_text_of(comments)
    assert comments.count("data-comment=") == 35 and "改革办第0问" in comments
    assert f'href="/plans/{plan.id}"' in page  # back to the plan


def test_the_whole_trail_is_shown_only_to_whoever_may_see_the_plan(demo_engine):
    plan, _ = _talked_about(demo_engine)
    zhao = signed_in_client(demo_engine, "zhao")  # of no step of it
    refused = zhao.get(f"/plans/{plan.id}")
    assert refused.status_code != 200
    answer = zhao.get(f"/plans/{plan.id}/trail")
    assert answer.status_code == refused.status_code
    assert "起草人第9答" not in answer.get_data(as_text=True)


def test_a_short_trail_is_listed_whole_without_a_link(demo_engine):
    plan = _returned(demo_engine)
    page = signed_in_client(demo_engine, "chen").get(f"/plans/{plan.id}").get_data(as_text=True)
    trail = _section(page, '<section id="trail">')
    with demo_engine.db.reader() as s:
        assert trail.count("<li") == len(plan_history(s, plan.id)["events"]) < SHOWN
    assert "查看全部办理经过" not in page and "查看全部留言" not in page
    assert "发起方案" in page_text_of(trail)


def test_the_redraft_says_who_sent_it_back_though_the_return_is_far_back(demo_engine):
    plan, draft = _talked_about(demo_engine)
    page = signed_in_client(demo_engine, "zhang").get(f"/tasks/{draft['id']}").get_data(as_text=True)
    said = page_text_of(_section(page, '<section class="returned"'))
    assert "孙强" in said and "在「专项小组审核把关」退回" in said
    assert REVIEW_OPINION in said and REASON in said
    comments = _section(page, '<section class="comments" id="comments">')
    assert "共 35 条留言，这里列出最近 30 条。 查看全部留言" in page_text_of(comments)
    assert f'href="/plans/{plan.id}/trail#comments"' in comments


def test_a_task_page_reads_the_same_materials_from_the_completions_alone(demo_engine):
    """送审材料一览 and 退回修改 from the completions (what a task's page reads) are what the
    whole trail gives, on a plan with every procedure done and returned at the risk assessment."""
    plan = _returned(demo_engine)
    plan.run_until("Task_SpecialGroupReview")
    with demo_engine.db.reader() as s:
        whole = load_trail(s, plan.id)
        completions = load_trail(s, plan.id, kinds=task_page.PAGE_EVENTS)
        assert len(completions.events) < len(whole.events)
        assert task_page.materials(s, plan.id, completions) == task_page.materials(s, plan.id, whole)
        redrafts = [e.task_id for e in whole.events if e.event_type == "task_created"
                    and whole.tasks[e.task_id].element_id == "Task_DraftPlan"]
        assert len(redrafts) == 2
        assert task_page.returned_by(s, completions, redrafts[0]) is None  # the first draft: no return
        back = task_page.returned_by(s, completions, redrafts[1])
        assert back["actor"] == "sun" and back["name"] == "专项小组审核把关"
        assert REASON in [v["value"] for v in back["values"]]


def test_the_newest_events_of_a_trail_are_its_last(demo_engine):
    plan, _ = _talked_about(demo_engine)
    with demo_engine.db.reader() as s:
        every = plan_history(s, plan.id)
        newest = plan_history(s, plan.id, newest=SHOWN)
        few = plan_history(s, plan.id, newest=len(every["events"]) + 5)
    assert [e["seq"] for e in newest["events"]] == [e["seq"] for e in every["events"][-SHOWN:]]
    assert newest["total"] == few["total"] == len(every["events"])
    assert few["events"] == every["events"]


def test_the_notices_and_the_whole_trail_in_english(demo_engine):
    plan, _ = _talked_about(demo_engine)
    with demo_engine.db.reader() as s:
        total = len(plan_history(s, plan.id)["events"])
    chen = signed_in_client(demo_engine, "chen", language="en")
    said = page_text_of(chen.get(f"/plans/{plan.id}").get_data(as_text=True))
    assert f"The trail has {total} entries; the newest {SHOWN} are listed here. See the whole trail" in said
    assert "35 comments in all; the newest 30 are listed here. See all comments" in said
    whole = page_text_of(chen.get(f"/plans/{plan.id}/trail").get_data(as_text=True))
    assert "All comments and the whole trail" in whole
    assert "35 comments, oldest first." in whole and f"{total} entries, oldest first." in whole


def test_a_changed_line_older_than_those_listed_is_still_flagged_on_the_plans_page(demo_engine):
    plan, _ = _talked_about(demo_engine)
    with demo_engine.db.reader() as s:
        first = plan_history(s, plan.id)["events"][0]["seq"]  # 发起方案: behind the link
    tamper(demo_engine.db, "UPDATE audit_events SET actor = 'wang' WHERE seq = :seq", seq=first)
    page = signed_in_client(demo_engine, "chen").get(f"/plans/{plan.id}").get_data(as_text=True)
    trail = _section(page, '<section id="trail">')
    assert 'data-earlier-broken="1"' in trail
    assert "未列出的较早记录中有 1 条与其哈希不符，可能被改动过" in page_text_of(trail)
    assert 'class="untrusted"' not in trail  # the line itself is not among those listed
    whole = signed_in_client(demo_engine, "chen").get(f"/plans/{plan.id}/trail").get_data(as_text=True)
    assert whole.count('class="untrusted"') == 1

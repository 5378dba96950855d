"""People come, move and leave: the reform office lists users and groups, changes a user's unit
or roles, and deactivates someone who left, whose tasks go back to their colleagues."""
from __future__ import annotations

import pytest

from engine.demo import STANDARD_ANSWERS
from engine.drive import answer_for
from engine.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import FIXTURES, read
from .plan_helper import Plan, audit_payloads
from .test_cli import as_json, cli  # noqa: F401 - the command line on a fresh SQLite database


def _events(engine, kind: str) -> list[dict]:
    return audit_payloads(engine, None, kind)


def test_a_leavers_tasks_go_back_to_their_group_and_later_ones_open_for_it(library):
    """zhang drafts the plan and leaves. The task he holds returns to the drafters; the next step
    the diagram gives to `${initiator}` (zhang) opens for them too, instead of waiting for him."""
    plan = Plan(library)
    [register] = plan.refresh()["tasks"]
    assert (register["element_id"], register["status"], register["assignee"]) == ("Task_RegisterPlan", "claimed", "zhang")
    assert [u["holding"] for u in library.users() if u["username"] == "zhang"] == [1]

    left = library.deactivate_user("zhang", actor="chen")
    assert (left["active"], [t["id"] for t in left["returned"]], left["to_assign"]) == (False, [register["id"]], [])
    register = plan.task("Task_RegisterPlan")
    assert (register["status"], register["assignee"]) == ("open", None)
    [unclaimed] = audit_payloads(library, plan.id, "task_unclaimed")
    assert (unclaimed["old"], unclaimed["reason"]) == ({"assignee": "zhang"}, "user_deactivated")
    with pytest.raises(Forbidden, match="不存在或已停用"):
        library.claim(register["id"], actor="zhang")
    assert "zhang" not in [u["username"] for u in library.users()]
    assert [u["active"] for u in library.users(include_inactive=True) if u["username"] == "zhang"] == [False]

    # wang, a fellow drafter of his unit, takes it over; the next step, for ${initiator}, is open
    # to the drafters of the lead unit
    library.claim(register["id"], actor="wang")
    library.complete(register["id"], actor="wang",
                     data=answer_for(STANDARD_ANSWERS, register, 0) | {"leadUnit": "市财政局"})
    research = plan.task("Task_Research")
    assert (research["status"], research["assignee"], research["candidate_groups"], research["candidate_unit"]) == \
        ("open", None, ["drafter"], "市财政局")
    created = [e for e in audit_payloads(library, plan.id, "task_created") if e["element_id"] == "Task_Research"]
    assert [(e["assignee"], e["assignee_inactive"]) for e in created] == [(None, "zhang")]
    library.claim(research["id"], actor="wang")

    # back from leave: a new plan's tasks are his again; those handed on stay where they went
    library.reactivate_user("zhang", actor="chen")
    assert plan.task("Task_Research")["assignee"] == "wang"
    assert Plan(library).refresh()["tasks"][0]["assignee"] == "zhang"
    assert [e["username"] for e in _events(library, "user_deactivated")] == ["zhang"]
    assert [e["username"] for e in _events(library, "user_reactivated")] == ["zhang"]
    assert plan.audit_ok()


def test_a_task_only_the_leaver_could_do_is_listed_for_the_office(library):
    """A task with no candidates but its assignee cannot go back to anyone: it stays, and the
    office is told to assign it (to itself, as a task without candidates allows)."""
    library.deploy([read(FIXTURES / "corpus" / "initiator.bpmn")])  # 发起人确认: camunda:assignee="${starter}" alone
    own = library.start("corpus_initiator", actor="wang")["tasks"][0]
    left = library.deactivate_user("wang", actor="chen")
    assert (left["returned"], [t["id"] for t in left["to_assign"]], left["holding"]) == ([], [own["id"]], 1)
    assert library.instance(own["instance_id"])["tasks"][0]["assignee"] == "wang"
    library.assign(own["id"], to="chen", actor="chen", reassign=True)
    library.complete(own["id"], actor="chen")
    assert library.instance(own["instance_id"])["status"] == "completed"


def test_an_open_task_whose_only_candidate_leaves_is_listed_for_the_office(library):
    name, xml = read(FIXTURES / "corpus" / "initiator.bpmn")
    assert xml.count(b'camunda:assignee="${starter}"') == 1
    library.deploy([(name, xml.replace(b'camunda:assignee="${starter}"', b'camunda:candidateUsers="${starter}"'))])
    waiting = library.start("corpus_initiator", actor="wang")["tasks"][0]
    assert (waiting["status"], waiting["candidate_users"]) == ("open", ["wang"])
    left = library.deactivate_user("wang", actor="chen")
    assert (left["returned"], [t["id"] for t in left["to_assign"]], left["holding"]) == ([], [waiting["id"]], 0)
    # nobody may take it now but the reform office, as a task without candidates
    with pytest.raises(Forbidden, match="不是任务"):
        library.assign(waiting["id"], to="zhang", actor="chen")
    library.assign(waiting["id"], to="chen", actor="chen")
    library.complete(waiting["id"], actor="chen")


def test_only_the_office_changes_users_and_not_its_own_account(library):
    with pytest.raises(Forbidden, match="只有改革办可以修改用户"):
        library.deactivate_user("wang", actor="zhang")
    with pytest.raises(Forbidden, match="只有改革办可以修改用户"):
        library.update_user("wang", unit="市发改委", actor="zhang")
    with pytest.raises(Forbidden, match="不能停用自己的账号"):
        library.deactivate_user("chen", actor="chen")
    with pytest.raises(NotFound):
        library.deactivate_user("nobody", actor="chen")
    library.deactivate_user("wang", actor="chen")
    with pytest.raises(Conflict, match="已停用"):
        library.deactivate_user("wang", actor="chen")
    with pytest.raises(Conflict, match="未停用"):
        library.reactivate_user("zhang", actor="chen")
    assert _events(library, "user_changed") == [] and len(_events(library, "user_deactivated")) == 1


def test_the_reform_office_keeps_at_least_one_member(library):
    """chen, the office's only member, took the role off himself: nobody could then change users,
    enter the calendar or assign tasks. With a colleague in the office he may hand it over."""
    with pytest.raises(Conflict, match="改革办至少要有一位在岗成员"):
        library.update_user("chen", remove_groups=["reform_office"], actor="chen")
    assert [u["username"] for u in library.users(group="reform_office")] == ["chen"]
    library.update_user("wang", add_groups=["reform_office"], actor="chen")
    library.deactivate_user("wang", actor="chen")  # a colleague who has left does not count
    with pytest.raises(Conflict, match="改革办至少要有一位在岗成员"):
        library.update_user("chen", remove_groups=["reform_office"], actor="chen")
    library.reactivate_user("wang", actor="chen")
    moved = library.update_user("chen", remove_groups=["reform_office"], unit="市发改委", actor="chen")
    assert moved["groups"] == [] and [u["username"] for u in library.users(group="reform_office")] == ["wang"]


def test_a_move_to_another_unit_and_role_is_recorded_and_nothing_else(library):
    moved = library.update_user("wang", unit="市发改委", add_groups=["participant"], actor="chen")
    assert (moved["unit"], moved["groups"], moved["changed"]) == ("市发改委", ["drafter", "participant"], ["unit", "groups"])
    [event] = _events(library, "user_changed")
    assert event["old"] == {"unit": "市财政局", "groups": ["drafter"]}
    assert event["new"] == {"unit": "市发改委", "groups": ["drafter", "participant"]}
    same = library.update_user("wang", unit="市发改委", actor="chen")
    assert same["changed"] == [] and len(_events(library, "user_changed")) == 1
    library.update_user("wang", remove_groups=["drafter"], display_name="王芳芳", actor="chen")
    assert [(u["display_name"], u["groups"]) for u in library.users(group="participant") if u["username"] == "wang"] == [
        ("王芳芳", ["participant"])]
    assert "wang" not in [u["username"] for u in library.users(group="drafter")]
    with pytest.raises(Invalid, match="角色不存在：nosuch"):
        library.update_user("wang", add_groups=["nosuch"], actor="chen")
    with pytest.raises(Invalid, match="角色不存在：reform_ofice"):  # a typo was "nothing changed"
        library.update_user("wang", remove_groups=["reform_ofice"], actor="chen")
    with pytest.raises(Invalid, match="既加入又移除"):
        library.update_user("wang", add_groups=["legal"], remove_groups=["legal"], actor="chen")
    assert {g["code"]: g["members"] for g in library.groups()}["drafter"] == 1


def test_a_change_made_since_the_office_member_read_the_user_is_a_conflict(library):
    """The web's user page sends what it showed (`expected`): another office member's change in
    between is refused, not silently undone by the older page."""
    seen = {"display_name": "王芳", "unit": "市财政局", "groups": ["drafter"]}
    library.update_user("wang", add_groups=["participant"], actor="chen")  # meanwhile
    with pytest.raises(Conflict, match=r"用户 wang 刚被其他人修改过，请刷新后重试 \(the user wang was changed"):
        library.update_user("wang", unit="市发改委", actor="chen", expected=seen)
    assert [u["unit"] for u in library.users() if u["username"] == "wang"] == ["市财政局"]
    moved = library.update_user("wang", unit="市发改委", actor="chen", expected={**seen, "groups": ["drafter", "participant"]})
    assert moved["changed"] == ["unit"]


@pytest.mark.parametrize("name", ["市\n财政局", "张\x1b[2J伟", "王\u202e芳"])
def test_a_name_with_a_control_or_invisible_character_is_refused(library, name):
    """A unit typed with a line break split its users-list and ledger lines; an escape sequence
    in a display name ran in the office's terminal; a right-to-left mark reversed what follows."""
    with pytest.raises(Invalid, match="控制字符或不可见字符"):
        library.update_user("wang", unit=name, actor="chen")
    with pytest.raises(Invalid, match="控制字符或不可见字符"):
        library.update_user("wang", display_name=name, actor="chen")
    with pytest.raises(Invalid, match="控制字符或不可见字符"):
        library.add_user("newcomer", name, actor="chen")
    assert _events(library, "user_changed") == []


def test_users_and_groups_from_the_command_line(cli):  # noqa: F811
    listed = as_json(cli("users", "list", "--json"))["users"]
    assert [(u["username"], u["groups"], u["active"]) for u in listed] == [
        ("chen", ["reform_office"], True), ("li", ["legal"], True), ("zhang", ["drafter"], True)]
    assert cli("users", "list", "--group", "legal").stdout == "li 李娜（未填单位）角色 (groups)：legal；手头待办 (holding) 0\n"
    typo = cli("users", "list", "--group", "legl", ok=False)  # not an empty list, as if nobody were in it
    assert (typo.exit_code, typo.stdout) == (5, "") and "角色 legl 不存在" in typo.stderr
    moved = cli("users", "update", "li", "--unit", "市司法局", "--add-group", "drafter", "--as", "chen").stdout
    assert moved == "li 李娜（市司法局）角色 (groups)：drafter, legal；手头待办 (holding) 0\n"
    usage = cli("users", "update", "li", "--as", "chen", ok=False)
    assert usage.exit_code == 2 and "至少指定一项修改" in usage.stderr
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    plan = as_json(cli("start", "mini_approval", "--as", "zhang", "--json"))
    left = cli("users", "deactivate", "zhang", "--as", "chen").stdout
    assert left == f"已停用 zhang 张伟 (deactivated)\n  交回 (back to) drafter：方案 (plan) {plan['id']} 待办 (task) " \
                   f"{plan['tasks'][0]['id']} 起草\n"
    assert "交回 (unclaimed) 起草：办理人已停用，交回候选人 (holder deactivated)" in cli("history", str(plan["id"])).stdout
    assert "zhang" not in cli("users", "list").stdout
    assert "zhang 张伟（市财政局）角色 (groups)：drafter；手头待办 (holding) 0 [已停用 deactivated]" in cli("users", "list", "--all").stdout
    assert cli("users", "reactivate", "zhang", "--as", "chen").stdout == "已启用 zhang 张伟 (reactivated)\n"
    groups = {g["code"]: g["members"] for g in as_json(cli("groups", "list", "--json"))["groups"]}
    assert groups == {"drafter": 2, "legal": 1, "reform_office": 1}


def test_the_ledger_marks_a_holder_who_has_left(library):
    """A task only the leaver could do stays with them: the office sees on the ledger that its
    holder has gone."""
    library.deploy([read(FIXTURES / "corpus" / "initiator.bpmn")])  # 发起人确认: camunda:assignee="${starter}" alone
    own = library.start("corpus_initiator", actor="wang")["tasks"][0]
    library.deactivate_user("wang", actor="chen")
    [row] = [r for r in library.ledger() if r["id"] == own["instance_id"]]
    assert [t["holder"] for t in row["current"]] == ["王芳（已停用 deactivated）"]


def test_a_leaver_has_no_inbox(cli):  # noqa: F811
    """docs/cli.md: every command refuses a deactivated user. `tasks --as` still listed the open
    tasks of the leaver's group as claimable by them, which they could not claim."""
    cli("deploy", str(FIXTURES / "diagrams" / "mini_approval.bpmn"))
    cli("users", "add", "wang", "--display-name", "王芳", "--group", "drafter")
    cli("start", "mini_approval", "--as", "zhang")
    cli("users", "deactivate", "zhang", "--as", "chen")
    assert len(as_json(cli("tasks", "--as", "wang", "--json"))["tasks"]) == 1  # back to the drafters
    for scope in ("all", "mine", "claimable"):
        refused = cli("tasks", "--as", "zhang", "--scope", scope, ok=False)
        assert (refused.exit_code, refused.stdout) == (4, "")
        assert "用户 zhang 不存在或已停用；请核对用户名，在岗人员见 reformflow users list (unknown or inactive user: check the name; `reformflow users list` lists who is active)" in refused.stderr
    cli("users", "reactivate", "zhang", "--as", "chen")
    assert len(as_json(cli("tasks", "--as", "zhang", "--json"))["tasks"]) == 1

"""What a hostile diagram found at deploy: a long file name, values longer than the database keeps,
two files sharing a subprocess id, a chain of steps longer than the engine's reader follows. Each
is refused by `check` and deploy alike, on every database, naming the file, the element and the
problem, and nothing is deployed."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import modeler
from engine.checks import check_files
from engine.errors import Invalid
from engine.diagram_limits import MAX_CHAIN
from models import HumanTask, ProcessDefinition

from .conftest import BPMN, FIXTURES
from .test_checks import CLEAN, diagram, flows, simple
from .test_modeler_toolchain import requires_modeler
from .web_helper import signed_in_client


@pytest.fixture
def no_lint(monkeypatch):
    """The small diagrams here are not drawn (no bpmndi): the Modeler's lint is not what is tested."""
    monkeypatch.setattr(modeler, "toolchain_status", lambda: (False, "not in this test"))


def _definitions(engine) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(ProcessDefinition)).scalar_one()


def _refused(engine, files) -> Invalid:
    before = _definitions(engine)
    with pytest.raises(Invalid) as refused:
        engine.deploy(files, actor="chen")
    assert _definitions(engine) == before  # nothing deployed
    return refused.value


# --------------------------------------------------------------------------- 1. long file names

@requires_modeler
def test_a_file_name_longer_than_the_file_system_takes_is_checked_and_deployed(engine, people):
    """'改' × 83 + '.bpmn' (254 bytes) crashed the Modeler lint with OSError: File name too long
    (HTTP 500 on the web, which takes names of up to 200 characters): the lint's files are numbered
    now, and its findings come back under the analyst's own file name."""
    assert modeler.toolchain_status()[0]
    name = "改" * 195 + ".bpmn"  # 590 bytes
    unnamed = CLEAN.replace('<bpmn:userTask id="Task_A" name="审核"'.encode(), b'<bpmn:userTask id="Task_A"')
    report = check_files([(name, unnamed), ("b.bpmn", CLEAN.replace(b'id="p"', b'id="q"'))])
    assert report.modeler_lint == "ran"
    assert ("modeler/label-required", name, "Task_A") in {(p["rule"], p["file"], p["element_id"]) for p in report.problems}
    assert {p["file"] for p in report.problems} <= {name, "b.bpmn"}
    [result] = engine.deploy([(name, (FIXTURES / "modeler" / "clean.bpmn").read_bytes())], actor="chen")
    assert (result["status"], result["file_name"], result["modeler_lint"]) == ("created", name, "ran")


# --------------------------------------------------------------------------- 2. what the columns keep

def _lane(name: str) -> str:
    return ('<bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="' + name + '">'
            '<bpmn:flowNodeRef>Task_A</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>')


TOO_LONG = [
    # (what, diagram, element, limit)
    ("流程名称", CLEAN.replace('name="测试"'.encode(), ('name="' + "流" * 301 + '"').encode()), "p", 300),
    ("id", CLEAN.replace(b'id="p"', b'id="' + b"k" * 201 + b'"'), "k" * 60 + "…", 200),
    ("任务名称", CLEAN.replace('name="审核"'.encode(), ('name="' + "审" * 301 + '"').encode()), "Task_A", 300),
    ("id", simple('<bpmn:userTask id="Task_' + "A" * 200 + '" camunda:candidateGroups="legal" />',
                  "Task_" + "A" * 200), "Task_" + "A" * 55 + "…", 200),
    ("泳道名称", diagram(_lane("道" * 201) + '<bpmn:startEvent id="StartEvent_1" />'
                       '<bpmn:userTask id="Task_A" camunda:candidateGroups="legal" /><bpmn:endEvent id="Event_End" />'
                       + flows(("StartEvent_1", "Task_A"), ("Task_A", "Event_End"))), "Lane_1", 200),
    ("camunda:candidateGroups 中的名称",
     simple('<bpmn:userTask id="Task_A" camunda:candidateGroups="legal, ' + "g" * 65 + '" />'), "Task_A", 64),
    ("camunda:assignee", simple('<bpmn:userTask id="Task_A" camunda:assignee="' + "u" * 65 + '" />'), "Task_A", 64),
    ("camunda:initiator 变量名", CLEAN.replace(b'<bpmn:startEvent id="StartEvent_1"',
                                           b'<bpmn:startEvent id="StartEvent_1" camunda:initiator="' + b"v" * 201 + b'"'),
     "StartEvent_1", 200),
]


@pytest.mark.parametrize("what, xml, element, limit", TOO_LONG, ids=[f"{t[0]}-{t[3]}" for t in TOO_LONG])
def test_a_value_longer_than_the_database_keeps_is_refused_at_check_on_every_database(engine, people, no_lint, what,
                                                                                       xml, element, limit):
    """A process name of 301 characters passed check and failed at deploy on PostgreSQL with
    "数据库无法使用：value too long for type character varying(300)", naming no file or element
    and blaming the database; SQLite stored a 100,000-character name."""
    report = check_files([("long.bpmn", xml)], use_modeler=False)
    [problem] = report.errors
    assert (problem["file"], problem["rule"], problem["element_id"]) == ("long.bpmn", "length", element)
    assert f"{what}「" in problem["message"] and f"上限 {limit} 个，请缩短" in problem["message"]
    assert f"the limit is {limit}: shorten it" in problem["message"]
    assert len(problem["message"]) < 400  # the value is cut short, not repeated whole
    refused = _refused(engine, [("long.bpmn", xml)])
    assert "long.bpmn" in refused.message and f"上限 {limit} 个" in refused.message
    assert "数据库" not in refused.message


def test_values_at_the_limits_deploy_on_every_database(engine, people, no_lint):
    xml = CLEAN.replace('name="测试"'.encode(), ('name="' + "流" * 300 + '"').encode()) \
        .replace(b'id="p"', b'id="' + b"k" * 200 + b'"').replace('name="审核"'.encode(), ('name="' + "审" * 300 + '"').encode())
    assert check_files([("long.bpmn", xml)], use_modeler=False).errors == []
    [result] = engine.deploy([("f" * 295 + ".bpmn", xml)], actor="chen")
    assert (result["status"], result["key"], len(result["name"])) == ("created", "k" * 200, 300)


def test_a_file_name_longer_than_the_column_is_named():
    report = check_files([("f" * 296 + ".bpmn", CLEAN)], use_modeler=False)
    [problem] = report.errors
    assert (problem["rule"], problem["element_id"]) == ("length", None)
    assert problem["message"].startswith("文件名「") and "有 301 个字符，上限 300 个" in problem["message"]


def test_a_hundred_thousand_character_name_is_cut_short_in_the_problem():
    xml = CLEAN.replace('name="测试"'.encode(), ('name="' + "流" * 100_000 + '"').encode())
    [problem] = check_files([("long.bpmn", xml)], use_modeler=False).errors
    assert problem["element_name"] == "流" * 30 + "…"
    assert "有 100000 个字符，上限 300 个" in problem["message"] and len(problem["message"]) < 300


# --------------------------------------------------------------------------- 3. a shared subprocess id

def test_two_files_with_the_same_subprocess_id_are_refused_naming_both_and_the_id(engine, people, no_lint):
    """A copy of legality_review.bpmn with only the process id changed: deployed with the original
    it gave `Duplicate process ID: SubProcess_Review`, naming neither file."""
    original = (BPMN / "legality_review.bpmn").read_text(encoding="utf-8")
    copy = original.replace('processRef="legality_review"', 'processRef="legality_review_pilot"') \
        .replace('<bpmn:process id="legality_review"', '<bpmn:process id="legality_review_pilot"')
    assert copy != original and "SubProcess_Review" in copy
    files = [("legality_review.bpmn", original.encode()), ("lr_copy.bpmn", copy.encode())]
    errors = check_files(files, use_modeler=False).errors
    assert [(p["file"], p["element_id"], p["rule"]) for p in errors] == [("lr_copy.bpmn", "SubProcess_Review", "bpmn")]
    message = errors[0]["message"]
    assert "子流程 id SubProcess_Review 在一起部署的 legality_review.bpmn 中也有" in message
    assert "give the subprocess in this file another id" in message and "Duplicate process ID" not in message
    refused = _refused(engine, files)
    assert "lr_copy.bpmn" in refused.message and "legality_review.bpmn" in refused.message
    assert "SubProcess_Review" in refused.message and "Duplicate process ID" not in refused.message
    # renamed in the copy, the two deploy together
    renamed = copy.replace("SubProcess_Review", "SubProcess_ReviewPilot")
    assert check_files([files[0], ("lr_copy.bpmn", renamed.encode())], use_modeler=False).errors == []


# --------------------------------------------------------------------------- 4. long chains of steps

def _chain(tasks: int, key: str = "chain") -> bytes:
    """start → Task_0 → … → Task_{tasks-1} → end: tasks + 2 steps in a row."""
    ids = ["StartEvent_1"] + [f"Task_{i}" for i in range(tasks)] + ["Event_End"]
    body = ('<bpmn:startEvent id="StartEvent_1" />'
            + "".join(f'<bpmn:userTask id="Task_{i}" name="办理{i}" camunda:candidateGroups="legal" />'
                      for i in range(tasks))
            + '<bpmn:endEvent id="Event_End" />' + flows(*zip(ids, ids[1:])))
    return diagram(body, key=key)


def test_a_chain_longer_than_the_engine_reads_is_refused_at_the_step_past_the_limit(engine, people, no_lint):
    """484 user tasks in a row: `不符合 BPMN 规范… RecursionError('maximum recursion depth
    exceeded…')` at EndEvent_1 on the command line; in the web, 480 already failed so."""
    xml = _chain(490)
    [problem] = check_files([("chain.bpmn", xml)], use_modeler=False).errors
    step = f"Task_{MAX_CHAIN - 1}"  # the start event is the first step
    assert (problem["file"], problem["rule"], problem["element_id"]) == ("chain.bpmn", "bpmn", step)
    assert f"一连串的第 {MAX_CHAIN + 1} 步（此处最长的一连串有 492 步），引擎最多能读取一连串 {MAX_CHAIN} 步" in problem["message"]
    assert "RecursionError" not in problem["message"]
    refused = _refused(engine, [("chain.bpmn", xml)])
    assert "chain.bpmn" in refused.message and step in refused.message and "RecursionError" not in refused.message


def test_a_chain_at_the_limit_deploys_and_runs(engine, people, no_lint):
    """MAX_CHAIN steps in a row (start, MAX_CHAIN - 2 tasks, end) are read, and a plan on them
    starts and moves on: the engine predicts its steps recursively too."""
    xml = _chain(MAX_CHAIN - 2)
    assert check_files([("chain.bpmn", xml)], use_modeler=False).errors == []
    engine.deploy([("chain.bpmn", xml)], actor="chen")
    plan = engine.start("chain", actor="li", title="长链")
    [task] = plan["tasks"]
    assert task["element_id"] == "Task_0"
    engine.claim(task["id"], actor="li")
    engine.complete(task["id"], actor="li")
    with engine.db.reader() as s:
        assert s.execute(select(HumanTask.element_id).where(HumanTask.status == "open")).scalars().all() == ["Task_1"]
    assert check_files([("chain.bpmn", _chain(MAX_CHAIN - 1))], use_modeler=False).errors != []


def test_a_chain_in_a_subprocess_counts_on_its_own():
    """Each process and subprocess is read on its own: a long stretch moved into a subprocess is
    one step of its parent."""
    inner_ids = ["Start_Inner"] + [f"Inner_{i}" for i in range(150)] + ["End_Inner"]
    inner = ('<bpmn:subProcess id="Sub_1"><bpmn:startEvent id="Start_Inner" />'
             + "".join(f'<bpmn:userTask id="Inner_{i}" camunda:candidateGroups="legal" />' for i in range(150))
             + '<bpmn:endEvent id="End_Inner" />'
             + flows(*zip(inner_ids, inner_ids[1:])).replace('id="Flow_', 'id="InnerFlow_') + "</bpmn:subProcess>")
    outer_ids = ["StartEvent_1", "Sub_1"] + [f"Task_{i}" for i in range(150)] + ["Event_End"]
    body = ('<bpmn:startEvent id="StartEvent_1" />' + inner
            + "".join(f'<bpmn:userTask id="Task_{i}" camunda:candidateGroups="legal" />' for i in range(150))
            + '<bpmn:endEvent id="Event_End" />' + flows(*zip(outer_ids, outer_ids[1:])))
    assert [p for p in check_files([("sub.bpmn", diagram(body))], use_modeler=False).errors if p["rule"] == "bpmn"] == []


def test_the_web_says_what_the_command_line_says_of_a_long_chain(demo_engine, no_lint):
    """The web's check reported the 480-step file with "RecursionError at EndEvent_1" where the
    command line deployed it: both now refuse it at the same step, with the same words."""
    client = signed_in_client(demo_engine, "chen")
    xml = _chain(480)
    from io import BytesIO
    for action in ("check", "deploy"):
        page = client.post("/definitions/deploy", data={"action": action, "files": (BytesIO(xml), "chain.bpmn")},
                           content_type="multipart/form-data")
        text = page.get_data(as_text=True)
        assert page.status_code in (200, 400)
        assert f"一连串的第 {MAX_CHAIN + 1} 步" in text and f"Task_{MAX_CHAIN - 1}" in text
        assert "RecursionError" not in text
    with demo_engine.db.reader() as s:
        assert s.execute(select(ProcessDefinition).where(ProcessDefinition.key == "chain")).first() is None


def test_a_four_megabyte_process_name_is_shortened_on_the_check_page(demo_engine, no_lint):
    """The check page's comparison with the deployed version showed a 1,300,000-character process
    name in full, twice (4 MB of page): shown to its first 300 characters, its length said."""
    from io import BytesIO
    client = signed_in_client(demo_engine, "chen")
    long_name = "备" * 1_300_000  # 3.9 MB in UTF-8, within the 5 MB a file may have
    xml = (BPMN / "filing.bpmn").read_bytes().replace('<bpmn:process id="filing" name="备案"'.encode(),
                                                      f'<bpmn:process id="filing" name="{long_name}"'.encode())
    page = client.post("/definitions/deploy", data={"action": "check", "files": (BytesIO(xml), "filing.bpmn")},
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-process="filing"' in text  # the comparison is there
    assert "备" * 300 + "…（共 1,300,000 字）" in text
    assert "备" * 301 not in text and len(text) < 200_000
    english = signed_in_client(demo_engine, "chen", language="en").post(
        "/definitions/deploy", data={"action": "check", "files": (BytesIO(xml), "filing.bpmn")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "备" * 300 + "… (1,300,000 characters)" in english

"""A diagram opened and saved again in Camunda Modeler with no change is the same content: the
Modeler writes attributes in its own order, `&amp;` as `&#38;`, namespace declarations in another
order, a form field's validation before its values, and `<a/>` for `<a>\n</a>`. Deploying it keeps
the version (as identical bytes do), and `changes` says nothing changed, not "layout only". A
shape moved is still a new version, said to change only the layout."""
from __future__ import annotations

import re

from click.testing import CliRunner

from engine import modeler
from engine.cli import main
from engine.demo import library_files
from engine.diagram_changes import against_deployed, between_versions, compare, same_content

from .conftest import ROOT
from .test_modeler_toolchain import requires_modeler
from .web_helper import signed_in_client

FILING = (ROOT / "bpmn" / "filing.bpmn").read_bytes()


def _resaved(data: bytes) -> bytes:
    """What a Modeler save with no change does to filing.bpmn (seen with tools/modeler/roundtrip.mjs)."""
    text = data.decode("utf-8")
    text = text.replace("&amp;", "&#38;").replace("&gt;", "&#62;")
    text = text.replace(' xmlns:modeler="http://camunda.org/schema/modeler/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
                        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:modeler="http://camunda.org/schema/modeler/1.0"', 1)
    text = text.replace('<bpmn:userTask id="Task_PublicNotice" name="通报逾期未备案"',
                        '<bpmn:userTask name="通报逾期未备案" id="Task_PublicNotice"', 1)
    values = ('            <camunda:value id="notice" name="予以通报" />\n'
              '            <camunda:value id="filed_in_time" name="已在限期内报送，不予通报" />\n')
    validation = re.search(r'(?<=不予通报" />\n)( +<camunda:validation>\n.*?</camunda:validation>\n)', text, re.S).group(1)
    text = text.replace(values + validation, validation + values, 1)
    return text.encode("utf-8")


def _moved(data: bytes) -> bytes:
    return data.replace(b'<dc:Bounds x="', b'<dc:Bounds x="1', 1)


def test_a_resave_with_no_change_is_the_same_content_and_says_nothing_changed():
    resaved = _resaved(FILING)
    assert resaved != FILING and same_content(FILING, resaved)
    result = compare(FILING, resaved, "filing")
    assert (result["changes"], result["unchanged"], result["layout_only"]) == ([], True, False)


def test_a_moved_shape_is_a_layout_change_and_a_changed_comment_a_change_of_the_file_only():
    moved = compare(FILING, _moved(_resaved(FILING)), "filing")
    assert (moved["unchanged"], moved["layout_only"], moved["file_only"]) == (False, True, False)
    noted = FILING.replace(b"<bpmn:process ", b"<!-- a note -->\n  <bpmn:process ", 1)
    commented = compare(FILING, noted, "filing")
    assert (commented["unchanged"], commented["layout_only"], commented["file_only"]) == (False, False, True)
    assert not same_content(FILING, noted)


def test_deploying_a_resave_keeps_the_version_and_a_moved_shape_makes_one(sqlite_engine):
    engine = sqlite_engine
    [first] = engine.deploy([("filing.bpmn", FILING)])
    [again] = engine.deploy([("filing.bpmn", _resaved(FILING))])
    assert (again["status"], again["version"], again["sha256"]) == ("unchanged", 1, first["sha256"])
    [moved] = engine.deploy([("filing.bpmn", _moved(_resaved(FILING)))])
    assert (moved["status"], moved["version"]) == ("created", 2)


def test_changes_and_deploy_on_the_command_line(tmp_path, sqlite_engine):
    url = str(sqlite_engine.db.url)
    runner = CliRunner()
    assert runner.invoke(main, ["--db", url, "deploy", str(ROOT / "bpmn" / "filing.bpmn")]).exit_code == 0
    resaved, moved = tmp_path / "filing.bpmn", tmp_path / "moved.bpmn"
    resaved.write_bytes(_resaved(FILING))
    moved.write_bytes(_moved(FILING))
    said = runner.invoke(main, ["--db", url, "changes", str(resaved)]).stdout
    assert said == (f"filing（v1 → {resaved}）：内容与已部署的版本相同，部署时不新增版本 "
                    "(the same content as deployed: deploying it adds no version)\n")
    assert "只改了图形布局" in runner.invoke(main, ["--db", url, "changes", str(moved)]).stdout
    deployed = runner.invoke(main, ["--db", url, "deploy", str(resaved)])
    assert deployed.stdout == "filing v1 内容未变，未新增版本 (unchanged)\n"


def test_a_version_deployed_before_as_a_resave_is_said_to_be_written_differently(sqlite_engine):
    """Versions deployed before this rule may be re-saves: 与上一版比较 says so."""
    engine = sqlite_engine
    engine.deploy([("filing.bpmn", FILING)])
    with engine.db.transaction() as s:  # a second version as deploy made it before: bytes differed
        from models import ProcessDefinition
        first = s.query(ProcessDefinition).one()
        s.add(ProcessDefinition(key="filing", version=2, name=first.name, file_name="filing.bpmn",
                                bpmn_xml=_resaved(FILING).decode(), sha256="0" * 64, spec_json=first.spec_json,
                                called_keys=first.called_keys, start_config=first.start_config,
                                deployed_at=first.deployed_at, deployed_by="system"))
    with engine.db.reader() as s:
        assert between_versions(s, "filing", 2)["unchanged"]
        assert against_deployed(s, [("filing.bpmn", FILING)])[0]["unchanged"]


def test_the_check_page_says_a_resave_is_the_same_content(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    page = client.post("/definitions/deploy", data={"action": "check", "files": [
        (__import__("io").BytesIO(_resaved(FILING)), "filing.bpmn")]}, content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert "与已部署的第 1 版内容相同，部署时不新增版本。" in text and "只改了图形布局" not in text


@requires_modeler
def test_every_library_diagram_saved_again_in_the_modeler_deploys_as_unchanged(sqlite_engine, tmp_path):
    engine = sqlite_engine
    engine.deploy(library_files())
    resaved = []
    for name, data in library_files():
        (tmp_path / name).write_bytes(data)
        resaved.append((name, modeler.roundtrip(str(tmp_path / name)).encode("utf-8")))
    assert any(data != dict(library_files())[name] for name, data in resaved)
    assert {r["status"] for r in engine.deploy(resaved)} == {"unchanged"}
    with engine.db.reader() as s:
        assert all(p["unchanged"] and not p["layout_only"] for p in against_deployed(s, resaved))

"""A reform office's first day: its staff entered from one spreadsheet (`reformflow users import`),
all or nothing, each user on the trail as `users add` puts one there; the template to start from."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from engine import user_file
from engine.audit import iter_events, verify
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid
from engine.passwords import matches

HEADING = "用户名,姓名,单位,角色,邮箱,初始密码\n"


def _csv(text: str, *, bom: bool = True) -> bytes:
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _users(engine) -> dict[str, dict]:
    return {u["username"]: u for u in engine.users(include_inactive=True)}


def _events(engine, kind: str) -> list[dict]:
    with engine.db.reader() as s:
        return [{**e, "payload": json.loads(e["payload"])} for e in iter_events(s) if e["event_type"] == kind]


def _hash(engine, username: str) -> str | None:
    from sqlalchemy import select

    from models import User
    with engine.db.reader() as s:
        return s.execute(select(User.password_hash).where(User.username == username)).scalar_one()


def test_a_csv_adds_each_user_as_users_add_would_with_groups_by_code_or_name(engine, people):
    people_file = user_file.read("人员.csv", _csv(
        HEADING + "qianli,钱力,市发展改革委,drafter,qianli@example.gov.cn,Qianli-2027!\n"
                  "\n"  # a blank row is left out, and the rows keep Excel's numbers
                  "sunyu,孙宇,市司法局,法制机构、专家,,\n"))
    result = engine.import_users(people_file, actor="chen")
    assert [(a["row"], a["username"], a["groups"], a["password"]) for a in result["added"]] == \
        [(2, "qianli", ["drafter"], True), (4, "sunyu", ["expert", "legal"], False)]
    assert "Qianli-2027!" not in json.dumps(result, ensure_ascii=False)  # never said back
    users = _users(engine)
    assert (users["qianli"]["display_name"], users["qianli"]["unit"], users["qianli"]["email"]) == \
        ("钱力", "市发展改革委", "qianli@example.gov.cn")
    assert users["sunyu"]["groups"] == ["expert", "legal"] and users["sunyu"]["unit"] == "市司法局"
    assert matches(_hash(engine, "qianli"), "Qianli-2027!")
    assert engine.has_password("sunyu") is False  # as `users add` without --password: sets the first one itself
    added = [e for e in _events(engine, "user_added") if e["payload"]["username"] in ("qianli", "sunyu")]
    assert [(e["actor"], e["payload"]) for e in added] == [
        ("chen", {"username": "qianli", "display_name": "钱力", "groups": ["drafter"], "unit": "市发展改革委",
                  "email": "qianli@example.gov.cn"}),
        ("chen", {"username": "sunyu", "display_name": "孙宇", "groups": ["expert", "legal"], "unit": "市司法局"})]
    assert len({e["seq"] for e in added}) == 2
    with engine.db.reader() as s:
        assert verify(s).ok
    again = engine.import_users(people_file, actor="chen")  # the same file again changes nothing
    assert (again["added"], again["changed"], [u["username"] for u in again["unchanged"]]) == ([], [], ["qianli", "sunyu"])
    assert "初始密码未使用" in again["unchanged"][0]["notes"][0]


def test_an_xlsx_with_english_headings_and_numbers_as_excel_keeps_them(engine, people):
    content = _xlsx([["Username", "Display name", "Unit", "Groups", "Email"],
                     [10086, "王五", "市财政局", "participant", None]])
    result = engine.import_users(user_file.read("staff.xlsx", content))
    assert [(a["username"], a["display_name"]) for a in result["added"]] == [("10086", "王五")]
    assert _events(engine, "user_added")[-1]["actor"] == "system"  # the operator, as `users add` without --as


def test_one_bad_row_refuses_the_whole_file_naming_each_row_and_column(engine, people):
    before = _users(engine)
    events = len(_events(engine, "user_added"))
    people_file = user_file.read("人员.csv", _csv(
        HEADING + "good1,好人,市财政局,drafter,,\n"
                  "bad1,坏人,市财政局,起草人,,\n"          # row 3: no such group
                  "good1,重复,,,,\n"                       # row 4: the username of row 2
                  "a b,空格,,,,\n"                         # row 5: a space
                  ",无名,,,,\n"                            # row 6: no username
                  "zhang,张伟伟,市财政局,drafter,,\n"      # row 7: exists with another name, no --update
                  "mail1,邮件,,drafter,not-an-address,\n"  # row 8
                  "pw1,密码,,drafter,,short\n", bom=False))
    with pytest.raises(Invalid) as refused:
        engine.import_users(people_file, actor="chen")
    said = {(p["row"], p["column"]) for p in refused.value.details}
    assert said == {(3, "角色"), (4, "用户名"), (5, "用户名"), (6, "用户名"), (7, "姓名"), (8, "邮箱"), (9, "初始密码")}
    message = refused.value.message
    assert "未导入任何用户" in message and "第 3 行“角色”列：没有角色“起草人”" in message
    assert "第 4 行“用户名”列：与第 2 行的用户名重复" in message and "--update" in message
    assert "row 7, column “姓名”: the user zhang exists with other data: display name “张伟” → “张伟伟”" in message
    assert "short" not in message
    assert _users(engine) == before and len(_events(engine, "user_added")) == events  # nothing at all
    preview = engine.import_users(people_file, actor="chen", dry_run=True)  # the same, as a preview
    assert {(p["row"], p["column"]) for p in preview["refused"]} == said
    assert [a["username"] for a in preview["added"]] == ["good1"] and _users(engine) == before


def test_with_update_an_existing_user_is_changed_as_users_update_would(engine, people):
    people_file = user_file.read("调整.csv", _csv(HEADING + "zhang,张伟,市发展改革委,drafter、expert,zhang@example.gov.cn,\n"
                                                          "wang,王芳,,,,\n"))  # blank cells: as it is
    with pytest.raises(Invalid, match="--update"):
        engine.import_users(people_file, actor="chen")
    with pytest.raises(Forbidden):  # changing users is the office's, not the operator's
        engine.import_users(people_file, update=True)
    result = engine.import_users(people_file, actor="chen", update=True)
    assert [(c["username"], sorted(c["changes"])) for c in result["changed"]] == \
        [("zhang", ["email", "groups", "unit"])]
    assert [u["username"] for u in result["unchanged"]] == ["wang"]
    zhang = _users(engine)["zhang"]
    assert (zhang["unit"], zhang["groups"], zhang["email"]) == ("市发展改革委", ["drafter", "expert"], "zhang@example.gov.cn")
    [changed] = _events(engine, "user_changed")
    assert (changed["actor"], changed["payload"]["old"]["unit"], changed["payload"]["new"]["groups"]) == \
        ("chen", "市财政局", ["drafter", "expert"])
    assert _users(engine)["wang"]["unit"] == "市财政局"


def test_only_the_office_imports(engine, people):
    people_file = user_file.read("a.csv", _csv(HEADING + "x1,某人,,,,\n"))
    with pytest.raises(Forbidden):
        engine.import_users(people_file, actor="zhang", dry_run=True)


def test_a_user_added_by_someone_else_between_the_check_and_the_import_is_a_conflict(engine, people, monkeypatch):
    """The passwords are hashed between the check and the transaction (30 s for 400): a colleague
    adding one of the file's users meanwhile makes the import a conflict, nothing entered."""
    from engine import user_import
    people_file = user_file.read("a.csv", _csv(HEADING + "late1,迟到,市财政局,drafter,,\nlate2,也迟,,drafter,,\n"))
    hashed = user_import.hashed

    def meanwhile(secrets, progress=None):
        engine.add_user("late1", "迟到", groups=["drafter"], unit="市财政局", actor="chen")
        return hashed(secrets, progress)
    monkeypatch.setattr(user_import, "hashed", meanwhile)
    with pytest.raises(Conflict, match="刚有其他人添加或修改了文件中的用户"):
        engine.import_users(people_file, actor="chen")
    assert "late2" not in _users(engine)


@pytest.mark.parametrize("name, content, said", [
    ("people.txt", b"x", "须为 Excel 表格（.xlsx）或 CSV 文件（.csv）"),
    ("people.xlsx", b"<html><script>alert(1)</script></html>", "内容不是 Excel 表格，而像是网页（HTML）"),
    ("people.xlsx", b"PK\x03\x04broken", "内容不是 Excel 表格"),
    ("people.csv", "用户名,姓名\n".encode("utf-16"), "不是 UTF-8 或 GB18030 编码的文本"),
    ("people.csv", b"name,unit\n", "至少含“用户名”和“姓名”两列"),
    ("people.csv", "用户名,姓名,电话\nx1,某人,123\n".encode(), "不认识的列：电话"),
    ("people.csv", "用户名,姓名\n".encode(), "只有表头，没有人员"),
    ("people.csv", b"", "没有内容"),
])
def test_a_file_that_is_no_list_of_people_is_refused_whole(name, content, said):
    with pytest.raises(Invalid, match=said):
        user_file.read(name, content)


def test_too_big_a_file_is_refused_by_bytes_and_by_rows():
    rows = "".join(f"u{n},某人{n}\n" for n in range(user_file.MAX_ROWS + 1))
    with pytest.raises(Invalid, match=f"有 {user_file.MAX_ROWS + 1} 行人员，最多 {user_file.MAX_ROWS} 行"):
        user_file.read("p.csv", ("用户名,姓名\n" + rows).encode())
    with pytest.raises(Invalid, match="超过 2 MB"):
        user_file.read("p.csv", b"a" * (user_file.MAX_BYTES + 1))


def test_a_gb18030_csv_as_excel_on_a_chinese_windows_saves_it_is_read():
    people_file = user_file.read("p.csv", "用户名,姓名,单位\nzhou2,周二,市委改革办\n".encode("gb18030"))
    assert people_file.rows[0].cells == {"username": "zhou2", "display_name": "周二", "unit": "市委改革办"}


@pytest.mark.parametrize("kind", [".xlsx", ".csv"])
def test_the_template_is_the_heading_and_an_example_the_import_takes(engine, people, tmp_path, kind):
    url = str(engine.db.url)
    path = tmp_path / f"模板{kind}"
    written = CliRunner().invoke(main, ["users", "template", str(path)])
    assert written.exit_code == 0, written.output
    people_file = user_file.read(path.name, path.read_bytes())
    assert list(people_file.headings.values()) == list(user_file.TEMPLATE[0])
    assert [r.cells["username"] for r in people_file.rows] == ["zhangwei"]
    said = CliRunner().invoke(main, ["--db", url, "users", "import", str(path), "--dry-run"])
    assert said.exit_code == 0, said.output + said.stderr
    assert "将添加 (to add) 第 2 行 zhangwei 张伟（市发展改革委）角色 (groups)：drafter、participant" in said.stdout
    assert _users(engine).get("zhangwei") is None


def test_the_command_line_import_refuses_with_every_problem_and_exit_3_and_never_prints_a_password(engine, people,
                                                                                                  tmp_path):
    url = str(engine.db.url)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(HEADING + "n1,新人,,nosuch,,Secret-pass-1\nn2,新人二,,drafter,,\n"))
    refused = CliRunner().invoke(main, ["--db", url, "users", "import", str(bad), "--as", "chen"])
    assert refused.exit_code == 3
    assert "第 2 行“角色”列：没有角色“nosuch”" in refused.stderr and "未导入任何用户" in refused.stderr
    assert "n2" not in {u for u in _users(engine)}
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(HEADING + "n1,新人,市委改革办,drafter,,Secret-pass-1\nn2,新人二,,drafter,,\n"))
    done = CliRunner().invoke(main, ["--db", url, "users", "import", str(good), "--as", "chen"])
    assert done.exit_code == 0, done.output + done.stderr
    assert "已添加 (added) 第 2 行 n1 新人（市委改革办）" in done.stdout and "尚无密码" in done.stdout
    assert "Secret-pass-1" not in done.stdout + done.stderr
    as_json = CliRunner().invoke(main, ["--db", url, "users", "import", str(good), "--as", "chen", "--json"])
    assert json.loads(as_json.stdout)["unchanged"][0]["username"] == "n1"
    assert "Secret-pass-1" not in as_json.stdout


def test_a_long_import_shows_its_progress_on_the_command_line(engine, people, tmp_path):
    many = tmp_path / "many.csv"
    many.write_bytes(_csv(HEADING + "".join(f"p{n:03},某人{n},第{n % 7}处,drafter,,\n" for n in range(120))))
    done = CliRunner().invoke(main, ["--db", str(engine.db.url), "users", "import", str(many), "--as", "chen"])
    assert done.exit_code == 0, done.stderr
    assert "写入用户：100/120 (users entered: 100 of 120)" in done.stderr
    assert "写入用户：120/120" in done.stderr
    assert sum(u.startswith("p") for u in _users(engine)) == 120


def test_a_workbook_claiming_a_huge_sheet_is_read_only_as_far_as_its_fields_go():
    """openpyxl pads every row to the width a sheet's <dimension> claims, and fills the gap to a
    stray cell far below: a 5 KB file took 820 MB and 5 s."""
    import re
    import tracemalloc
    import zipfile
    plain = zipfile.ZipFile(io.BytesIO(_xlsx([["用户名", "姓名"], ["wide1", "宽表"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as claimed:
        for item in plain.infolist():
            data = plain.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD6000"/>', data)
                # one stray cell far below and to the right: every row between padded to 16,384 cells
                data = data.replace(b"</sheetData>", b'<row r="6000"><c r="XFD6000" t="inlineStr"><is><t>x</t></is>'
                                                     b'</c></row></sheetData>')
                assert b"XFD6000" in data
            claimed.writestr(item, data)
    tracemalloc.start()
    try:
        people = user_file.read("wide.xlsx", out.getvalue())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.cells["username"] for r in people.rows] == ["wide1"]
    assert peak < 20_000_000, peak


def test_a_groups_cell_of_separators_alone_is_refused_not_read_as_no_groups(engine, people):
    people_file = user_file.read("a.csv", _csv(HEADING + "zhang,张伟,,、,,\n"))
    preview = engine.import_users(people_file, actor="chen", update=True, dry_run=True)
    assert [p["column"] for p in preview["refused"]] == ["角色"] and "只有分隔符" in preview["refused"][0]["message"]
    assert _users(engine)["zhang"]["groups"] == ["drafter"]


def test_the_operator_previews_changes_the_office_must_make(engine, people):
    people_file = user_file.read("a.csv", _csv(HEADING + "zhang,张伟,市发展改革委,,,\n"))
    preview = engine.import_users(people_file, update=True, dry_run=True)  # no --as: shown, not refused
    assert [c["username"] for c in preview["changed"]] == ["zhang"]
    with pytest.raises(Forbidden):
        engine.import_users(people_file, update=True)

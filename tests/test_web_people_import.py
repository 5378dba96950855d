"""The reform office's import of people on the web (/people/import): the template downloaded, a
file previewed row by row, then imported with the same file chosen again; a wrong row refuses the
whole file on the page; nobody else sees the page."""
from __future__ import annotations

import hashlib
import io
import json
import re

from playwright.sync_api import expect

from engine import user_file
from engine.passwords import matches

from .test_web_people import _engine, _events, _user
from .web_helper import page_text, sign_in, signed_in_client

GOOD = ("用户名,姓名,单位,角色,邮箱,初始密码\n"
        "qianli,钱力,市发展改革委,牵头单位（起草人）,qianli@example.gov.cn,Qianli-2027!\n"
        "sunyu,孙宇,市司法局,legal、expert,,\n"
        "li,李娜,市司法局,legal,,\n").encode("utf-8-sig")  # li as she is: unchanged


def test_the_office_previews_a_file_then_imports_it_and_each_user_is_on_the_trail(live, page, tmp_path):
    engine = _engine(live)
    path = tmp_path / "新同事.csv"
    path.write_bytes(GOOD)
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/people")
    page.get_by_role("link", name="批量导入用户").click()
    expect(page.locator("h1")).to_have_text("批量导入用户")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel 模板").click()
    template = user_file.read("t.xlsx", download.value.path().read_bytes())
    assert [r.cells["username"] for r in template.rows] == ["zhangwei"]

    page.get_by_label("人员文件").set_input_files(str(path))
    page.get_by_role("button", name="预览").click()
    summary = page.locator("p.summary")
    expect(summary).to_have_text(re.compile(r"共 3 行：添加 2 个，修改 0 个，不变 1 个。"))
    added = page.locator("table.import-added tbody tr")
    expect(added).to_have_count(2)
    expect(page.locator("tr[data-user='qianli']")).to_contain_text("牵头单位（起草人）")
    expect(page.locator("tr[data-user='qianli']")).to_contain_text("已填")
    expect(page.locator("tr[data-user='sunyu']")).to_contain_text("未填，尚不能登录")
    expect(page.locator(".new-units")).to_contain_text("市发展改革委")
    page.wait_for_load_state("load")  # the whole page, not what is parsed so far
    assert "Qianli-2027!" not in page.content()  # the password is never written back
    assert _user(engine, "qianli") is None  # a preview changes nothing

    page.get_by_label("同一文件").set_input_files(str(path))
    page.get_by_role("button", name="确认导入").click()
    expect(page).to_have_url(f"{live.url}/people")
    expect(page.get_by_role("status").first).to_contain_text("已导入：添加 2 个用户，修改 0 个，1 个不变。")
    expect(page.locator("tr[data-user='qianli']")).to_contain_text("钱力")
    qianli = _user(engine, "qianli")
    assert (qianli.unit_name, qianli.group_codes) == ("市发展改革委", ["drafter"])
    assert matches(qianli.password_hash, "Qianli-2027!") and _user(engine, "sunyu").password_hash is None
    added = [e for e in _events(engine, "user_added") if e["username"] in ("qianli", "sunyu")]
    assert [(e["actor"], e["username"]) for e in added] == [("chen", "qianli"), ("chen", "sunyu")]
    assert "Qianli-2027!" not in json.dumps(added)


def test_a_wrong_row_is_named_on_the_page_and_nothing_is_imported(live, page, tmp_path):
    engine = _engine(live)
    path = tmp_path / "有错.csv"
    path.write_bytes("用户名,姓名,单位,角色\nnew1,新一,,drafter\nnew2,新二,,起草人\nzhang,张三,,\n".encode())
    sign_in(page, live, "chen")
    page.goto(f"{live.url}/people/import")
    page.get_by_label("人员文件").set_input_files(str(path))
    page.get_by_role("button", name="预览").click()
    expect(page.locator("table.problems tbody tr")).to_have_count(2)
    expect(page.locator("tr[data-row='3'][data-column='角色']")).to_contain_text("没有角色“起草人”")
    expect(page.locator("tr[data-row='4'][data-column='姓名']")).to_contain_text("用户 zhang 已存在")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)  # nothing to confirm
    assert _user(engine, "new1") is None


def test_the_import_takes_only_the_file_previewed_and_only_the_office_may(demo_engine):
    client = signed_in_client(demo_engine, "chen")
    other = "用户名,姓名\nsomeone,某人\n".encode()
    answer = client.post("/people/import", data={"action": "import", "previewed": "0" * 64,
                                                 "file": (io.BytesIO(other), "p.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and "与刚才预览的不同，未导入任何用户" in page_text(answer)
    assert "someone" not in {u["username"] for u in demo_engine.users()}
    # the same file, but a colleague added one of its users after the preview: the import would now
    # change them, which the preview never showed
    file = "用户名,姓名,单位\nlate9,迟到者,市财政局\n".encode()
    shown = client.post("/people/import", data={"action": "preview", "update": "on", "file": (io.BytesIO(file), "p.csv")},
                        content_type="multipart/form-data")
    previewed = re.search(r'name="previewed" value="([0-9a-f]{64})"', shown.get_data(as_text=True)).group(1)
    assert hashlib.sha256(file).hexdigest() != previewed  # no plain hash of a file that may hold passwords
    demo_engine.add_user("late9", "迟到者", unit="市发改委", actor="chen")
    answer = client.post("/people/import", data={"action": "import", "update": "on", "previewed": previewed,
                                                 "file": (io.BytesIO(file), "p.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 400 and "与刚才预览的不同，未导入任何用户" in page_text(answer)
    assert {u["username"]: u["unit"] for u in demo_engine.users()}["late9"] == "市发改委"
    english = signed_in_client(demo_engine, "chen", language="en")
    shown = english.post("/people/import", data={"action": "preview", "file": (io.BytesIO(GOOD), "p.csv")},
                         content_type="multipart/form-data")
    assert "3 rows: 2 to add, 0 to change, 1 unchanged." in page_text(shown)
    li = signed_in_client(demo_engine, "li")
    for path in ("/people/import", "/people/import/template.csv"):
        assert li.get(path).status_code == 403, path
    template = client.get("/people/import/template.csv")
    assert template.status_code == 200 and template.data.decode("utf-8-sig").startswith("用户名,姓名,单位,角色,邮箱,初始密码")


def test_the_web_takes_at_most_100_initial_passwords_a_file_the_command_line_any_number(demo_engine):
    """Each takes some 75 ms to hash: hundreds would outlast gunicorn's timeout."""
    from web.people_import import MAX_PASSWORDS
    rows = "".join(f"pw{n:03},某人{n},,drafter,,Initial-pw-{n:03}\n" for n in range(MAX_PASSWORDS + 1))
    content = ("用户名,姓名,单位,角色,邮箱,初始密码\n" + rows).encode()
    client = signed_in_client(demo_engine, "chen")
    answer = client.post("/people/import", data={"action": "preview", "file": (io.BytesIO(content), "p.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400
    assert f"文件有 {MAX_PASSWORDS + 1} 个初始密码，网页上每次最多 {MAX_PASSWORDS} 个" in page_text(answer)
    fewer = content.replace(b",Initial-pw-000\n", b",\n")  # one fewer: previewed
    answer = client.post("/people/import", data={"action": "preview", "file": (io.BytesIO(fewer), "p.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 200 and f"添加 {MAX_PASSWORDS + 1} 个" in page_text(answer)

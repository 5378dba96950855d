"""Files attached to a task (附件): who may attach them and when, what is refused, and that a file
changed in the database afterwards is caught on download, by the decision archive and by
`audit verify`; on SQLite and PostgreSQL, through the engine and on the command line."""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from engine import documents, file_kinds
from engine.cli import main
from engine.errors import Conflict, Forbidden, Invalid, NotFound

from . import file_samples
from .plan_helper import Plan, audit_payloads
from .test_audit import tamper

DRAFT = file_samples.pdf("关于深化财政预算管理制度改革的实施方案（征求意见稿）\n" * 50)
DRAFT_DOCX = file_samples.docx("关于深化财政预算管理制度改革的实施方案（征求意见稿）")


def _drafting(library, at):
    """A plan whose 起草方案 task the drafter zhang holds."""
    with at("2026-03-02T09:00:00"):
        plan = Plan(library)
        plan.run_until("Task_DraftPlan")
    task = plan.task("Task_DraftPlan")
    assert (task["status"], task["assignee"]) == ("claimed", "zhang")
    return plan, task


def _cli(library, *args):
    return CliRunner().invoke(main, ["--db", library.db.url, "--now", "2026-03-02T10:00:00", *args])


def test_the_assignee_attaches_the_draft_and_everyone_reads_it_back(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        attached = library.attach(task["id"], "C:\\Users\\张伟\\方案稿.docx", DRAFT_DOCX, actor="zhang")
    assert (attached["file_name"], attached["size"], attached["task_name"]) == ("方案稿.docx", len(DRAFT_DOCX), "起草方案")
    assert attached["sha256"] == hashlib.sha256(DRAFT_DOCX).hexdigest()
    assert attached["media_type"].endswith("wordprocessingml.document")
    meta, content = library.document(attached["id"])
    assert content == DRAFT_DOCX and meta == attached
    assert library.documents(plan.id) == [attached]
    # the upload is in the plan's audit trail with the file's SHA-256, and the chain is intact
    assert audit_payloads(library, plan.id, documents.EVENT)[-1]["new"] == {
        "id": attached["id"], "file_name": "方案稿.docx", "media_type": attached["media_type"],
        "size": len(DRAFT_DOCX), "sha256": attached["sha256"]}
    assert plan.audit_ok()
    # a second version is a new file; the first stays
    with at("2026-03-02T11:00:00"):
        second = library.attach(task["id"], "方案稿.docx", file_samples.docx("第二稿"), actor="zhang")
    assert [d["id"] for d in library.documents(plan.id)] == [attached["id"], second["id"]]
    # the task's version is untouched: the drafter completes with the version they loaded
    with at("2026-03-02T12:00:00"):
        library.complete(task["id"], actor="zhang", data={"draftSummary": "方案初稿"}, expected_version=task["version"])


def test_only_the_assignee_attaches_and_only_while_the_task_is_open(library, at):
    plan, task = _drafting(library, at)
    with pytest.raises(Forbidden, match="只有办理人可以上传附件"):
        library.attach(task["id"], "方案稿.pdf", DRAFT, actor="wang")  # another drafter
    with at("2026-03-02T10:00:00"):
        plan.do("Task_DraftPlan")
    with pytest.raises(Conflict, match="已办结，不能再添加附件"):
        library.attach(task["id"], "方案稿.pdf", DRAFT, actor="zhang")
    with at("2026-03-02T10:00:00"):
        plan.run_until("Task_SpecialGroupReview")
    review = plan.task("Task_SpecialGroupReview")
    assert review["status"] == "open"
    with pytest.raises(Forbidden, match="请先认领任务"):
        library.attach(review["id"], "审核意见.pdf", DRAFT, actor="sun")
    with pytest.raises(NotFound):
        library.attach(99999, "意见.pdf", DRAFT, actor="zhang")
    assert library.documents(plan.id) == []


@pytest.mark.parametrize("name, content, says", [
    ("方案稿.exe", b"MZ", "不接受此类文件"),
    ("方案稿", b"x", "不接受此类文件"),
    ("方案稿.pdf", b"", "文件为空"),
    ("", b"x", "缺少文件名"),
    ("方案\x07稿.pdf", b"x", "控制字符"),
    ("方案稿.pdf", b"x" * (documents.MAX_BYTES + 1), "20.1 MB，超过 20 MB"),
    # names shown to the next person as something they are not: a right-to-left override makes
    # this one read 方案稿exe.pdf, a zero-width space makes two names look alike, DEL and the C1
    # control CSI (U+009B) move a terminal's cursor; a file name in another code page is not UTF-8
    ("方案稿\u202eexe.pdf", b"x", "不可见字符（U+202E"),
    ("方\u200b案稿.pdf", b"x", "不可见字符（U+200B"),
    ("方案\x7f稿.pdf", b"x", "控制字符"),
    ("方案\x9b稿.pdf", b"x", "控制字符"),
    ("\udcb7\udcbd.pdf", b"x", "不是 UTF-8 编码"),
    # more than a file system keeps as one name, so `document` could not save it: 256 bytes in UTF-8
    ("方" * 84 + ".pdf", b"x", "255 字节"),
    # a short name with a character a file name cannot have is told so, not that it is too long
    ("x<img>.txt", b"x", "文件名含有「<」，文件名中不能有"),
    # content that is not what its name says: it would be handed to the next person as that
    ("方案稿.pdf", file_samples.HTML, "附件 方案稿.pdf：文件名是 .pdf，但内容看起来是网页（HTML），不是 .pdf 文件；"
                                     "请确认选对了文件，或用制作它的程序另存为 .pdf 后重新上传"),
    ("方案稿.docx", file_samples.EXE, "附件 方案稿.docx：文件名是 .docx，但内容看起来是可执行程序"),
    ("风险评估报告.pdf", file_samples.docx(), "内容看起来是Word 文档（.docx），不是 .pdf 文件"),
    ("扫描件.jpg", file_samples.png(), "内容看起来是PNG 图片"),
    ("方案稿.ofd", file_samples.zipped({"方案稿.txt": "x"}), "内容看起来是ZIP 压缩包"),
    ("方案稿.doc", file_samples.HTML, "内容看起来是网页（HTML）"),  # what some systems export as "Word"
    ("纪要.txt", "会议纪要".encode("utf-16"), "内容看起来是无法识别的二进制数据"),  # NUL bytes: not opened as text
    ("材料.zip", file_samples.zipped({"a.txt": "x"})[:-30], "内容看起来是损坏的 ZIP 压缩包"),
])
def test_a_file_that_cannot_be_kept_is_refused_and_nothing_is_stored(library, at, name, content, says):
    plan, task = _drafting(library, at)
    with pytest.raises(Invalid, match=re.escape(says)):
        library.attach(task["id"], name, content, actor="zhang")
    assert library.documents(plan.id) == []
    assert audit_payloads(library, plan.id, documents.EVENT) == []


@pytest.mark.parametrize("suffix", sorted(documents.MEDIA_TYPES))
def test_a_real_file_of_each_kind_accepted_is_kept(library, at, suffix):
    plan, task = _drafting(library, at)
    content = file_samples.ACCEPTED[suffix]
    attached = library.attach(task["id"], f"材料{suffix}", content, actor="zhang")
    assert library.document(attached["id"]) == (attached, content)
    assert attached["media_type"] == documents.MEDIA_TYPES[suffix]


@pytest.mark.parametrize("name, content", [
    ("纪要.txt", "会议纪要：同意。".encode("gbk")),  # what Notepad on a Chinese Windows saves as ANSI
    ("纪要.txt", "\ufeff会议纪要".encode()),  # UTF-8 with the byte-order mark
    ("方案稿.doc", file_samples.docx()),  # Word opens a .docx named .doc by its content
    ("方案稿.doc", b"{\\rtf1\\ansi \\u26041?\\u26696?}"),  # Word saves RTF as .doc
    ("统计表.xls", file_samples.xlsx()),
    ("材料.zip", file_samples.docx()),  # a .docx is a ZIP archive too
    ("扫描件.pdf", b"\r\n" + file_samples.pdf()),  # a scanner's line before the header: readers open it
])
def test_what_the_office_s_programs_save_under_a_name_is_accepted(name, content):
    assert documents.checked(name, content)[0] == name


def _zip_of(parts: dict[str, bytes]) -> bytes:
    """A ZIP of these parts, quickly deflated (level 1): megabytes of zeros shrink a thousandfold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, content in parts.items():
            z.writestr(name, content)
    return out.getvalue()


def test_a_zip_bomb_named_as_a_document_is_refused_and_nothing_is_stored(library, at):
    """A 150 MB document part that deflates to a fraction of a megabyte would fill the PC of the
    reviewer who opens it: refused, saying so; the server never unpacks it."""
    plan, task = _drafting(library, at)
    bomb = _zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(150 * 1024 ** 2)})
    assert len(bomb) < 1024 ** 2
    with pytest.raises(Invalid, match=r"附件 方案稿\.docx：解压后达 150 MB，远超正常文件（可能是“压缩炸弹”"):
        library.attach(task["id"], "方案稿.docx", bomb, actor="zhang")
    assert library.documents(plan.id) == [] and audit_payloads(library, plan.id, documents.EVENT) == []


def test_an_archive_of_parts_each_small_but_too_large_in_all_is_refused_and_a_real_one_kept(monkeypatch):
    """The limit on the whole (1 GiB; 10 MiB here, so the test deflates little) counts every part,
    each under the per-part limit; a workbook whose sheet unpacks to 5 times its size, as real
    ones do, is kept whatever its size."""
    monkeypatch.setattr(file_kinds, "UNPACKED_MAX", 10 * 1024 ** 2)
    parts = {f"{n}.txt": bytes(1024 ** 2) for n in range(11)}
    with pytest.raises(Invalid, match="解压后达 11 MB"):
        documents.checked("材料.zip", _zip_of(parts))
    assert documents.checked("材料.zip", _zip_of(dict(list(parts.items())[:10])))[0] == "材料.zip"
    rows = "".join(f"<row r='{n}'><c><v>{n * 7919 % 100003}</v></c></row>" for n in range(200_000)).encode()
    workbook = _zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": rows})
    assert 4 < len(rows) / len(workbook) < 8
    assert documents.checked("统计表.xlsx", workbook)[0] == "统计表.xlsx"


def _tamper(db, sql: str, **params) -> None:
    tamper(db, sql, table="documents", **params)


def test_files_cannot_be_changed_or_removed_through_the_database(library, at):
    plan, task = _drafting(library, at)
    attached = library.attach(task["id"], "方案稿.pdf", DRAFT, actor="zhang")
    for sql in ("UPDATE documents SET content = :c WHERE id = :id", "DELETE FROM documents WHERE id = :id"):
        with pytest.raises(DatabaseError, match="documents is append-only"):
            with library.db.engine.begin() as conn:
                conn.execute(text(sql), {"c": b"x", "id": attached["id"]})
    assert library.document(attached["id"])[1] == DRAFT


def _replace_content(library, document_id: int, content: bytes) -> None:
    _tamper(library.db, "UPDATE documents SET content = :c WHERE id = :id", c=content, id=document_id)


def test_a_file_changed_in_the_database_is_caught_everywhere(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        attached = library.attach(task["id"], "方案稿.pdf", DRAFT, actor="zhang")
        plan.do("Task_DraftPlan")
    _replace_content(library, attached["id"], DRAFT.replace("征求意见稿".encode(), "送审稿".encode()))

    with pytest.raises(Invalid, match=f"附件 {attached['id']}（方案稿.pdf）的内容与审计事件 \\d+ 登记的 SHA-256 不符"):
        library.document(attached["id"])
    verify = _cli(library, "audit", "verify", "--json")
    assert verify.exit_code == 1
    assert any("方案稿.pdf" in p and "SHA-256 不符" in p for p in json.loads(verify.stdout)["problems"])
    archive = json.loads(_cli(library, "archive", str(plan.id), "--json").stdout)
    assert not archive["verified"]["ok"]
    assert any("方案稿.pdf" in p for p in archive["verified"]["problems"])
    # the sha256 column rewritten to match does not help: the upload's audit event holds the original
    _tamper(library.db, "UPDATE documents SET sha256 = :s WHERE id = :id",
            s=hashlib.sha256(DRAFT.replace("征求意见稿".encode(), "送审稿".encode())).hexdigest(), id=attached["id"])
    with pytest.raises(Invalid, match="SHA-256 不符"):
        library.document(attached["id"])


def test_a_file_removed_from_the_database_is_reported(library, at):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        attached = library.attach(task["id"], "方案稿.pdf", DRAFT, actor="zhang")
    _tamper(library.db, "DELETE FROM documents WHERE id = :id", id=attached["id"])
    verify = json.loads(_cli(library, "audit", "verify", "--json").stdout)
    assert not verify["ok"]
    assert any(f"附件 {attached['id']}（方案稿.pdf）已从数据库中删除" in p for p in verify["problems"])


def test_the_archive_lists_each_records_files(library, at, tmp_path):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        attached = library.attach(task["id"], "方案稿.ofd", file_samples.ofd(), actor="zhang")
        plan.do("Task_DraftPlan")
    archive = json.loads(_cli(library, "archive", str(plan.id), "--json").stdout)
    assert archive["verified"]["ok"], archive["verified"]
    draft = next(r for s in archive["sections"] for r in s["records"] if r["element_id"] == "Task_DraftPlan")
    assert [d["id"] for d in draft["documents"]] == [attached["id"]]
    shown = _cli(library, "archive", str(plan.id)).stdout
    assert f"附件 (file) {attached['id']}：方案稿.ofd  SHA-256 {attached['sha256'][:16]}…" in shown
    out = tmp_path / "决策档案.csv"
    assert _cli(library, "archive", str(plan.id), "--output", str(out)).exit_code == 0
    text_ = out.read_text(encoding="utf-8-sig")
    assert f"方案稿.ofd（附件 {attached['id']}，SHA-256 {attached['sha256']}）" in text_


def test_attach_list_and_download_on_the_command_line(library, at, tmp_path, monkeypatch):
    plan, task = _drafting(library, at)
    source = tmp_path / "方案稿.pdf"
    source.write_bytes(DRAFT)
    added = _cli(library, "attach", str(task["id"]), str(source), "--as", "zhang", "--json")
    assert added.exit_code == 0, added.output
    document_id = json.loads(added.stdout)["id"]
    # run again (the first seemed to fail: a lost connection, a killed terminal): the same file, not a
    # second copy (the concurrency audit of 6 December 2026 found four)
    again = _cli(library, "attach", str(task["id"]), str(source), "--as", "zhang")
    assert again.exit_code == 0 and again.stdout.startswith(f"此前已上传过同一文件（附件 {document_id}），未重复保存")
    assert json.loads(_cli(library, "attach", str(task["id"]), str(source), "--as", "zhang", "--json").stdout)[
        "repeated"] is True
    changed = tmp_path / "修改稿.pdf"
    changed.write_bytes(DRAFT + b"\n%% v2")
    other = json.loads(_cli(library, "attach", str(task["id"]), str(changed), "--name", "方案稿.pdf", "--as", "zhang",
                            "--json").stdout)  # other content under the same name is a new file
    assert other["id"] != document_id and "repeated" not in other
    listed = _cli(library, "documents", plan.view["business_key"] or str(plan.id))
    assert f"附件 (file) {document_id}：方案稿.pdf（{len(DRAFT) / 1024:.1f} KB） 待办 (task) {task['id']} 起草方案" in listed.stdout
    assert "上传附件 (file attached) 起草方案：方案稿.pdf" in _cli(library, "history", str(plan.id)).stdout
    page = _cli(library, "task", str(task["id"])).stdout
    assert f"附件 (file) {document_id}：方案稿.pdf" in page and f"reformflow attach {task['id']} <文件 FILE> --as zhang" in page

    monkeypatch.chdir(tmp_path)
    (tmp_path / "方案稿.pdf").unlink()
    saved = _cli(library, "document", str(document_id))
    assert saved.exit_code == 0, saved.output
    assert (tmp_path / "方案稿.pdf").read_bytes() == DRAFT and "SHA-256 与上传记录相符" in saved.stderr
    again = _cli(library, "document", str(document_id))  # would overwrite: refused, the file kept
    assert again.exit_code == 6 and "未覆盖" in again.stderr
    assert _cli(library, "document", str(document_id), "--output", str(tmp_path / "副本.pdf")).exit_code == 0
    assert (tmp_path / "副本.pdf").read_bytes() == DRAFT

    refused = _cli(library, "attach", str(task["id"]), str(source), "--as", "wang")
    assert refused.exit_code == 4 and "只有办理人可以上传附件" in refused.stderr
    assert _cli(library, "documents", "99999").exit_code == 5
    assert _cli(library, "document", "99999").exit_code == 5


def test_files_sent_with_the_form_are_kept_only_if_the_form_is(library, at, tmp_path):
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        with pytest.raises(Invalid, match="方案稿摘要"):  # a required field left out: nothing is kept
            library.complete(task["id"], actor="zhang", data={}, files=[("方案稿.pdf", DRAFT)])
        assert library.documents(plan.id) == [] and audit_payloads(library, plan.id, documents.EVENT) == []
        with pytest.raises(Invalid, match="不接受此类文件"):  # a file refused: the form is not submitted either
            library.complete(task["id"], actor="zhang", data={"draftSummary": "方案初稿"}, files=[("方案稿.exe", b"MZ")])
        assert plan.task("Task_DraftPlan")["status"] == "claimed"
    source = tmp_path / "方案稿.pdf"
    source.write_bytes(DRAFT)
    done = _cli(library, "complete", str(task["id"]), "--as", "zhang", "--data", '{"draftSummary": "方案初稿"}',
                "--attach", str(source), "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["status"] == "completed" and [d["file_name"] for d in result["documents"]] == ["方案稿.pdf"]
    assert [(d["task_id"], d["sha256"]) for d in library.documents(plan.id)] == [
        (task["id"], hashlib.sha256(DRAFT).hexdigest())]
    # in the trail the files come before the completion they were sent with
    kinds = [e["event_type"] for e in json.loads(_cli(library, "history", str(plan.id), "--json").stdout)["events"]
             if e["task_id"] == task["id"]]
    assert kinds[-2:] == ["document_attached", "task_completed"]


def test_a_name_as_long_as_a_file_system_keeps_is_saved_under_it(library, at, tmp_path, monkeypatch):
    plan, task = _drafting(library, at)
    name = "方" * 81 + ".pdf"  # 247 bytes in UTF-8
    attached = library.attach(task["id"], name, DRAFT, actor="zhang")
    monkeypatch.chdir(tmp_path)
    saved = _cli(library, "document", str(attached["id"]))
    assert saved.exit_code == 0, saved.output
    assert (tmp_path / name).read_bytes() == DRAFT


def test_attach_reads_only_a_regular_file_and_refuses_a_large_one_without_reading_it(library, at, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    plan, task = _drafting(library, at)
    script = Path(sys.executable).parent / "reformflow"

    def attach(path, *more):
        return subprocess.run([str(script), "--db", library.db.url, "attach", str(task["id"]), str(path), "--as", "zhang",
                               *more], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    pipe = tmp_path / "方案稿.pdf"
    os.mkfifo(pipe)  # nothing writes to it: reading it would wait forever
    refused = attach(pipe)
    assert refused.returncode == 3 and "不是普通文件" in refused.stderr, refused.stderr
    refused = attach("/dev/zero", "--name", "方案稿.pdf")  # never ends
    assert refused.returncode == 3 and "不是普通文件" in refused.stderr, refused.stderr
    large = tmp_path / "扫描件.pdf"
    with open(large, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # 200 MB, said as it is, not as the 20 MB read of it
    refused = attach(large)
    assert refused.returncode == 3 and "附件 扫描件.pdf：200 MB，超过 20 MB 的上限" in refused.stderr, refused.stderr
    assert library.documents(plan.id) == []


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_attach_waits_for_a_complete_holding_the_plan_before_it_holds_the_task(library, at, db):
    """Plan first, then task, as complete locks them: a file's row refers to the plan, and on
    PostgreSQL an attach that held the task while inserting it waited for a complete holding the
    plan, which waited for the task: a deadlock, the complete refused after a second."""
    import threading
    import time
    from sqlalchemy import create_engine
    from engine.commands import Engine
    plan, task = _drafting(library, at)
    other = create_engine(library.db.engine.url)
    completing = other.connect()  # holds the plan as a complete does
    completing.execute(text("SELECT id FROM process_instances WHERE id = :id FOR UPDATE"), {"id": plan.id})
    result = {}
    attaching = threading.Thread(target=lambda: result.update(
        done=Engine(library.db).attach(task["id"], "方案稿.pdf", DRAFT, actor="zhang")))
    attaching.start()
    for _ in range(200):  # until the attach waits for a lock
        with other.connect() as watch:
            if watch.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND datname = current_database()")).scalar():
                break
        time.sleep(0.05)
    try:
        # the complete's next step, locking the task, is not blocked by the waiting attach
        with other.connect() as task_lock:
            task_lock.execute(text("SELECT id FROM human_tasks WHERE id = :id FOR UPDATE NOWAIT"), {"id": task["id"]})
            task_lock.rollback()
    finally:
        completing.rollback()
    completing.close()
    attaching.join(30)
    other.dispose()
    assert result["done"]["task_id"] == task["id"]


def test_a_file_on_a_step_later_withdrawn_is_kept_and_says_so(library, at):
    """The reform office attaches its chase to 催报月度进展; the report comes in and the chase is
    withdrawn before it is done. The file stays listed, marked, and in the archive."""
    from .test_implementation import _report, _started
    plan = _started(library, at)
    plan.fire_timers_at(at, "2026-02-01T00:00:01")
    plan.fire_timers_at(at, "2026-02-11T00:00:01")
    chase = plan.task("Task_UrgeMonthlyReport")
    with at("2026-02-11T09:00:00"):
        library.claim(chase["id"], actor="chen")
        attached = library.attach(chase["id"], "催报通知.pdf", DRAFT, actor="chen")
    assert attached["task_status"] == "claimed"
    _report(plan, at, "2026-02-11T10:00:00", 1, 2, 0)  # the report is in: the chase is withdrawn
    [listed] = library.documents(plan.id)
    assert (listed["id"], listed["task_status"]) == (attached["id"], "cancelled")
    shown = _cli(library, "documents", str(plan.id)).stdout
    assert "催报通知.pdf" in shown and "催报月度进展（待办已撤销 task cancelled）" in shown
    archive = json.loads(_cli(library, "archive", str(plan.id), "--json").stdout)
    assert archive["verified"]["ok"]
    assert [d["id"] for d in archive["other_documents"]] == [attached["id"]]
    assert all(d["id"] != attached["id"] for s in archive["sections"] for r in s["records"] for d in r["documents"])
    assert "催报月度进展（待办已撤销，附件）  附件 (file)" in _cli(library, "archive", str(plan.id)).stdout


def test_at_most_ten_files_go_with_one_form(library, at):
    plan, task = _drafting(library, at)
    eleven = [(f"附件{n}.pdf", DRAFT) for n in range(11)]
    with at("2026-03-02T10:00:00"):
        with pytest.raises(Invalid, match="一次最多上传 10 个附件，本次 11 个"):
            library.complete(task["id"], actor="zhang", data={"draftSummary": "方案初稿"}, files=eleven)
        assert library.documents(plan.id) == []
        done = library.complete(task["id"], actor="zhang", data={"draftSummary": "方案初稿"}, files=eleven[:10])
    assert len(done["documents"]) == 10 == len(library.documents(plan.id))


def test_verify_reads_the_files_a_batch_at_a_time_and_says_how_far_it_got(library, at, monkeypatch):
    from engine.cli.audit import _VerifyProgress
    plan, task = _drafting(library, at)
    for n in range(5):
        library.attach(task["id"], f"附件{n}.pdf", DRAFT + bytes([n]), actor="zhang")
    # batches of two files' worth: five files are read in three batches, each reported
    monkeypatch.setattr(documents, "BATCH_BYTES", 2 * (len(DRAFT) + 1))
    monkeypatch.setattr(_VerifyProgress, "FILE_BYTES", 1)
    calls = []
    with library.db.reader() as s:
        checked, problems = documents.check(s, progress=lambda *a: calls.append(a))
    assert (checked, problems) == (5, [])
    size = len(DRAFT) + 1
    assert calls == [(2, 5, 2 * size, 5 * size), (4, 5, 4 * size, 5 * size), (5, 5, 5 * size, 5 * size)]
    shown = _cli(library, "audit", "verify")
    assert shown.exit_code == 0 and "5 个附件与上传记录相符" in shown.stdout
    assert "校验附件中 (checking files)：5/5 个 (files)" in shown.stderr


def _requiring_a_file(value: str = "required") -> tuple[str, bytes]:
    """mini_approval.bpmn with 起草 (Task_Draft) marked `attachments` = value."""
    from .conftest import FIXTURES
    xml = (FIXTURES / "diagrams" / "mini_approval.bpmn").read_text(encoding="utf-8")
    marked = xml.replace('''      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="summary"''', f'''      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="attachments" value="{value}" />
        </camunda:properties>
        <camunda:formData>
          <camunda:formField id="summary"''', 1)
    assert marked != xml
    return "mini_approval.bpmn", marked.encode("utf-8")


def test_a_step_the_diagram_marks_is_not_completed_without_a_file(engine, people, tmp_path):
    engine.deploy([_requiring_a_file()])
    plan = engine.start("mini_approval", actor="zhang")
    [draft] = plan["tasks"]
    page = engine.task_view(draft["id"])
    assert page["attachments_required"] and page["documents"] == []
    shown = CliRunner().invoke(main, ["--db", engine.db.url, "task", str(draft["id"])]).stdout
    assert "须上传附件后提交" in shown
    # the submit line to copy sends the file with the form
    assert f"提交 (submit)：reformflow complete {draft['id']} --as zhang --data '{{\"summary\": \"\", \"days\": 30}}' --attach <文件 FILE>" in shown
    with pytest.raises(Invalid, match=f"「起草」须上传附件后才能提交.*reformflow attach {draft['id']}"):
        engine.complete(draft["id"], actor="zhang", data={"summary": "方案摘要"})
    assert engine.instance(plan["id"])["tasks"][0]["status"] == "claimed"  # nothing done
    engine.attach(draft["id"], "方案稿.pdf", DRAFT, actor="zhang")
    assert engine.complete(draft["id"], actor="zhang", data={"summary": "方案摘要"})["status"] == "completed"
    # sent with the form, the file counts too
    second = engine.start("mini_approval", actor="zhang")["tasks"][0]
    done = engine.complete(second["id"], actor="zhang", data={"summary": "方案摘要"}, files=[("方案稿.pdf", DRAFT)])
    assert done["status"] == "completed"
    # a task without the property needs none
    review = engine.instance(plan["id"])["tasks"][0]
    assert not engine.task_view(review["id"])["attachments_required"]


def test_deploy_refuses_an_attachments_property_it_would_ignore(engine, people):
    with pytest.raises(Invalid, match="Task_Draft.*属性 attachments 的值 'yes' 无效"):
        engine.deploy([_requiring_a_file("yes")])


def test_the_same_file_sent_again_from_the_same_page_is_kept_once(library, at):
    """A reload of 仅上传's POST sends the files again with the newest file id the page showed
    (`after`): files can never be deleted, so the copy must not be kept."""
    plan, task = _drafting(library, at)
    with at("2026-03-02T10:00:00"):
        first = library.attach(task["id"], "方案稿.docx", DRAFT_DOCX, actor="zhang", after=0)
        again = library.attach(task["id"], "方案稿.docx", DRAFT_DOCX, actor="zhang", after=0)
    assert again == {**first, "repeated": True}
    assert [d["id"] for d in library.documents(plan.id)] == [first["id"]]
    assert len(audit_payloads(library, plan.id, documents.EVENT)) == 1
    # a new version under the same name, or the same file from a page that showed the first, is kept
    with at("2026-03-02T10:05:00"):
        changed = library.attach(task["id"], "方案稿.docx", file_samples.docx("第二稿"), actor="zhang", after=0)
        meant = library.attach(task["id"], "方案稿.docx", DRAFT_DOCX, actor="zhang", after=first["id"])
    assert not changed.get("repeated") and not meant.get("repeated")
    assert len(library.documents(plan.id)) == 3
    assert plan.audit_ok()

"""Files attached to tasks: attaching one, listing a plan's, and saving one checked against its
upload's audit record.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..output import whole_file
from .params import ID, PLAN, acting_user
from .shared import _emit, _read_attachments, command, main
from .show import _each, _show_document


@command(main, "attach")
@click.argument("task_id", type=ID)
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@acting_user()
@click.option("--name", help="保存的文件名，默认为原文件名 (the name to keep; default: the file's own).")
def attach_cmd(state, as_json, task_id, path, actor, name):
    """为 --as 本人已认领的待办上传附件，如方案稿、评估报告 (attach a file to a task --as holds, e.g. the draft or a
    report)."""
    [(file_name, content)] = _read_attachments([path], name)
    # after=0: the same file under the same name already attached by the same person to this task
    # is that one, `repeated`, not a second copy: a command run again because the first seemed to
    # fail (a lost connection, a killed terminal) may in fact have gone through
    _emit(state.engine.attach(task_id, file_name, content, actor=actor, after=0), as_json, _show_attached)


def _show_attached(d: dict) -> None:
    if d.get("repeated"):
        click.echo(f"此前已上传过同一文件（附件 {d['id']}），未重复保存 (the same file was attached before as file "
                   f"{d['id']}: not kept twice)")
    _show_document(d)


@command(main, "documents")
@click.argument("instance_id", type=PLAN, metavar="PLAN")
def documents_cmd(state, as_json, instance_id):
    """列出方案的附件 (list a plan's attached files)."""
    _emit(state.engine.documents(instance_id), as_json,
          _each("此方案没有附件 (no files attached to this plan)", _show_document))


@command(main, "document")
@click.argument("document_id", type=ID)
@click.option("--output", type=click.Path(dir_okay=False),
              help="保存到此文件，默认以原文件名存入当前文件夹 (where to save it; default: its own name in this folder).")
def document_cmd(state, as_json, document_id, output):
    """下载一个附件，并核对其 SHA-256 与上传时的审计记录 (save an attached file, checked against its upload's audit record)."""
    from ..errors import Conflict
    meta, content = state.engine.document(document_id)
    target = output if output is not None else meta["file_name"]
    if output is None and Path(target).exists():
        raise Conflict(f"当前文件夹已有 {target}，未覆盖；请用 --output 指定保存位置 "
                       f"({target} exists here and was not overwritten: name the file with --output)")
    with whole_file(target, "附件", "attached", binary=True) as out:
        out.write(content)
    click.echo(f"已保存附件到 {target}，SHA-256 与上传记录相符 (saved; its SHA-256 matches the upload's record)", err=True)
    _emit(meta, as_json, _show_document)

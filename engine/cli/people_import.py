"""`reformflow users import` and `users template`: a reform office's staff entered from one
spreadsheet on its first day, all or nothing (engine/user_file.py, engine/user_import.py)."""
from __future__ import annotations

from pathlib import Path

import click

from .params import acting_user
from .people import users
from .shared import _emit, _refuse, command


@command(users, "import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False), metavar="FILE")
@click.option("--dry-run", is_flag=True, help="只检查并列出将添加、修改和拒绝的行，不做任何更改 "
                                              "(only check, and list the rows to add, change and refuse; change nothing).")
@click.option("--update", is_flag=True, help="已有用户的姓名、单位、角色或邮箱与文件不同时按文件修改；不加则拒绝该行 "
                                             "(change existing users whose name, unit, groups or email differ from the "
                                             "file; without it, such a row is refused).")
@acting_user(operator=True)
def users_import(state, as_json, path, dry_run, update, actor):
    """从 Excel（.xlsx）或 CSV 文件批量添加用户，全部成功或全部不变；每个用户如同 users add 记入审计记录
    (add users from an .xlsx or .csv file, all or nothing; each recorded as `users add` records one).

    \b
    表头 (heading)：用户名,姓名,单位,角色,邮箱,初始密码（前两列必填 (the first two required)），
    或 username,display name,unit,groups,email,password；角色写代码或名称，多个用“、”分隔
    (groups by code or name, separated by 、)。模板 (a template)：reformflow users template FILE
    """
    from .. import user_file
    from ..errors import ReformflowError
    with open(path, "rb") as f:
        content = f.read(user_file.MAX_BYTES + 1)
    people = user_file.read(Path(path).name, content)
    many = len(people.rows) > 50

    def progress(stage, done, of):
        what = ("设置初始密码", "initial passwords") if stage == "passwords" else ("写入用户", "users entered")
        click.echo(f"{what[0]}：{done}/{of} ({what[1]}: {done} of {of})", err=True)
    try:
        result = state.engine.import_users(people, actor=actor, update=update, dry_run=dry_run,
                                           progress=progress if many and not as_json else None)
    except ReformflowError as exc:
        if not exc.details or as_json:
            raise
        for problem in exc.details:  # every one, a line each, then a short refusal
            click.echo(problem["message"], err=True)
        _refuse(_refused(people.name, exc.details), as_json)
    if result["refused"]:  # a dry run: what would be refused, then refused as the import would be
        if as_json:
            from ..user_import import refusal
            _refuse(refusal(result), as_json)
        _print(result)
        _refuse(_refused(people.name, result["refused"]), as_json)
    _emit(result, as_json, _print)


def _refused(name: str, problems: list[dict]):
    from ..display import counted
    from ..errors import Invalid
    return Invalid(f"文件 {name} 有 {len(problems)} 处错误（见上），未导入任何用户；请改正后重新导入 (the file has "
                   f"{counted(len(problems), 'error')}, listed above; no user was imported: correct them and "
                   f"import it again)")


def _print(d: dict) -> None:
    head = "预览，未做任何更改 (dry run: nothing changed)：" if d["dry_run"] else ""
    refused = len({p["row"] for p in d["refused"]})
    click.echo(f"{head}文件 {d['file']} 共 {d['rows']} 行：添加 {len(d['added'])} 个，修改 {len(d['changed'])} 个，"
               f"不变 {len(d['unchanged'])} 个，有错的 {refused} 行 ({d['rows']} rows: "
               f"{len(d['added'])} to add, {len(d['changed'])} to change, {len(d['unchanged'])} unchanged, "
               f"{refused} with errors)")
    verb = ("将添加", "to add") if d["dry_run"] else ("已添加", "added")
    for a in d["added"]:
        extra = "" if a["password"] else "，尚无密码 (no password yet)"
        click.echo(f"  {verb[0]} ({verb[1]}) 第 {a['row']} 行 {a['username']} {a['display_name']}（{a['unit'] or '未填单位'}）"
                   f"角色 (groups)：{'、'.join(a['groups']) or '—'}{extra}")
    verb = ("将修改", "to change") if d["dry_run"] else ("已修改", "changed")
    for c in d["changed"]:
        said = "；".join(f"{field} {_shown(ch['old'])} → {_shown(ch['new'])}" for field, ch in c["changes"].items())
        click.echo(f"  {verb[0]} ({verb[1]}) 第 {c['row']} 行 {c['username']}：{said}")
    for entry in d["added"] + d["changed"] + d["unchanged"]:
        for note in entry.get("notes", []):
            click.echo(f"  第 {entry['row']} 行 {entry['username']}：{note}")
    if d["new_units"] and d["dry_run"]:
        click.echo(f"将新建单位 (new units)：{'、'.join(d['new_units'])}；如有错字请先改正文件 (check their spelling first)")
    elif d["new_units"]:
        click.echo(f"已新建单位 (new units)：{'、'.join(d['new_units'])}")
    for problem in d["refused"]:
        click.echo(f"  {problem['message']}")
    if not d["dry_run"] and any(not a["password"] for a in d["added"]):
        click.echo("尚无密码的用户不能登录网页待办：请本人运行 reformflow users password 用户名 --as 用户名 设置首个密码，"
                   "或由改革办在网页“用户”页为其重设密码 (users without a password cannot sign in to the web inbox: "
                   "they set their first one with `reformflow users password NAME --as NAME`, or the reform office "
                   "sets one on their page)")


def _shown(value) -> str:
    if isinstance(value, list):
        return "、".join(value) or "—"
    return value or "—"


@command(users, "template")
@click.argument("path", type=click.Path(dir_okay=False), metavar="FILE")
def users_template(state, as_json, path):
    """写出批量导入用户的模板：表头和一行示例，格式由扩展名 .xlsx 或 .csv 决定 (write the template for
    `users import`: the heading and an example row, .xlsx or .csv by the file's extension)."""
    from .. import user_file
    from ..errors import Invalid
    content = user_file.template(Path(path).suffix.lower())
    try:
        Path(path).write_bytes(content)
    except OSError as exc:
        raise Invalid(f"无法写入 {path}：{exc.strerror or exc} (cannot write the file)") from None
    _emit({"output": path, "columns": list(user_file.TEMPLATE[0])}, as_json,
          lambda d: click.echo(f"已写入模板 {path}：表头 {'、'.join(d['columns'])} 和一行示例 (template written: the "
                               f"heading and an example row)", err=True))

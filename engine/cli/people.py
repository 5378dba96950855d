"""Users and groups (roles): adding them, passwords, moves between units, and deactivating
someone who left, with what becomes of the tasks they held.
"""
from __future__ import annotations

import sys

import click

from .. import display
from .params import BadValue, acting_user
from .shared import _emit, command, main
from .show import _candidates_text


@main.group()
def users():
    """管理用户 (manage users)."""


@command(users, "add")
@click.argument("username")
@click.option("--display-name", required=True, help="姓名 (display name).")
@click.option("--group", "groups", multiple=True, help="所属角色代码，可重复 (candidate group code, repeatable).")
@click.option("--unit", help="所在单位 (unit, department).")
@click.option("--password", help="网页待办的登录密码；会留在命令历史和进程列表中，建议添加后改用 "
                                "`reformflow users password` 设置 (password for the web inbox; it stays in the "
                                "shell history and shows in `ps`: better set it with `reformflow users password`).")
@click.option("--email", help="邮箱地址，用于邮件提醒 (email address for mail notifications).")
@acting_user(operator=True)
def users_add(state, as_json, username, display_name, groups, unit, password, email, actor):
    """添加用户：由运维人员添加时记为 system，--as 则须为改革办用户 (add a user: by the operator, recorded as
    system; with --as, a reform office user)."""
    if password is not None:  # the same rules as `users password` and the web's pages
        from ..passwords import checked
        checked(username, password)
    result = state.engine.add_user(username, display_name, groups=list(groups), unit=unit, password=password,
                                   email=email, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已添加用户 {d['username']} (user added)"))


@command(users, "password")
@click.argument("username")
@acting_user()
@click.option("--stdin", "from_stdin", is_flag=True,
              help="从标准输入读取新密码一行，供脚本使用；本人修改已有密码时先读当前密码一行 (read the new password as one "
                   "line of standard input, for scripts; changing one's own existing password, the current "
                   "password's line comes first).")
def users_password(state, as_json, username, actor, from_stdin):
    """设置网页待办的登录密码：本人修改（尚无密码的首次设置），或改革办重设，不回显、不留在命令历史中；其网页登录随之失效
    (set a web inbox password: one's own, the first one too, or reset by the reform office; never echoed
    nor kept in the shell history; the user's web sessions end)."""
    own = username == actor
    # a user added without a password (the first reform office user) has no current one to give
    first = own and state.engine.has_password(username) is False
    if from_stdin:
        lines = [line.rstrip("\r\n") for line in sys.stdin.readlines()]
        if first and len(lines) == 2 and not lines[0]:
            lines = lines[1:]  # an empty current password's line, as for a change: there is none
        needed = 2 if own and not first else 1
        if len(lines) != needed or not all(lines):
            raise BadValue(f"标准输入须为{'当前密码、新密码各一行' if needed == 2 else '新密码一行'}",
                           "standard input must hold " + ("the current password, then the new one, one line each"
                                                          if needed == 2 else "the new password on one line"),
                           click.get_current_context(), param_hint="'--stdin'")
        current, new = (lines[0], lines[1]) if needed == 2 else (None, lines[0])
    else:
        if first:
            click.echo(f"{username} 尚无密码，请设置首个密码 ({username} has no password yet: set the first one)",
                       err=True)
        current = click.prompt("当前密码 (current password)", hide_input=True, err=True) if own and not first else None
        new = click.prompt("新密码 (new password)", hide_input=True, err=True, value_proc=_new_password(username),
                           confirmation_prompt="再次输入新密码 (the new password again)")
    result = state.engine.set_password(username, new, actor=actor, current_password=current, first=first)
    result = {k: v for k, v in result.items() if k != "session_generation"}  # the web's business

    def human(d):
        if d["reset"]:
            click.echo(f"已重设 {d['username']} {d['display_name']} 的密码，其网页登录已失效，请将新密码当面或经安全渠道告知本人 "
                       f"(password reset; their web sessions have ended: tell them the new one in person)")
            if d["tokens_revoked"]:  # as the web's flash: whoever held the account may have made them
                click.echo(f"  其 {d['tokens_revoked']} 个访问令牌已一并撤销，需要时请本人重新创建 "
                           f"({d['tokens_revoked']} API token(s) revoked too: they make new ones if needed)")
        elif first:
            click.echo(f"已设置 {d['username']} {d['display_name']} 的首个密码，可用它登录网页待办 "
                       f"(first password set: sign in to the web inbox with it)")
        else:
            click.echo(f"已修改 {d['username']} {d['display_name']} 的密码，网页上已登录的会话均已失效，请用新密码登录 "
                       f"(password changed; signed-in web sessions have ended: sign in with the new one)")
    _emit(result, as_json, human)


def _new_password(username: str):
    """Checks a password typed at the prompt before asking for it again: a short one is asked
    for anew, not refused after both."""
    from ..errors import Invalid
    from ..passwords import checked

    def check(value: str) -> str:
        try:
            return checked(username, value)
        except Invalid as exc:
            raise click.UsageError(exc.message) from None
    return check


@command(users, "list")
@click.option("--group", help="只列此角色的成员 (only members of this group).")
@click.option("--all", "include_inactive", is_flag=True, help="包括已停用的用户 (include deactivated users).")
def users_list(state, as_json, group, include_inactive):
    """列出用户：单位、角色、手头待办数 (list users: unit, groups, open tasks they hold)."""
    result = {"users": state.engine.users(group=group, include_inactive=include_inactive)}
    _emit(result, as_json, lambda d: [click.echo(_user_line(u)) for u in d["users"]])


def _user_line(u: dict) -> str:
    state = "" if u["active"] else " [已停用 deactivated]"
    return (f"{u['username']} {u['display_name']}（{u['unit'] or '未填单位'}）角色 (groups)："
            f"{', '.join(u['groups']) or '—'}；手头待办 (holding) {u['holding']}{state}")


@command(users, "update")
@click.argument("username")
@click.option("--display-name", help="新姓名 (new display name).")
@click.option("--unit", help="新单位，如调动后 (new unit, e.g. after a transfer).")
@click.option("--add-group", "add_groups", multiple=True, help="加入角色，可重复 (add to a group, repeatable).")
@click.option("--remove-group", "remove_groups", multiple=True, help="移出角色，可重复 (remove from a group, repeatable).")
@click.option("--email", help="邮箱地址，用于邮件提醒；空字符串 \"\" 清除 (email address for mail notifications; \"\" clears it).")
@click.option("--digest/--no-digest", default=None,
              help="每个工作日早上发一封待办摘要，或不再发 (a mail each working morning listing their open steps, or no more).")
@acting_user()
def users_update(state, as_json, username, display_name, unit, add_groups, remove_groups, actor, email, digest):
    """修改用户的姓名、单位或角色，手头待办不变，但调离单位的限该单位待办交回该单位；限改革办
    (change a user's name, unit or groups; the tasks they hold stay theirs, but for the steps kept to the unit they left;
    reform office only)."""
    if (display_name is None and unit is None and not add_groups and not remove_groups and email is None
            and digest is None):
        raise BadValue("至少指定一项修改：--display-name、--unit、--add-group、--remove-group、--email 或 --digest",
                       "give at least one change: --display-name, --unit, --add-group, --remove-group, --email "
                       "or --digest", click.get_current_context(),
                       param_hint="'--display-name' / '--unit' / '--add-group' / '--remove-group' / '--email' / "
                                  "'--digest'")
    result = state.engine.update_user(username, actor=actor, display_name=display_name, unit=unit,
                                      add_groups=list(add_groups), remove_groups=list(remove_groups), email=email,
                                      digest=digest)

    def human(d):
        click.echo(_user_line(d))
        if not d["changed"]:
            click.echo("没有变化 (nothing changed)")
        _show_returned(d)  # moved out of a unit: its steps they held went back to it
        for t in d.get("to_assign", []):
            click.echo(f"  {t['candidate_unit']}无其他在岗人员可接，仍由其办理，如需改派 (nobody else in "
                       f"{t['candidate_unit']} may take it: still theirs; to give it to someone else): 方案 (plan) "
                       f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}："
                       f"reformflow assign {t['id']} --to 用户名 --as {actor} --reassign")
    _emit(result, as_json, human)


def _show_returned(d):
    """The tasks a user's deactivation or move to another unit gave back to their candidates."""
    for t in d.get("returned", []):
        click.echo(f"  交回 (back to) {_candidates_text(t)}：方案 (plan) "
                   f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}")


@command(users, "deactivate")
@click.argument("username")
@acting_user()
def users_deactivate(state, as_json, username, actor):
    """停用离岗人员：不能再办理，手头待办交回其角色，无人可接的列出待改革办指派；限改革办
    (deactivate someone who left: their tasks go back to their group; those nobody else may take are listed for the office to assign;
    reform office only)."""
    result = state.engine.deactivate_user(username, actor=actor)

    def human(d):
        click.echo(f"已停用 {d['username']} {d['display_name']} (deactivated)")
        if d["tokens_revoked"]:
            click.echo(f"  其 {d['tokens_revoked']} 个访问令牌已撤销，重新启用后也不恢复 "
                       f"({d['tokens_revoked']} API token(s) revoked for good)")
        _show_returned(d)
        for t in d["to_assign"]:
            click.echo(f"  无人可接，须由改革办办理 (nobody else may take it: the reform office): 方案 (plan) "
                       f"{t['instance_id']} 待办 (task) {t['id']} {display.step(t['name'], t['subject'])}："
                       f"reformflow assign {t['id']} --to 改革办用户 --as {actor} --reassign")
    _emit(result, as_json, human)


@command(users, "reactivate")
@click.argument("username")
@acting_user()
def users_reactivate(state, as_json, username, actor):
    """重新启用用户，限改革办 (reactivate a user; reform office only)."""
    result = state.engine.reactivate_user(username, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已启用 {d['username']} {d['display_name']} (reactivated)"))


@main.group()
def groups():
    """管理角色 (manage candidate groups, i.e. roles)."""


@command(groups, "list")
def groups_list(state, as_json):
    """列出角色及其在岗人数 (list groups and how many active users each has)."""
    result = {"groups": state.engine.groups()}
    _emit(result, as_json, lambda d: [click.echo(f"{g['code']} {g['display_name']}：{g['members']} 人 (members)")
                                      for g in d["groups"]])


@command(groups, "add")
@click.argument("code")
@click.option("--display-name", required=True, help="角色名称 (display name).")
@acting_user(operator=True)
def groups_add(state, as_json, code, display_name, actor):
    """添加角色：由运维人员添加时记为 system，--as 则须为改革办用户 (add a candidate group: by the operator,
    recorded as system; with --as, a reform office user)."""
    result = state.engine.add_group(code, display_name, actor=actor)
    _emit(result, as_json, lambda d: click.echo(f"已添加角色 {d['code']} (group added)"))

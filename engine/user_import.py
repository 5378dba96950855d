"""A list of people (engine/user_file.py) checked against the directory: who would be added, who
changed, who is as the file says already, and every row refused, each naming its row and column.
`Engine.import_users` enters it in one transaction when no row is refused, and nothing otherwise.

A row whose user exists is the same person: with the same name, unit, groups and email address
(the cells the file fills in) it changes nothing; with others it is a change, made only when the
office asks for changes (`--update`, the page's checkbox), and refused otherwise, so that a file
meant for newcomers never quietly moves a colleague. A blank optional cell leaves that field of an
existing user as it is; the 角色 cell, when filled, is all the user's groups. An initial password
is for new users only: an existing user's is left alone (the office resets one on the user's page).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Group, Unit, User

from . import display, mail, passwords
from .errors import Invalid
from .user_file import COLUMNS, PeopleFile, Row

MAX_REPORTED = 20  # problems named in a refusal's one message; every one is in its details
FIELD_NAMES = {"display_name": ("姓名", "display name"), "unit": ("单位", "unit"), "groups": ("角色", "groups"),
               "email": ("邮箱", "email")}
_GROUP_SEPARATORS = re.compile(r"[,，、;；\s]+")


@dataclass(frozen=True)
class Known:
    """What the directory holds now: users by lower-case name, groups by code and by name, units."""
    users: dict[str, User]
    groups: dict[str, str]  # code -> display name
    codes_named: dict[str, list[str]]  # display name -> codes
    units: set[str]


def known(session: Session, *, fresh: bool = False) -> Known:
    """Three statements whatever the number of users. `fresh`: the rows as the database has them
    now, not as the session loaded them before (the import reads them again once they are locked)."""
    query = select(User).options(joinedload(User.unit), selectinload(User.groups))
    if fresh:
        query = query.execution_options(populate_existing=True)
    users = session.execute(query).scalars().unique().all()
    groups = dict(session.execute(select(Group.code, Group.display_name)).all())
    named: dict[str, list[str]] = {}
    for code, name in sorted(groups.items()):
        named.setdefault(name, []).append(code)
    return Known({u.username.lower(): u for u in users}, groups, named,
                 set(session.execute(select(Unit.name)).scalars()))


def plan(people: PeopleFile, directory: Known, *, update: bool) -> tuple[dict, dict[str, str]]:
    """What entering `people` would do, and the initial passwords of the users to add by name
    (kept apart: they are never in what is shown). `added`, `changed`, `unchanged` and `refused`
    in file order; `new_units`: units no user had yet, for a misspelt one to be seen."""
    from .commands import _check_name, _check_username  # the checks `users add` makes
    result = {"file": people.name, "rows": len(people.rows), "update": update, "added": [], "changed": [],
              "unchanged": [], "refused": [], "new_units": []}
    secrets: dict[str, str] = {}
    first_row: dict[str, int] = {}
    heading = lambda key: people.headings.get(key, COLUMNS[key][0])  # noqa: E731

    for row in people.rows:
        cells = row.cells
        problems = []

        def check(key: str, what: Callable[[], object]):
            try:
                return what()
            except Invalid as exc:
                problems.append(_problem(row, heading(key), exc.message))
                return None

        username, name = cells.get("username", ""), cells.get("display_name", "")
        unit, email = cells.get("unit") or None, cells.get("email") or None
        for key in ("username", "display_name"):
            if not cells.get(key):
                problems.append(_problem(row, heading(key), ("必填，不能为空", "required: the cell is empty")))
        if username:
            check("username", lambda: (_check_name("用户名", "username", username, User.__table__.c.username),
                                       _check_username(username)))
            twin = first_row.get(username.lower())
            if twin is not None:
                problems.append(_problem(row, heading("username"), (f"与第 {twin} 行的用户名重复",
                                                                    f"the same username as row {twin}")))
            else:
                first_row[username.lower()] = row.number
        if name:
            check("display_name", lambda: _check_name("姓名", "display name", name, User.__table__.c.display_name))
        if unit:
            check("unit", lambda: _check_name("单位", "unit", unit, Unit.__table__.c.name))
        if email:
            email = check("email", lambda: mail.checked_address(email))
        groups = _groups(cells.get("groups", ""), directory, lambda message: problems.append(
            _problem(row, heading("groups"), message)))
        password = cells.get("password") or None
        existing = directory.users.get(username.lower()) if username else None
        if password and existing is None and username:
            check("password", lambda: passwords.checked(username, password))
        if problems:
            result["refused"] += problems
            continue
        if existing is None:
            result["added"].append({"row": row.number, "username": username, "display_name": name, "unit": unit,
                                    "groups": groups, "email": email, "password": password is not None})
            if password:
                secrets[username] = password
            if unit and unit not in directory.units and unit not in result["new_units"]:
                result["new_units"].append(unit)
            continue
        if existing.username != username:
            result["refused"].append(_problem(row, heading("username"), (
                f"用户名 {username} 与已有的 {existing.username} 只差大小写，请另取一个或照抄已有的",
                f"differs from the existing {existing.username} only in case: choose another, or write it as it is")))
            continue
        changes = _changes(existing, name, unit, groups if cells.get("groups") else None, email)
        notes = []
        if password:
            notes.append("已有用户，初始密码未使用 (an existing user: the initial password is not used)")
        if not existing.active:
            notes.append("已停用，导入不会重新启用 (deactivated: the import does not reactivate them)")
        entry = {"row": row.number, "username": username, "display_name": existing.display_name, "notes": notes}
        if not changes:
            result["unchanged"].append(entry)
        elif update:
            result["changed"].append({**entry, "changes": changes})
            if "unit" in changes and unit not in directory.units and unit not in result["new_units"]:
                result["new_units"].append(unit)
        else:
            said = "；".join(f"{FIELD_NAMES[f][0]} {_shown(c['old'])} → {_shown(c['new'])}" for f, c in changes.items())
            said_en = "; ".join(f"{FIELD_NAMES[f][1]} “{_shown(c['old'])}” → “{_shown(c['new'])}”"
                                for f, c in changes.items())  # quoted: a page tells its Chinese from English
            result["refused"].append(_problem(row, heading(next(iter(changes))), (
                f"用户 {username} 已存在，与文件不同：{said}；要按文件修改已有用户，请加 --update（网页上勾选“同时修改已有用户”），"
                f"否则请改正该行或删去", f"the user {username} exists with other data: {said_en}; to change existing "
                f"users as the file says, add --update or, on the web, tick “change existing users”; otherwise "
                f"correct or delete the row")))
    return result, secrets


def _groups(cell: str, directory: Known, refuse: Callable[[str], None]) -> list[str]:
    """The group codes a 角色 cell names, each by its code or its name, separated by 、 , ; or
    spaces: drafter、participant, or 牵头单位（起草人）、参与单位."""
    codes = []
    parts = [p for p in _GROUP_SEPARATORS.split(cell) if p]
    if cell.strip() and not parts:  # "、" alone: not blank, yet it would take every group away
        refuse("角色格中只有分隔符，没有角色；不改角色请留空 (the cell holds only separators, no group: leave it "
               "empty to keep the user's groups)")
    for part in parts:
        if part in directory.groups:
            code = part
        elif len(directory.codes_named.get(part, [])) == 1:
            code = directory.codes_named[part][0]
        elif part in directory.codes_named:
            refuse(f"角色名称“{part}”有多个角色：{', '.join(directory.codes_named[part])}，请写角色代码 "
                   f"(several groups have this name: write the group's code)")
            continue
        else:
            refuse(f"没有角色“{part}”：请写已有角色的代码或名称（reformflow groups list 或导入页列出），新角色请先用 "
                   f"reformflow groups add 添加 (no such group: “{part}”; write an existing group's code or name, as "
                   f"`reformflow groups list` or the import page lists them, or add the group first with "
                   f"`reformflow groups add`)")
            continue
        if code not in codes:
            codes.append(code)
    return sorted(codes)


def _changes(user: User, name: str, unit: str | None, groups: list[str] | None, email: str | None) -> dict:
    """What the row would change of an existing user: each field with its `old` and `new`. Blank
    cells (None) leave their field."""
    old = {"display_name": user.display_name, "unit": user.unit.name if user.unit else None,
           "groups": user.group_codes, "email": user.email}
    new = {"display_name": name, "unit": unit, "groups": groups, "email": email}
    return {f: {"old": old[f], "new": new[f]} for f in old if new[f] is not None and new[f] != old[f]}


def _shown(value) -> str:
    if isinstance(value, list):
        return "、".join(value) or "—"
    return value or "—"


def _problem(row: Row, column: str, message: str | tuple[str, str]) -> dict:
    """A row's problem; `message` as (Chinese, English), or a refusal's “中文 (English)”."""
    zh, en = message if isinstance(message, tuple) else split(message)
    return {"row": row.number, "column": column,
            "message": f"第 {row.number} 行“{column}”列：{zh} (row {row.number}, column “{column}”: {en})"}


def split(message: str) -> tuple[str, str]:
    """A refusal's Chinese and English, from “中文 (English)”: the English is what follows the
    first “ (” with no Chinese after it (a Chinese part may hold brackets of its own)."""
    at = message.find(" (")
    while at != -1:
        rest = message[at + 2:]
        if message.endswith(")") and not re.search(r"[\u3400-\u9fff]", re.sub(r"“[^”]*”", "", rest)):
            return message[:at], rest[:-1]
        at = message.find(" (", at + 1)
    return message, message


def refusal(result: dict) -> Invalid:
    """The import refused: nothing entered, each problem named (the first MAX_REPORTED in the
    message, all of them in its details)."""
    problems = result["refused"]
    shown = problems[:MAX_REPORTED]
    pairs = [split(p["message"]) for p in shown]
    more = len(problems) > MAX_REPORTED
    return Invalid(f"文件 {result['file']} 有 {len(problems)} 处错误，未导入任何用户：" + "；".join(zh for zh, _ in pairs)
                   + ("；…" if more else "") + f" (the file has {display.counted(len(problems), 'error')}; no user "
                   f"was imported: " + "; ".join(en for _, en in pairs) + ("; …" if more else "") + ")",
                   details=problems)


def hashed(secrets: dict[str, str], progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """The initial passwords hashed (as `users add --password` keeps them), before the transaction:
    each takes some 75 ms by design, 30 s for 400, which no write lock should wait for."""
    hashes = {}
    for done, (username, password) in enumerate(secrets.items(), start=1):
        hashes[username] = passwords.hashed(password)
        if progress is not None and (done % 25 == 0 or done == len(secrets)):
            progress(done, len(secrets))
    return hashes


def plan_key(result: dict) -> tuple:
    """Whom a plan adds, and whom it changes how: what a preview shows and a confirmation must find."""
    return ([a["username"] for a in result["added"]],
            [(c["username"], c["changes"]) for c in result["changed"]])


def same_plan(before: dict, now: dict) -> bool:
    """Whether the plan made in the transaction adds and changes what the one checked before did
    (someone else may have added or changed a user meanwhile)."""
    return plan_key(before) == plan_key(now)

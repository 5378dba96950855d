"""A list of reporting bodies given as start data (work_report.bpmn's `reporters`). The process
property `reportingBodies` names the variable; `start` refuses a malformed list before anything
is saved, instead of the round stalling later on a task nobody of the body can claim or a script
that finds no unit (docs/modeling.md, "A list of reporting bodies at start")."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Group, User

from .documents import first_hidden
from .errors import Invalid

PROPERTY = "reportingBodies"
UNIT_LENGTH = 200  # the step's subject that names the body (human_tasks.subject), and a unit's name
SHAPE_ZH = '{"unit": "单位名称", "user": "用户名"} 或 {"unit": "单位名称", "group": "用户组"}'
SHAPE_EN = '{"unit": "name of the unit", "user": "username"} or {"unit": "name of the unit", "group": "group code"}'


def check(session: Session, name: str, value) -> None:
    """Refuse `value`, the start data's `name`, unless it is a non-empty list of objects, each
    with a non-empty `unit` and exactly one of `user` (an active user) or `group` (a group), no
    unit twice. The message names the first wrong item (第N项) and what a right one looks like."""
    if not isinstance(value, list) or not value:
        _refuse(f"启动数据须列出报送单位 {name}（至少一项）", f"the start data must list the reporting bodies in {name}, at least one")
    users, groups = _known(session, value)
    seen: dict[str, int] = {}  # unit -> the item that listed it first
    for n, item in enumerate(value, 1):
        zh, en = _problem(item, users, groups)
        if zh is None and (first := seen.get(_same(item["unit"]))):
            zh, en = f"的单位「{item['unit']}」与第{first}项重复", f"unit {item['unit']} is item {first} too"
        if zh is not None:
            _refuse(f"启动数据 {name} 第{n}项{zh}", f"{name} item {n}: {en}")
        seen[_same(item["unit"])] = n


def _same(unit: str) -> str:
    """A unit's name as compared for duplicates: 市 财政局, 市财政局　and 第１中学 are 市财政局 and
    第1中学 typed with a space or an input method's full-width digit."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", unit))


def _problem(item, users: set[str], groups: set[str]) -> tuple[str | None, str | None]:
    """What is wrong with one item, in Chinese and English; (None, None) if nothing."""
    if not isinstance(item, dict):
        return "不是对象", "not an object"
    if not isinstance(item.get("unit"), str) or not item["unit"].strip():
        return "缺少单位名称 unit", "no unit name"
    # the unit names the body's steps in every inbox line: a line break would forge another
    if (hidden := first_hidden(item["unit"])) is not None:
        return (f"的单位名称含有控制字符或不可见字符（U+{ord(hidden):04X}，如换行）",
                f"the unit has a control or invisible character, U+{ord(hidden):04X}")
    if len(item["unit"]) > UNIT_LENGTH:
        return f"的单位名称超过 {UNIT_LENGTH} 个字符", f"the unit is longer than {UNIT_LENGTH} characters"
    user, group = _given(item, "user"), _given(item, "group")
    if user is not None and group is not None:
        return "同时有 user 和 group，只能有其一", "both user and group: give one"
    if user is None and group is None:
        return "缺少报送人 user 或报送用户组 group", "neither user nor group: give one"
    if not isinstance(user if group is None else group, str):
        return f"的 {'user' if group is None else 'group'} 应为文字", f"{'user' if group is None else 'group'} is not text"
    if user is not None and user not in users:
        return f"的用户 {user} 不存在或已停用", f"user {user} is unknown or deactivated"
    if group is not None and group not in groups:
        return f"的用户组 {group} 不存在", f"group {group} does not exist"
    return None, None


def _given(item: dict, key: str):
    """The item's `key`, None when missing or empty (the diagram's `empty` treats both alike)."""
    value = item.get(key)
    return None if value is None or value == "" else value


def _known(session: Session, items: list) -> tuple[set[str], set[str]]:
    """Of the users and groups the items name, the active users and the existing groups. The
    users' rows are share-locked until the commit, as a start locks its actor's (users before
    plans): a deactivation under way is waited for and seen, and one that comes later finds
    the round's tasks they hold and hands them back."""
    named = [i for i in items if isinstance(i, dict)]
    users = sorted({i["user"] for i in named if isinstance(i.get("user"), str)})
    groups = sorted({i["group"] for i in named if isinstance(i.get("group"), str)})
    # the activity filtered here, not in SQL: a row a deactivation has just changed would be
    # skipped by the WHERE of the statement's older snapshot rather than waited for and re-read
    held = select(User.username, User.active).where(User.username.in_(users)).with_for_update(read=True)
    return ({name for name, active in session.execute(held) if active} if users else set(),
            set(session.execute(select(Group.code).where(Group.code.in_(groups))).scalars()) if groups else set())


def _refuse(zh: str, en: str) -> None:
    raise Invalid(f"{zh}；每项应为 {SHAPE_ZH} ({en}; each item is {SHAPE_EN})")

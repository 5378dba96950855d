"""Who may act: the groups and users a diagram names literally (candidate groups and users,
assignees, candidate starters) must exist in the database it is checked against. A misspelt
group deploys fine and leaves a task nobody can claim (the reform office cannot assign it
either: only to candidates), so `reformflow --db URL check` and deploy warn about it."""
from __future__ import annotations

import difflib
from typing import Collection, Iterator, Mapping

from ..xmlsafe import parse_bpmn_bytes
from .common import CAMUNDA, LIST_NAME, in_english, local_name, problem

# attribute -> (what it names, kind) ; kind: "group" or "user"
_ATTRIBUTES = {"candidateGroups": "group", "candidateUsers": "user", "assignee": "user",
               "candidateStarterGroups": "group", "candidateStarterUsers": "user"}


def directory_problems(files: list[tuple[str, bytes]], groups: Collection[str],
                        users: Collection[str]) -> Iterator[dict]:
    """Warnings for every literal group or user name in `files` ((name, BPMN bytes) pairs) that
    the database does not have; names written as ${...} expressions are decided when the task opens.
    `groups` and `users`: the codes and usernames, or dicts of them to their display names, with
    which a display name written for its code (专家 for expert, 李娜 for li) is named as such."""
    known = {"group": groups, "user": users}
    for file_name, data in files:
        for el in parse_bpmn_bytes(data, file_name).getroot().iter():
            for attribute, kind in _ATTRIBUTES.items():
                text = el.get(CAMUNDA + attribute)
                if not text or "${" in text or "#{" in text:
                    continue
                for name in (n.strip() for n in text.split(",")):
                    # a name that is no name (`legal_experts，legal`, a Chinese comma) is refused by
                    # the assignment and start-permission rules already: not a group to create
                    if name and name not in known[kind] and LIST_NAME.match(name):
                        yield problem(file_name, el, "directory", _message(local_name(el), attribute, kind, name,
                                                                            known[kind]), "warning")


_KIND_ZH = {"group": "角色", "user": "用户"}
_ELEMENT_ZH = {"userTask": "用户任务", "process": "流程"}


def _message(element: str, attribute: str, kind: str, name: str, known: Collection[str]) -> str:
    what, where = _KIND_ZH[kind], _ELEMENT_ZH.get(element, f" {element}")
    # the name `groups list` / `users list` shows beside the code: 专家 for expert, 李娜 for li
    codes = sorted(code for code, shown in known.items() if (shown or "").strip() == name) \
        if isinstance(known, Mapping) else []
    if codes:
        shown = in_english(name, f"'{name}'")
        return (f"camunda:{attribute} 指定的{what} '{name}' 在此数据库中不存在：{name} 是{what} {'、'.join(codes)} 的"
                f"显示名称，请写 {' 或 '.join(codes)} (camunda:{attribute} names the {kind} {shown}, which this "
                f"database does not have: {shown} is the display name of the {kind} {', '.join(codes)}; write "
                f"{' or '.join(codes)})")
    # only a slip of the keyboard (legals → legal): gov_office is a group not added yet, not reform_office
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
    hint_zh, hint = (f"，是否应为 {close[0]}？", f" (did you mean {close[0]}?)") if close else ("。", "")
    add = "reformflow groups add CODE" if kind == "group" else "reformflow users add NAME"
    return (f"camunda:{attribute} 指定的{what} '{name}' 在此数据库中不存在{hint_zh}在该{what}创建之前（{add}），"
            f"无人能以此{what}身份办理此{where} "
            f"(camunda:{attribute} names the {kind} '{name}', which this database does not have{hint}. "
            f"Nobody can act on this {element} as that {kind} until it exists ({add}).)")

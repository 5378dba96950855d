"""People and groups as the pages name them: 张伟（zhang）, 法制机构; never a bare username or a
group code (`drafter`), which a person would have to ask about. Read once per request, when a
page first asks (flask.g), in one query each: the directory is small."""
from __future__ import annotations

from flask import Flask, g
from sqlalchemy import select

from models import Group, User

from . import current, i18n


def _directory() -> tuple[dict[str, str], dict[str, str]]:
    if "names" not in g:
        engine = current.engine()
        with engine.db.reader() as s:
            people = dict(s.execute(select(User.username, User.display_name)).all())
            groups = dict(s.execute(select(Group.code, Group.display_name)).all())
        g.names = (people, groups)
    return g.names


def person(username: str | None) -> str:
    """张伟（zhang）, on an English page 张伟 (zhang); a username nobody has (a removed user) as it is."""
    if not username:
        return "—"
    display = _directory()[0].get(username)
    if not display or display == username:
        return username
    return f"{display} ({username})" if i18n.current() == "en" else f"{display}（{username}）"


def group(code: str) -> str:
    """法制机构, on an English page 法制机构 (legal): groups have a Chinese name only, and the code
    is the English reader's key to it, as a person's username is."""
    display = _directory()[1].get(code)
    if not display or display == code:
        return code
    return f"{display} ({code})" if i18n.current() == "en" else display


def candidates(task: dict) -> str:
    """Who may take a step: its groups by name, then its people; `—` if nobody is named."""
    said = [group(c) for c in task.get("candidate_groups") or []]
    said += [person(u) for u in task.get("candidate_users") or []]
    return ("、" if i18n.current() == "zh" else ", ").join(said) or "—"


def install(app: Flask) -> None:
    app.jinja_env.globals.update(person_name=person, group_name=group, candidates=candidates)

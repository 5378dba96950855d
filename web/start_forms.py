"""What the "start a plan" page needs to know of a process: its latest version's name, the start
event's form (the fields `Engine.start` validates the start data against), who may start it
(camunda:candidateStarterGroups / Users) and which processes call it (their call activities: a
legality review runs inside a reform plan, not on its own). The page shows these; the engine decides."""
from __future__ import annotations

import json

from sqlalchemy import select

from engine import reporting_bodies
from engine.commands import Engine
from engine.errors import Invalid
from engine.queries import callers
from models import ProcessDefinition


def processes(engine: Engine) -> list[dict]:
    """The latest version of every deployed process, by key, with its start rules."""
    with engine.db.reader() as s:
        rows = s.execute(select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
                                ProcessDefinition.start_config, ProcessDefinition.called_keys)
                         .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
    latest = {}
    for key, version, name, config, _called in rows:
        if key not in latest:
            latest[key] = _described(key, version, name, config)
    for callee, names in callers((key, name, called) for key, _version, name, _config, called in rows).items():
        if callee in latest:
            latest[callee]["called_by"] = names
    return list(latest.values())


def offered(process: dict) -> bool:
    """Whether the start list offers it: a process another one calls is started by that one."""
    return not process["called_by"]


def process(engine: Engine, key: str) -> dict | None:
    return next((p for p in processes(engine) if p["key"] == key), None)


def may_start(process: dict, person) -> bool:
    """Whether the engine's start would let `person` start it (as Engine.start checks): no
    starters named, or they are one, or in one of the starter groups. For showing only."""
    groups, users = process["starter_groups"], process["starter_users"]
    return not (groups or users) or person.username in users or bool(set(groups) & set(person.group_codes))


def starter_names(engine: Engine, process: dict) -> list[str]:
    """Who may start it, as people read it: groups by their names, then users."""
    groups = {g["code"]: g["display_name"] for g in engine.groups()}
    return [groups.get(code, code) for code in process["starter_groups"]] + process["starter_users"]


def _described(key: str, version: int, name: str, config_json: str | None) -> dict:
    config = json.loads(config_json or "{}")
    return {"key": key, "version": version, "name": name, "form": config.get("start_form", []),
            "starter_groups": config.get("starter_groups", []), "starter_users": config.get("starter_users", []),
            # the start variable listing the reporting bodies of a round (work_report's reporters)
            "reporting_bodies": config.get("properties", {}).get(reporting_bodies.PROPERTY),
            "called_by": []}


BODIES_FIELD = "reporting-bodies"  # with a hyphen: no diagram's variable can be called so


def bodies_from_lines(text: str) -> list[dict]:
    """The reporting bodies typed one a line, 「单位名称 用户名」 or 「单位名称 @用户组」 (a comma or
    a Chinese comma may stand for the space), as Engine.start takes them: [{"unit", "user"|"group"}].
    A line that is not so is refused here, by its number, in the words of the page."""
    bodies = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) < 2:
            raise Invalid(f"报送单位第 {number} 行「{line.strip()}」应为「单位名称 用户名」或「单位名称 @用户组」 "
                          f"(line {number} of the reporting bodies must be 'unit username' or 'unit @group')")
        unit, who = " ".join(parts[:-1]), parts[-1]
        bodies.append({"unit": unit, "group": who[1:]} if who.startswith("@") else {"unit": unit, "user": who})
    return bodies

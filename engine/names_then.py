"""People as they were named when they acted (QA auditor finding 13): a trail showed everyone by
today's name and unit, so after a rename or a move an old event seemed done by the new name or in
the new unit. The trail itself says when each changed: `user_added` holds the name and unit a user
was added with, each `user_changed` the old and new values of what changed. Read once a trail (one
indexed SELECT of those two kinds of event), they give each person's name and unit at any event:
the state after the last of their changes numbered before it. Events of every age are covered, no
event had to change, and the hash already covers what is read.

A person whose history the trail lacks (added before it began) is shown as today; a field their
history does not tell (a change that never touched it, with no `user_added` before) likewise.
"""
from __future__ import annotations

import json
from bisect import bisect_left
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent

FIELDS = ("display_name", "unit")
_UNKNOWN = object()  # a field the trail does not tell: today's is shown
_CHANGES = select(AuditEvent.seq, AuditEvent.event_type, AuditEvent.payload).where(
    AuditEvent.event_type.in_(("user_added", "user_changed"))).order_by(AuditEvent.seq)


@dataclass
class NamesThen:
    """Each person's name and unit along the trail, and today's."""
    now_names: dict[str, str]
    now_units: dict[str, str | None]
    # username -> event numbers, ascending, and the (name, unit) in force from each on
    seqs: dict[str, list[int]] = field(default_factory=dict)
    states: dict[str, list[tuple]] = field(default_factory=dict)

    def at(self, username: str | None, seq: int) -> tuple[str | None, str | None]:
        """(name, unit) of `username` when event `seq` was written: as the changes numbered before
        it left them; today's where the trail does not tell."""
        now = (self.now_names.get(username), self.now_units.get(username))
        seqs = self.seqs.get(username)
        if not seqs:
            return now
        at = bisect_left(seqs, seq) - 1  # the last change strictly before the event
        if at < 0:
            return now
        return tuple(now[i] if value is _UNKNOWN else value for i, value in enumerate(self.states[username][at]))

    def differs(self, username: str | None, seq: int) -> dict:
        """The trail's fields for `username` at event `seq`: `*_name` then, and `*_name_now` /
        `*_unit_now` only where today's differs (and both are known)."""
        name, unit = self.at(username, seq)
        now_name, now_unit = self.now_names.get(username), self.now_units.get(username)
        found = {"name": name, "unit": unit}
        if name and now_name and name != now_name:
            found["name_now"] = now_name
        if unit != now_unit and username in self.now_names:
            found["unit_now"] = now_unit
        return found


def load(session: Session, now_names: dict[str, str], now_units: dict[str, str | None]) -> NamesThen:
    """Everyone's names and units along the trail: one SELECT of the user_added and user_changed
    events (ix_audit_events_event_type)."""
    found = NamesThen(now_names, now_units)
    current: dict[str, list] = {}
    for seq, kind, payload in session.execute(_CHANGES):
        try:
            data = json.loads(payload)
            username = data["username"]
        except (ValueError, KeyError, TypeError):  # a changed event is verify's to report, not ours
            continue
        if kind == "user_added":
            state = [data.get("display_name", _UNKNOWN), data.get("unit", _UNKNOWN)]
        else:
            new, old = data.get("new") or {}, data.get("old") or {}
            if not any(f in new for f in FIELDS):
                continue  # an email, groups or digest changed: not what a trail shows
            if username not in current:  # added before the trail began: what it was is in `old`
                _keep(found, username, 0, [old.get(f, _UNKNOWN) for f in FIELDS])
            state = [new[f] if f in new else value
                     for f, value in zip(FIELDS, current.get(username) or [old.get(f, _UNKNOWN) for f in FIELDS])]
        current[username] = state
        _keep(found, username, seq, state)
    return found


def _keep(found: NamesThen, username: str, seq: int, state: list) -> None:
    found.seqs.setdefault(username, []).append(seq)
    found.states.setdefault(username, []).append(tuple(state))

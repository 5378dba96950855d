"""Verifying the whole trail from the web, in the background, with its progress for everyone to see.

A trail of years runs to a million events and ~80 s to verify (engine/audit.py `verify`), files
on PostgreSQL to minutes: longer than a web worker may stay silent (gunicorn `--timeout 60`) and
than a person waits at a blank page. So the page starts a check (`start`), a thread of that web
worker runs it (`run`), writing how far it got to its `audit_checks` row at most once a second,
and the page shown to the auditor (served by whichever worker) reads that row (`status`) until the
result is there. The finished check is put on the trail as an `audit_verified` event (who checked,
up to which event, what was found), so the trail also shows that it was checked.

One check runs at a time: starting one while another is alive shows that one. A check whose worker
stopped (a restart, a crash) stops showing signs of life; after STALE it is reported as cut off and
a new one may start.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from models import AuditCheck, AuditHead, User

from .audit import verify
from .clock import real_now
from .errors import Forbidden, NotFound
from .queries import ADMIN_GROUP, iso
from .visibility import AUDITOR_GROUP

STALE = timedelta(minutes=2)  # no progress written for this long: its worker is gone
EVERY_SECONDS = 1.0  # progress is written at most this often (and once at the end)


def _real_now() -> datetime:
    # The real time, not engine.clock's now(): whether a worker is still alive is a matter of real
    # seconds (real_now is moved only by a test run's day offset, as recorded_at is).
    return real_now()


def _auditor(engine, ctx, actor: str) -> None:
    member = engine._member(ctx, actor)
    if ADMIN_GROUP not in member.group_codes and AUDITOR_GROUP not in member.group_codes:
        raise Forbidden("只有审计人员和改革办可以校验审计记录 (only auditors and the reform office may verify the trail)")


def start(engine, actor: str) -> dict:
    """A new check by `actor` (auditor or reform office), or the one already running: its status,
    with `started` True only for a new one (which the caller then runs)."""
    with engine.command(actor) as ctx:
        _auditor(engine, ctx, actor)
        # two auditors pressing at once: the second waits here for the first's row, then sees it
        ctx.session.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
        now = _real_now()
        alive = ctx.session.execute(
            select(AuditCheck).where(AuditCheck.finished_at.is_(None), AuditCheck.updated_at > now - STALE)
            .order_by(AuditCheck.id.desc()).limit(1)).scalar()
        if alive is not None:
            return {**_status(alive, now), "started": False}
        check = AuditCheck(requested_by=actor, started_at=now, updated_at=now, events_checked=0, events_expected=0,
                           files_checked=0, files_expected=0, bytes_read=0, bytes_expected=0)
        ctx.session.add(check)
        ctx.session.flush()
        return {**_status(check, now), "started": True}


class Progress:
    """Writes a check's progress to its row, at most once every `every` seconds, each in a
    transaction of its own (the verification reads in another, long one)."""

    def __init__(self, db, check_id: int, every: float = EVERY_SECONDS):
        self.db, self.check_id, self.every = db, check_id, every
        self.last = float("-inf")
        self.values: dict = {}

    def events(self, checked: int, expected: int) -> None:
        self._note(events_checked=checked, events_expected=expected)

    def files(self, checked: int, expected: int, read: int, total: int) -> None:
        self._note(files_checked=checked, files_expected=expected, bytes_read=read, bytes_expected=total)

    def _note(self, **values) -> None:
        self.values.update(values)
        if time.monotonic() - self.last >= self.every:
            self.write()

    def write(self, **more) -> None:
        with self.db.transaction() as s:
            check = s.get(AuditCheck, self.check_id)
            for name, value in {**self.values, **more}.items():
                setattr(check, name, value)
            check.updated_at = _real_now()
        self.last = time.monotonic()


def run(engine, check_id: int, every: float = EVERY_SECONDS) -> dict:
    """Verify the whole trail for check `check_id` (from `start`), then record the result on its row
    and on the trail, in one transaction. Whatever stops it is written on the row for the page."""
    progress = Progress(engine.db, check_id, every)
    try:
        with engine.db.reader() as s:
            result = verify(s, progress=progress.events, file_progress=progress.files,
                            earlier=latest_intact(s)).to_dict()
        with engine.command(_requested_by(engine, check_id)) as ctx:
            check = ctx.session.get(AuditCheck, check_id)
            for name, value in progress.values.items():
                setattr(check, name, value)
            check.result = json.dumps(result, ensure_ascii=False)
            check.finished_at = check.updated_at = _real_now()
            # what the trail keeps of it: enough to say later "intact up to event N, hash H"
            ctx.log.record("audit_verified", ok=result["ok"], events=result["events"], head_hash=result["head_hash"],
                           files=result["files"], problems=len(result["problems"]), check_id=check_id)
    except Exception as exc:
        progress.write(failure=f"{type(exc).__name__}: {exc}"[:2000], finished_at=_real_now())
        raise
    return status(engine, check_id)


def _requested_by(engine, check_id: int) -> str:
    with engine.db.reader() as s:
        return s.get(AuditCheck, check_id).requested_by


def status(engine, check_id: int) -> dict:
    with engine.db.reader() as s:
        check = s.get(AuditCheck, check_id)
        if check is None:
            raise NotFound(f"没有编号为 {check_id} 的校验 (no check {check_id})")
        return _status(check, _real_now())


def latest(engine) -> dict | None:
    """The last check that finished with a result, or None."""
    with engine.db.reader() as s:
        check = s.execute(select(AuditCheck).where(AuditCheck.result.is_not(None))
                          .order_by(AuditCheck.finished_at.desc(), AuditCheck.id.desc()).limit(1)).scalar()
        return _status(check, _real_now()) if check is not None else None


def latest_intact(session) -> dict | None:
    """What the latest check that found the trail intact saw: {"check_id", "finished_at",
    "requested_by", "requested_by_name", "events", "head_hash"}, or None. `verify` compares the
    trail with it, as with an anchor: the web page takes no anchor file, and a trail cut back
    (newest events deleted, head set back) was reported intact with fewer events than it saw."""
    checks = session.execute(select(AuditCheck).where(AuditCheck.result.is_not(None))
                             .order_by(AuditCheck.finished_at.desc(), AuditCheck.id.desc()).limit(_LOOK_BACK)).scalars()
    for check in checks:
        result = json.loads(check.result)
        if result["ok"]:
            name = session.execute(select(User.display_name).where(User.username == check.requested_by)).scalar()
            return {"check_id": check.id, "finished_at": iso(check.finished_at), "requested_by": check.requested_by,
                    "requested_by_name": f"{name}（{check.requested_by}）" if name else None,
                    "events": result["events"], "head_hash": result["head_hash"]}
    return None


_LOOK_BACK = 50  # checks looked through for the latest intact one: broken ones in a row are few


def _status(check: AuditCheck, now: datetime) -> dict:
    if check.result is not None:
        state = "finished"
    elif check.failure is not None:
        state = "failed"
    elif check.updated_at <= now - STALE:
        state = "cut_off"
    else:
        state = "running"
    return {"id": check.id, "state": state, "requested_by": check.requested_by, "started_at": iso(check.started_at),
            "updated_at": iso(check.updated_at), "finished_at": iso(check.finished_at),
            "events_checked": check.events_checked, "events_expected": check.events_expected,
            "files_checked": check.files_checked, "files_expected": check.files_expected,
            "bytes_read": check.bytes_read, "bytes_expected": check.bytes_expected,
            "result": json.loads(check.result) if check.result is not None else None, "failure": check.failure}

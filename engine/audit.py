"""The audit trail: every change appends an event, hash-chained to the one before.

An event's hash covers its sequence number, time, actor, type, instance, task, payload and
the previous event's hash, so changing, removing or inserting any event breaks the chain from
that point on. The chain's tip is also kept in `audit_head`; locking that row serialises
appends from several web workers and keeps sequence numbers gap-free.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, AuditHead

GENESIS_HASH = "0" * 64
EXPORT_FIELDS = ("seq", "occurred_at", "actor", "event_type", "instance_id", "task_id",
                 "payload", "prev_hash", "hash")


def canonical_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def event_hash(seq: int, occurred_at: datetime, actor: str, event_type: str,
               instance_id: int | None, task_id: int | None, payload: str, prev_hash: str) -> str:
    material = canonical_json([seq, _stamp(occurred_at), actor, event_type, instance_id,
                               task_id, payload, prev_hash])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass
class AuditLog:
    """Events recorded during one command, written in one go when the command commits."""
    actor: str
    now: datetime
    pending: list = field(default_factory=list)

    def record(self, event_type: str, *, instance_id: int | None = None,
               task_id: int | None = None, **payload) -> None:
        self.pending.append((event_type, instance_id, task_id, payload))

    def flush(self, session: Session) -> list[AuditEvent]:
        if not self.pending:
            return []
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
        written = []
        for event_type, instance_id, task_id, payload in self.pending:
            seq = head.last_seq + 1
            body = canonical_json(payload)
            digest = event_hash(seq, self.now, self.actor, event_type, instance_id, task_id,
                                body, head.last_hash)
            event = AuditEvent(seq=seq, occurred_at=self.now, actor=self.actor,
                               event_type=event_type, instance_id=instance_id, task_id=task_id,
                               payload=body, prev_hash=head.last_hash, hash=digest)
            session.add(event)
            head.last_seq, head.last_hash = seq, digest
            written.append(event)
        self.pending.clear()
        return written


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    problems: list[str]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head_hash": self.head_hash,
                "problems": self.problems}


def verify(session: Session, batch: int = 2000) -> VerifyResult:
    """Walk the whole chain; report every changed, removed or inserted event."""
    problems: list[str] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    last_seq = 0
    while True:
        rows = session.execute(select(AuditEvent).where(AuditEvent.seq > last_seq)
                               .order_by(AuditEvent.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for e in rows:
            count += 1
            if e.seq != expected_seq:
                problems.append(f"event {expected_seq}..{e.seq - 1} missing (sequence jumps to {e.seq})")
            if e.prev_hash != prev_hash:
                problems.append(f"event {e.seq}: previous-hash link broken (an event before it was removed, inserted or changed)")
            recomputed = event_hash(e.seq, e.occurred_at, e.actor, e.event_type, e.instance_id,
                                    e.task_id, e.payload, e.prev_hash)
            if recomputed != e.hash:
                problems.append(f"event {e.seq}: content does not match its hash (the event was changed)")
            prev_hash, expected_seq, last_seq = e.hash, e.seq + 1, e.seq
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev_hash):
        problems.append(f"chain ends at event {last_seq} but the recorded head is event "
                        f"{head.last_seq}: events at the end were removed or added")
    return VerifyResult(not problems, count, prev_hash, problems)


def _event_dict(e: AuditEvent) -> dict:
    return {"seq": e.seq, "occurred_at": _stamp(e.occurred_at), "actor": e.actor,
            "event_type": e.event_type, "instance_id": e.instance_id, "task_id": e.task_id,
            "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}


def iter_events(session: Session, instance_id: int | None = None, batch: int = 2000) -> Iterator[dict]:
    last = 0
    while True:
        query = select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        if instance_id is not None:
            query = query.where(AuditEvent.instance_id == instance_id)
        rows = session.execute(query).scalars().all()
        if not rows:
            return
        for e in rows:
            yield _event_dict(e)
        last = rows[-1].seq
        session.expunge_all()


def export(session: Session, out: io.TextIOBase, fmt: str = "jsonl", instance_id: int | None = None) -> int:
    """Write events as JSON lines or CSV; the payload stays the exact hashed string so an
    auditor can recompute every hash from the export alone."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in iter_events(session, instance_id):
            writer.writerow(row)
            count += 1
    elif fmt == "jsonl":
        for row in iter_events(session, instance_id):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}; use jsonl or csv")
    return count

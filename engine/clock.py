"""The one clock of the engine.

Every read of "the current time" inside reformflow goes through :func:`now`
so that tests, the CLI's ``--now`` option and SpiffWorkflow's timer events
all agree on what time it is.  Business dates are reckoned in
Asia/Shanghai (:data:`TZ`); instants are passed around as aware UTC.

Two ways to fix the clock:

* :func:`frozen` -- a context manager, nestable, scoped to the current
  thread / asyncio task (it uses a :class:`contextvars.ContextVar`, so a
  request handler freezing time does not leak into other requests).
  Note that a new ``threading.Thread`` starts with an empty context and
  therefore does *not* see a ``frozen`` block of its creator.
* :func:`set_override` -- process-wide, for the CLI's ``--now`` which
  applies to the whole command regardless of threads.

A ``frozen`` block wins over ``set_override``; the innermost ``frozen``
block wins over outer ones.

And one way to move it while it keeps running:

* :func:`set_offset` / :func:`shift_to` -- process-wide, a fixed
  :class:`~datetime.timedelta` added to the machine's clock (real now +
  offset), so a test run can be had "as on" another day while timers,
  sessions and waits still see seconds pass.  The test suite sets it from
  ``REFORMFLOW_TEST_TODAY`` (tests/conftest.py); the product never does.
  It moves :func:`real_now` too (the audit trail's ``recorded_at``), so a
  shifted run does not look like backdating.  ``frozen`` and
  ``set_override`` fix the time outright and win over it.
"""

from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Iterator
from zoneinfo import ZoneInfo

__all__ = [
    "TZ",
    "now",
    "local_now",
    "today",
    "frozen",
    "set_override",
    "get_override",
    "real_now",
    "set_offset",
    "get_offset",
    "shift_to",
    "patch_spiffworkflow_clock",
]

# The years the engine deals in, one range for every command that takes a year or a date (the
# calendar, --now, the supervision ledger's --year, the bulletin's --quarter): far beyond any
# plan, well inside what dates and both databases hold.
YEARS = (1900, 2100)

#: The business time zone: every deadline date is a date in this zone.
TZ = ZoneInfo("Asia/Shanghai")

_frozen_at: contextvars.ContextVar[datetime | None] = contextvars.ContextVar(
    "reformflow_frozen_at", default=None
)
_override_lock = threading.Lock()
_override: datetime | None = None
_offset = timedelta(0)
_patch_lock = threading.Lock()
_real_datetime = datetime


def _to_utc(at: datetime) -> datetime:
    """Normalise an instant to aware UTC; a naive value means Asia/Shanghai
    wall-clock time because that is how analysts and admins write times."""
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {type(at).__name__}: {at!r}")
    if at.tzinfo is None or at.tzinfo.utcoffset(at) is None:
        at = at.replace(tzinfo=TZ)
    at = at.astimezone(timezone.utc)
    # Store a plain datetime even if handed a subclass (e.g. ClockDatetime).
    return _real_datetime.combine(at.date(), at.timetz())


def real_now() -> datetime:
    """The machine's clock as aware UTC, moved by :func:`set_offset` but never frozen or
    overridden: when a write really happened (the audit trail's ``recorded_at``), or whether
    a worker is still alive."""
    return _real_datetime.now(timezone.utc) + _offset


def now() -> datetime:
    """Current instant as an aware UTC datetime (frozen / overridden if set, else
    :func:`real_now`)."""
    at = _frozen_at.get()
    if at is None:
        at = _override
    if at is None:
        at = real_now()
    return at


def local_now() -> datetime:
    """:func:`now` expressed in the business time zone."""
    return now().astimezone(TZ)


def today() -> date:
    """Today's date in the business time zone (not the server's zone)."""
    return local_now().date()


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Fix :func:`now` to ``at`` (naive = Asia/Shanghai) inside the block.

    Yields the frozen instant as aware UTC.  Blocks nest; leaving a block
    restores whatever was in effect before it.
    """
    token = _frozen_at.set(_to_utc(at))
    try:
        yield _frozen_at.get()
    finally:
        _frozen_at.reset(token)


def set_override(at: datetime | None) -> None:
    """Fix the clock process-wide (the CLI's ``--now``); ``None`` clears it."""
    global _override
    value = None if at is None else _to_utc(at)
    with _override_lock:
        _override = value


def get_override() -> datetime | None:
    """The process-wide override set by :func:`set_override`, if any."""
    return _override


def set_offset(offset: timedelta) -> None:
    """Move the running clock process-wide by ``offset`` (``timedelta(0)`` undoes it)."""
    global _offset
    if not isinstance(offset, timedelta):
        raise TypeError(f"expected a timedelta, got {type(offset).__name__}: {offset!r}")
    with _override_lock:
        _offset = offset


def get_offset() -> timedelta:
    """The offset set by :func:`set_offset`."""
    return _offset


def shift_to(day: date) -> timedelta:
    """Set the offset to whole days so that :func:`today` is ``day`` now, the Asia/Shanghai
    time of day unchanged (a run started at 10:00 is a run at 10:00 on ``day``); returns it.
    Like the real clock, the date moves on at midnight Beijing time."""
    real_today = _real_datetime.now(timezone.utc).astimezone(TZ).date()
    offset = timedelta(days=(day - real_today).days)
    set_offset(offset)
    return offset


class _ClockDatetimeMeta(type):
    """Metaclass so ``isinstance(x, <patched datetime>)`` is true for every
    real datetime, exactly as it was before patching (SpiffWorkflow's timer
    code uses ``isinstance(value, datetime)``)."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


class ClockDatetime(_real_datetime, metaclass=_ClockDatetimeMeta):
    """``datetime`` whose ``now()``/``utcnow()`` read the engine clock.

    Everything else (``fromisoformat``, arithmetic, ...) is inherited.
    """

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> "ClockDatetime":
        """Engine clock converted to ``tz``.  Without ``tz`` the result is
        naive Asia/Shanghai wall time (SpiffWorkflow is patched to read
        naive values in that zone too, see :func:`patch_spiffworkflow_clock`)."""
        current = now()
        if tz is None:
            local = current.astimezone(TZ).replace(tzinfo=None)
        else:
            local = current.astimezone(tz)
        return cls.combine(local.date(), local.timetz())

    @classmethod
    def utcnow(cls) -> "ClockDatetime":
        """Naive UTC, like :meth:`datetime.utcnow`, but from the engine clock."""
        current = now()
        return cls.combine(current.date(), current.time())


def patch_spiffworkflow_clock() -> None:
    """Make SpiffWorkflow's timer events read the engine clock.  Idempotent.

    SpiffWorkflow 3.2's ``bpmn/specs/event_definitions/timer.py`` imports
    ``datetime`` by name and calls ``datetime.now(timezone.utc)``; we swap
    that module global for :class:`ClockDatetime`.  We also set the module's
    ``LOCALTZ`` (used for naive timer values) to Asia/Shanghai instead of the
    server's zone, so a naive ``2026-12-01T09:00:00`` means the same instant
    to SpiffWorkflow as it does to :mod:`engine.deadlines`.
    """
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    with _patch_lock:
        if timer.datetime is not ClockDatetime:
            timer.datetime = ClockDatetime
        if getattr(timer, "LOCALTZ", None) is not TZ:
            timer.LOCALTZ = TZ

"""Deployed process versions, running plans and their inbox rows."""
from datetime import datetime

from sqlalchemy import (or_, Boolean, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime


class ProcessDefinition(Base):
    """One version of one executable BPMN process. Rows are never changed after deploy."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_definitions_key_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(300))
    # The two big columns load only when asked for: most reads need the key and version.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    # The parsed SpiffWorkflow spec, serialized once here instead of in every instance.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    called_keys: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of calledElement keys
    initiator_variable: Mapped[str | None] = mapped_column(String(200))  # camunda:initiator
    # JSON: process-level camunda:properties and candidate starter groups/users (engine.commands.start)
    start_config: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(64))


class ProcessInstance(Base):
    """A reform plan in flight: its workflow state plus the columns the inbox and ledger query."""

    __tablename__ = "process_instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    # key -> definition id of each called process, fixed when the plan starts (binding latest).
    subprocess_definitions: Mapped[str] = mapped_column(Text, default="{}")
    business_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), index=True)  # running / completed / cancelled (reformflow cancel) / error
    # The workflow state's header (no specs, no tasks: those are rows of instance_tasks)
    state_json: Mapped[str] = mapped_column(Text, deferred=True)
    variables_json: Mapped[str] = mapped_column(Text, default="{}")  # snapshot for reads
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic lock: an UPDATE that finds another version raises StaleDataError.
    version: Mapped[int] = mapped_column(Integer, default=1)

    definition: Mapped[ProcessDefinition] = relationship()
    __mapper_args__ = {"version_id_col": version}


# An inbox row someone can still act on.
OPEN_STATUSES = ("open", "claimed")


def is_open(status_column):
    """status IN ('open', 'claimed'), written as two comparisons: SQLAlchemy renders an IN list
    anew on every execution (~0.2 ms), a prebuilt statement with plain comparisons not at all."""
    return or_(*(status_column == status for status in OPEN_STATUSES))


class HumanTask(Base):
    """An inbox row mirroring one ready SpiffWorkflow user task."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_status_assignee", "status", "assignee"),
        # 已办: a person's completed steps, the latest first, a page at a time (schema 0017)
        Index("ix_human_tasks_completed_by_at", "completed_by", "completed_at"),
        UniqueConstraint("spiff_task_id", name="uq_human_tasks_spiff_task_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    # Which instance of a multi-instance activity the task belongs to, as people name it (a
    # round of reports: the reporting body); NULL outside one (engine.runtime.instance_subject).
    subject: Mapped[str | None] = mapped_column(String(200))
    # The unit whose members of the candidate groups may take the task while it is open (the
    # plan's lead unit, a user task's `candidateUnit` property, trimmed); NULL: any member
    # (engine.runtime.candidate_unit).
    candidate_unit: Mapped[str | None] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(200))
    documentation: Mapped[str | None] = mapped_column(Text)
    form_json: Mapped[str] = mapped_column(Text, default="[]")
    candidate_groups: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, for display
    candidate_users: Mapped[str] = mapped_column(Text, default="[]")
    assignee: Mapped[str | None] = mapped_column(String(64))
    # open / claimed / completed / cancelled; indexed as the first column of ix_human_tasks_status_assignee
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer, default=50)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # JSON {"at", "values"}: when due_at was computed (working days count from then) and the
    # variables the camunda:dueDate expression named, with their values; NULL for a due date that
    # depends on neither. A change to one of them, or to the calendar, computes due_at again.
    due_basis: Mapped[str | None] = mapped_column(Text)
    # The deadline the task had before a variable first moved it (a new filing deadline ordered,
    # 限期报送; schema 0026); NULL if none did. A calendar recount corrects due_at and leaves this
    # alone. A step is judged by the earlier of the two: a deadline missed stays missed
    # (engine/judged_due.py).
    first_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(64))
    # Set when a non-interrupting timer on this task fires: the holder has been reminded.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Someone saved a draft of it (暂存, models/draft.py): its completion deletes the drafts; without
    # one, a completion sends no DELETE at all (tests/test_statement_counts.py).
    drafted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)

    instance: Mapped[ProcessInstance] = relationship()
    candidates: Mapped[list["TaskCandidate"]] = relationship(cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}


class TaskCandidate(Base):
    """Who may claim a task: one row per candidate group or user, so the inbox query is a join."""

    __tablename__ = "task_candidates"
    __table_args__ = (Index("ix_task_candidates_kind_value", "kind", "value"),)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)  # group / user
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class InstanceTask(Base):
    """One SpiffWorkflow task of a plan (its subprocesses' included), serialized on its own, so
    that a command writes only the tasks it changed instead of the plan's whole state. The
    rest of the state (workflow attributes, subprocess headers) stays in
    ProcessInstance.state_json."""

    __tablename__ = "instance_tasks"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"),
                                             primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The subprocess it belongs to (the id of the task that runs it); "" for the plan itself.
    workflow: Mapped[str] = mapped_column(String(36))
    # Order of first save: a restored workflow lists its tasks in the order it created them.
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)

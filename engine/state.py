"""Workflow state in and out of the database.

A deployed definition stores its parsed spec once; an instance stores only its state: a small
header (the workflow's and its subprocesses' own attributes) and one row per task, of which a
save writes only those that changed (dump_changes). Serializing the whole spec into every save
(SpiffWorkflow's default) would multiply the bytes written per action many times over. Restored
specs are cached per definition id: rows are never changed after deploy, so the cache can never
go stale.
"""
from __future__ import annotations

from collections import OrderedDict

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (BpmnSubWorkflowConverter, BpmnWorkflowConverter,
                                                             TaskConverter)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task


def _without_tasks(converter, workflow) -> dict:
    """WorkflowConverter.to_dict of SpiffWorkflow 3.2.0 with an empty "tasks": the tasks are
    saved one by one, each only when it changed (dump_changes). tests/test_state_rows.py checks
    the result against SpiffWorkflow's own serializer after every action of a whole plan."""
    registry = converter.registry
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {},
        "root": str(workflow.task_tree.id),
    }


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Leaves specs and tasks out of the saved header and takes already-restored specs back in."""

    def to_dict(self, workflow):
        dct = _without_tasks(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        dct = dict(dct)
        spec, subprocess_specs = dct.pop("spec"), dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime, timedelta, Decimal, UUID})
_NO_PARENT = object()


def _flat_copy(dct: dict) -> dict | None:
    """A shallow copy of `dct` when every value is an immutable scalar, else None. Comparing
    such a copy with the live dict later sees any change to it."""
    for value in dct.values():
        if type(value) not in _SCALARS:
            return None
    return dict(dct)


class _ReusingTaskConverter(TaskConverter):
    """Hands back a task's dict from the previous save of this in-memory workflow when nothing
    it is built from has changed: state, timestamps, links, its data, its parent's data (the
    saved delta is relative to it) and internal data. Between two commands almost every task
    of a plan is finished and untouched, and converting them all again was ~60% of each save.
    Tasks holding lists or dicts are converted every time: an in-place change inside them would
    not show in the comparison. (Equal values count as unchanged, as in SpiffWorkflow's own
    delta: 1 and True are the same there too.)"""

    def to_dict(self, task):
        parent = task.parent
        key = (task.state, task.last_state_change, task.triggered, task._parent,
               tuple(task._children), task.task_spec.name)
        cached = getattr(task, "_reformflow_saved", None)
        if cached is not None:
            old_key, data, parent_data, internal, dct = cached
            if (old_key == key and data == task.data and internal == task.internal_data
                    and (parent_data is _NO_PARENT if parent is None else parent_data == parent.data)):
                return dct
        dct = super().to_dict(task)
        dct["typename"] = _TASK_TYPENAME  # as the registry adds it: restoring dispatches on it
        data, internal = _flat_copy(task.data), _flat_copy(task.internal_data)
        parent_data = _NO_PARENT if parent is None else _flat_copy(parent.data)
        if data is not None and internal is not None and parent_data is not None:
            task._reformflow_saved = (key, data, parent_data, internal, dct)
        return dct


class _TasklessSubWorkflowConverter(BpmnSubWorkflowConverter):
    """A subprocess's header: as SpiffWorkflow writes it, without its tasks."""

    def to_dict(self, workflow):
        dct = _without_tasks(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct


def _make_serializers():
    spec_config = dict(CAMUNDA_CONFIG)
    spec_registry = BpmnWorkflowSerializer.configure(spec_config)
    state_config = dict(CAMUNDA_CONFIG)
    state_config[BpmnWorkflow] = _SpecFreeWorkflowConverter
    state_config[BpmnSubWorkflow] = _TasklessSubWorkflowConverter
    state_config[Task] = _ReusingTaskConverter
    state_registry = BpmnWorkflowSerializer.configure(state_config)
    return BpmnWorkflowSerializer(spec_registry), BpmnWorkflowSerializer(state_registry)


SPEC_SERIALIZER, STATE_SERIALIZER = _make_serializers()
# The task converter dump_changes calls directly, without the registry's dispatch per task.
# (Constructing it registers it again in the same registry, in place of an identical one.)
_TASK_TYPENAME = STATE_SERIALIZER.registry.typenames[Task]
TASK_CONVERTER = _ReusingTaskConverter(Task, STATE_SERIALIZER.registry, _TASK_TYPENAME)


def spec_to_json(spec, embedded: dict) -> str:
    convert = SPEC_SERIALIZER.registry.convert
    return json.dumps({"spec": convert(spec),
                       "embedded": {k: convert(v) for k, v in embedded.items()}},
                      ensure_ascii=False, separators=(",", ":"))


# Definition versions whose restored specs an engine keeps: every version a process used was
# kept for good, ~0.5 MB each (200 versions deployed and used took a worker from 90 to 191 MB).
# One dropped is restored again when a plan on it acts, in 1-5 ms.
SPECS_KEPT = 64


def restore_specs(cache: OrderedDict, definition_id: int, load_json) -> tuple:
    """(spec, embedded subprocess specs) of one definition version, restored once per engine
    while it is among the SPECS_KEPT restored last. `load_json()` fetches the stored spec only on
    a cache miss. Definition rows never change, so an entry never goes stale; the cache belongs
    to one engine, i.e. one database."""
    cached = cache.get(definition_id)
    if cached is None:
        from .scripting import mark_timers
        data = json.loads(load_json())
        restore = SPEC_SERIALIZER.registry.restore
        spec = restore(data["spec"])
        embedded = {k: restore(v) for k, v in data["embedded"].items()}
        mark_timers([spec, *embedded.values()])
        cached = cache[definition_id] = (spec, embedded)
        while len(cache) > SPECS_KEPT:
            cache.popitem(last=False)  # atomic: threads of one web worker share the cache
    return cached


@dataclass
class StateChanges:
    """What one save writes: the state without its tasks (`header`), the tasks that are new or
    changed since the last save of this in-memory workflow, and the tasks that are gone."""
    header: str
    upserts: list[dict]  # instance_tasks columns but instance_id: task_id, workflow, position, body
    deletes: list[str]


@dataclass
class _Written:
    """What the database holds for an in-memory workflow: each task's dict as last written
    (or, right after a load, its stored JSON text), and the next free position."""
    tasks: dict = field(default_factory=dict)
    next_position: int = 0


# One encoder for every save: json.dumps(cls=...) builds a new one per call, which cost more
# than encoding a task's few hundred bytes.
_encode = STATE_SERIALIZER._encoder_cls(separators=(",", ":"), ensure_ascii=False).encode


def dump_changes(workflow: BpmnWorkflow) -> StateChanges:
    """The workflow's header, and those of its tasks (the plan's and its subprocesses') whose
    dict differs from what was written last. Between two commands a plan of ~115 tasks changes
    about 15; _ReusingTaskConverter hands back the very same dict for the others, so they are
    neither converted nor encoded again."""
    registry = STATE_SERIALIZER.registry
    registry._encoder_mode = True  # as BpmnWorkflowSerializer.serialize_json does
    written = getattr(workflow, "_reformflow_written", None) or _Written()
    current, upserts, position = {}, [], written.next_position
    try:
        header = STATE_SERIALIZER.to_dict(workflow)
        workflows = [("", workflow), *((str(key), sub) for key, sub in workflow.subprocesses.items())]
        for key, owner in workflows:
            for task in owner.tasks.values():
                task_dict = TASK_CONVERTER.to_dict(task)
                task_id = task_dict["id"]
                current[task_id] = task_dict
                old = written.tasks.get(task_id)
                if old is task_dict or (isinstance(old, dict) and old == task_dict):
                    continue
                body = _encode(task_dict)
                if old == body:  # as loaded: unchanged
                    continue
                upserts.append({"task_id": task_id, "workflow": key, "position": position, "body": body})
                if old is None:
                    position += 1
    finally:
        registry._encoder_mode = False
    deletes = [task_id for task_id in written.tasks if task_id not in current]
    workflow._reformflow_written = _Written(current, position)
    return StateChanges(_encode(header), upserts, deletes)


def load_state(header_json: str, task_rows, spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
    """The workflow from its header and its instance_tasks rows (task_id, workflow, position,
    body), in position order."""
    decoder = STATE_SERIALIZER.json_decoder_cls
    dct = json.loads(header_json, cls=decoder)
    subprocesses = dct["subprocesses"]
    written = _Written()
    for task_id, key, position, body in task_rows:
        (dct if key == "" else subprocesses[key])["tasks"][task_id] = json.loads(body, cls=decoder)
        written.tasks[task_id] = body
        written.next_position = max(written.next_position, position + 1)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    workflow = STATE_SERIALIZER.from_dict(dct)
    workflow.script_engine = script_engine  # a restored workflow comes back with plain eval
    workflow._reformflow_written = written
    return workflow

"""A multi-instance activity's collection after its instances complete in another process than
the one that started them (the next command line, another web worker, a restart): the engine
reads the specs afresh there. SpiffWorkflow's Camunda task set the collection as the activity's
input only in the process that started it, so in another one each instance's item was appended
to the list again: departments ['reform_office', 'legal'] became four, and a loop back to the
activity made four tasks."""
from __future__ import annotations

import pytest

from engine.commands import Engine

from .conftest import FIXTURES, read

DEPARTMENTS = ["reform_office", "legal"]


@pytest.mark.parametrize("name", ["multi_instance_parallel", "multi_instance_sequential"])
def test_the_collection_is_kept_as_it_was_when_another_process_completes_the_instances(db, people, name):
    first = Engine(db)
    first.deploy([read(FIXTURES / "corpus" / f"{name}.bpmn")])
    plan = first.start(f"corpus_{name}", actor="chen", data={"departments": DEPARTMENTS})
    for who, group in (("chen", "reform_office"), ("li", "legal")):
        later = Engine(db)  # its own spec cache, as another process has
        task = next(t for t in later.instance(plan["id"])["tasks"] if t["candidate_groups"] == [group])
        later.claim(task["id"], actor=who)
        later.complete(task["id"], actor=who, data={"opinion": f"{who} 的意见"})
    after = Engine(db).instance(plan["id"])
    assert after["variables"]["departments"] == DEPARTMENTS
    assert [t["name"] for t in after["tasks"]] == ["汇总意见"]

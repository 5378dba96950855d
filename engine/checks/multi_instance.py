"""Multi-instance: where it may be used and how its collection or cardinality is given."""
from __future__ import annotations

from ..expressions import is_wrapped
from .common import CAMUNDA, NS, Doc, check_expression, local_name, owner_of

MULTI_INSTANCE_HOSTS = {"userTask", "subProcess"}


def rule_multi_instance(doc: Doc):
    for loop in doc.iter("multiInstanceLoopCharacteristics"):
        owner = owner_of(loop.getparent())
        if local_name(owner) not in MULTI_INSTANCE_HOSTS:
            yield doc.problem(owner, "multi-instance", f"multi-instance {local_name(owner)}s are not supported; "
                              "multi-instance works on user tasks and subprocesses")
        collection = (loop.get(CAMUNDA + "collection") or "").strip()
        cardinality = loop.find("bpmn:loopCardinality", NS)
        has_cardinality = cardinality is not None and (cardinality.text or "").strip()
        if collection:
            if is_wrapped(collection) or not collection.isidentifier() or collection.startswith("_"):
                bare = collection[2:-1].strip() if is_wrapped(collection) else ""
                hint = f"write camunda:collection=\"{bare}\"" if bare.isidentifier() else \
                    "store the list in a variable first (e.g. a form field) and name that variable"
                yield doc.problem(owner, "multi-instance", f"camunda:collection `{collection}`: reformflow reads the "
                                  f"collection from a variable by name; {hint}")
            if not (loop.get(CAMUNDA + "elementVariable") or "").strip():
                yield doc.problem(owner, "multi-instance", "camunda:collection without camunda:elementVariable: "
                                  "name the variable each instance gets (e.g. department)")
        elif not has_cardinality:
            yield doc.problem(owner, "multi-instance", "multi-instance needs camunda:collection (a list variable) "
                              "or a loop cardinality")
        if has_cardinality:
            yield from check_expression(doc.file, owner, cardinality.text, "multi-instance", "loopCardinality")
        element_variable = loop.get(CAMUNDA + "elementVariable")
        if element_variable and (not element_variable.isidentifier() or element_variable.startswith("_")):
            yield doc.problem(owner, "multi-instance", f"camunda:elementVariable '{element_variable}' must be a plain variable name")

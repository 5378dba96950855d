"""Call activities: the called process, its binding, the variable mappings."""
from __future__ import annotations

from .common import CAMUNDA, NS, Doc, local_name

def rule_call_activities(doc: Doc):
    for call in doc.iter("callActivity"):
        key = (call.get("calledElement") or "").strip()
        if not key:
            yield doc.problem(call, "call-activity", "no called process: set Called element to the id of a process")
            continue
        if "${" in key or "#{" in key:
            yield doc.problem(call, "call-activity", f"calledElement `{key}` is an expression; name the process id directly")
            continue
        binding = call.get(CAMUNDA + "calledElementBinding")
        if binding not in (None, "latest"):
            yield doc.problem(call, "call-activity", f"camunda:calledElementBinding=\"{binding}\": only binding "
                              "'latest' is supported (the latest version when the plan starts, kept for its lifetime)")
        for attr in ("calledElementVersion", "calledElementVersionTag", "calledElementTenantId"):
            if call.get(CAMUNDA + attr):
                yield doc.problem(call, "call-activity", f"camunda:{attr} is not supported; use binding 'latest'")
        ext = call.find("bpmn:extensionElements", NS)
        mappings = {"in": [], "out": []}
        if ext is not None:
            for m in ext:
                if isinstance(m.tag, str) and m.tag.startswith(CAMUNDA) and local_name(m) in mappings:
                    mappings[local_name(m)].append(m)
        for direction, items in mappings.items():
            if not any(m.get("variables") == "all" for m in items):
                yield doc.problem(call, "call-activity", f"reformflow always passes all variables {'into' if direction == 'in' else 'out of'} "
                                  f"the called process: add camunda:{direction} variables=\"all\" "
                                  f"({'In' if direction == 'in' else 'Out'} mappings → Propagate all variables)")
            for m in items:
                extra = sorted(set(m.attrib) - {"variables"})
                if extra or (m.get("variables") not in (None, "all")):
                    shown = " ".join(f'{a}="{m.get(a)}"' for a in sorted(m.attrib))
                    yield doc.problem(call, "call-activity", f"camunda:{direction} {shown}: only variables=\"all\" "
                                      "is supported (no single-variable, business-key or local mappings)")
        if key in doc.process_keys:
            continue
        if doc.deployed_keys is None:
            yield doc.problem(call, "call-activity", f"被调用的流程 {key} 不在这些文件中，且未给出数据库无法查找 (called "
                              f"process {key} is not in these files and no database was given to look for it; "
                              "deploy refuses unless it is deployed)", "warning")
        elif key not in doc.deployed_keys:
            yield doc.problem(call, "call-activity", f"calls process '{key}', which is neither deployed nor in this "
                              f"set of files; check the id (Called element) or deploy {key}.bpmn with it")

"""Call activities: the called process, its binding, the variable mappings."""
from __future__ import annotations

from .common import CAMUNDA, NS, Doc, local_name

def rule_call_activities(doc: Doc):
    for call in doc.iter("callActivity"):
        key = (call.get("calledElement") or "").strip()
        if not key:
            yield doc.problem(call, "call-activity", "未指定被调用的流程：请把 Called element 设为某个流程的 id (no called "
                              "process: set Called element to the id of a process)")
            continue
        if "${" in key or "#{" in key:
            yield doc.problem(call, "call-activity", f"calledElement 的值 `{key}` 是表达式，请直接写流程 id (calledElement "
                              f"`{key}` is an expression; name the process id directly)")
            continue
        binding = call.get(CAMUNDA + "calledElementBinding")
        if binding not in (None, "latest"):
            yield doc.problem(call, "call-activity", f"不支持 camunda:calledElementBinding=\"{binding}\"：只支持 binding "
                              "'latest'（方案启动时的最新版本，方案运行期间不变） (camunda:calledElementBinding="
                              f"\"{binding}\": only binding 'latest' is supported (the latest version when the plan "
                              "starts, kept for its lifetime))")
        for attr in ("calledElementVersion", "calledElementVersionTag", "calledElementTenantId"):
            if call.get(CAMUNDA + attr):
                yield doc.problem(call, "call-activity", f"不支持 camunda:{attr}，请用 binding 'latest' (camunda:{attr} "
                                  "is not supported; use binding 'latest')")
        ext = call.find("bpmn:extensionElements", NS)
        mappings = {"in": [], "out": []}
        if ext is not None:
            for m in ext:
                if isinstance(m.tag, str) and m.tag.startswith(CAMUNDA) and local_name(m) in mappings:
                    mappings[local_name(m)].append(m)
        for direction, items in mappings.items():
            if not any(m.get("variables") == "all" for m in items):
                zh = "传入被调用的流程" if direction == "in" else "从被调用的流程传回"
                label = "In" if direction == "in" else "Out"
                yield doc.problem(call, "call-activity", f"reformflow 总是把全部变量{zh}：请添加 camunda:{direction} "
                                  f"variables=\"all\"（{label} mappings → Propagate all variables） (reformflow always "
                                  f"passes all variables {'into' if direction == 'in' else 'out of'} the called "
                                  f"process: add camunda:{direction} variables=\"all\" ({label} mappings → "
                                  "Propagate all variables))")
            for m in items:
                extra = sorted(set(m.attrib) - {"variables"})
                if extra or (m.get("variables") not in (None, "all")):
                    shown = " ".join(f'{a}="{m.get(a)}"' for a in sorted(m.attrib))
                    yield doc.problem(call, "call-activity", f"不支持 camunda:{direction} {shown}：只支持 variables=\"all\""
                                      "（不支持单个变量、业务编号或 local 映射） (camunda:"
                                      f"{direction} {shown}: only variables=\"all\" is supported (no single-variable, "
                                      "business-key or local mappings))")
        yield from _call_cycle(doc, call, key)
        if key in doc.process_keys:
            continue
        if doc.deployed_keys is None:
            yield doc.problem(call, "call-activity", f"被调用的流程 {key} 不在这些文件中，又未指定数据库，无法查找；"
                              "部署时除非它已部署，否则会被拒绝 (called "
                              f"process {key} is not in these files and no database was given to look for it; "
                              "deploy refuses unless it is deployed)", "warning")
        elif key not in doc.deployed_keys:
            yield doc.problem(call, "call-activity", f"调用的流程 '{key}' 既未部署，也不在这些文件中；请检查 id"
                              f"（Called element），或把 {key}.bpmn 一起部署 (calls process '{key}', which is neither "
                              f"deployed nor in this set of files; check the id (Called element) or deploy {key}.bpmn "
                              "with it)")


def _call_cycle(doc: Doc, call, key: str):
    """A process that calls itself, directly or through the processes it calls: each start would
    nest subprocesses without end, and the engine refuses it at the 31st (walk.MAX_SUBPROCESS_DEPTH)."""
    own = next(iter(call.xpath("ancestor::bpmn:process/@id", namespaces=NS)), None)
    path = _call_path(doc.calls, key, own)
    if path is None:
        return
    if len(path) == 1:
        yield doc.problem(call, "call-activity", f"调用的是它自己所在的流程 {own}：每次启动都会无休止地嵌套子流程，方案无法"
                          f"启动；请把 Called element 改为要调用的另一个流程的 id (calls its own process {own}: every "
                          "start would nest subprocesses without end, so no plan could start; set Called element to "
                          "the id of another process)")
    else:
        chain = " → ".join([own] + path)
        yield doc.problem(call, "call-activity", f"调用的流程 {key} 又调用回本流程（{chain}）：每次启动都会无休止地嵌套"
                          f"子流程，方案无法启动；请去掉这一循环中的一个调用 (calls process {key}, which calls this "
                          f"process back ({chain}): every start would nest subprocesses without end, so no plan "
                          "could start; remove one of the calls of this cycle)")


def _call_path(calls: dict[str, set[str]], start: str, goal: str | None) -> list[str] | None:
    """The keys from `start` to `goal` along the calls (start first, goal last), or None."""
    before, pending = {start: None}, [start]
    while pending:
        key = pending.pop(0)
        if key == goal:
            path = []
            while key is not None:
                path.append(key)
                key = before[key]
            return path[::-1]
        for called in sorted(calls.get(key, ())):
            if called not in before:
                before[called] = key
                pending.append(called)
    return None

"""Unsupported things: BPMN elements, Camunda attributes and extensions reformflow refuses, ignores
or does not know, and the process's candidate starter lists."""
from __future__ import annotations

import difflib

from .common import BPMN, CAMUNDA, LIST_NAME, NS, Doc, is_bpmn, local_name, owner_of

# Every reason is (Chinese, English): the messages are Chinese first, the English in brackets.
UNSUPPORTED_ATTRIBUTES = {
    "class": ("Java 委托类无法在此运行", "Java delegate classes cannot run here"),
    "delegateExpression": ("委托表达式会调用 Java bean", "delegate expressions call Java beans"),
    "expression": ("camunda:expression 会调用 Java/JUEL 方法", "camunda:expression calls Java/JUEL methods"),
    "resultVariable": ("结果变量属于表达式任务或委托任务", "result variables belong to expression/delegate tasks"),
    "type": ("外部任务需要 Camunda 的 worker", "external tasks need a Camunda worker"),
    "topic": ("外部任务需要 Camunda 的 worker", "external tasks need a Camunda worker"),
    "decisionRef": ("reformflow 不运行 DMN 决策", "DMN decisions are not supported"),
    "formRef": ("reformflow 不显示 Camunda Forms（camunda:formRef）；请改用生成的任务表单（Forms → Type: Generated "
                "Task Forms，即 camunda:formData）",
                "Camunda Forms (camunda:formRef) are not rendered by reformflow; use generated task forms "
                "(Forms → Type: Generated Task Forms, i.e. camunda:formData)"),
    "errorCodeVariable": ("reformflow 不设置错误代码变量；请改为按表单字段分支",
                          "reformflow does not set error code variables; branch on a form field instead"),
    "errorMessageVariable": ("reformflow 不设置错误消息变量；请改为按表单字段分支",
                             "reformflow does not set error message variables; branch on a form field instead"),
    "escalationCodeVariable": ("reformflow 不设置升级代码变量", "reformflow does not set escalation code variables"),
    "caseRef": ("reformflow 不运行 CMMN 案例", "CMMN cases are not supported"),
    "variableMappingClass": ("变量映射类要运行 Java", "variable mapping classes run Java"),
    "variableMappingDelegateExpression": ("变量映射委托要运行 Java", "variable mapping delegates run Java"),
    "formHandlerClass": ("表单处理类要运行 Java；请改用生成的任务表单（camunda:formData）",
                         "form handler classes run Java; use generated task forms (camunda:formData)"),
}
# Camunda attributes and extensions that change nothing here: reported as info, by name, so an
# analyst knows they are read and ignored (reformflow has no job executor and no version tags).
_NO_JOB_EXECUTOR = ("reformflow 没有作业执行器", "reformflow has no job executor")
_STEP_BY_STEP = ("reformflow 没有作业执行器，每一步都在到达它的那次操作中运行",
                 "reformflow has no job executor: every step runs in the action that reaches it")
_TEMPLATES = ("元素模板是 Modeler 的元数据", "element templates are Modeler metadata")
IGNORED_ATTRIBUTES = {
    "asyncBefore": _STEP_BY_STEP,
    "asyncAfter": _STEP_BY_STEP,
    "exclusive": _NO_JOB_EXECUTOR,
    "jobPriority": _NO_JOB_EXECUTOR,
    "taskPriority": ("外部任务优先级属于外部任务，而外部任务不受支持",
                     "external task priorities belong to external tasks, which are not supported"),
    "versionTag": ("reformflow 自行编排版本号（每次有改动的部署生成第 n+1 版）",
                   "reformflow numbers versions itself (version n+1 on each changed deploy)"),
    "isStartableInTasklist": ("方案用 `reformflow start` 启动", "plans are started with `reformflow start`"),
    "async": ("reformflow 没有作业执行器（camunda:async 是 asyncBefore 的旧名）",
              "reformflow has no job executor (camunda:async is the old name of asyncBefore)"),
    "errorMessage": ("错误按代码匹配，消息不会传给方案", "errors are matched by their code; the message is not passed to the plan"),
    "modelerTemplate": _TEMPLATES,
    "modelerTemplateVersion": _TEMPLATES,
}
# Honoured, or checked by a rule of their own: no message from the attribute scan.
KNOWN_ATTRIBUTES = {"assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority", "formKey",
                    "initiator", "collection", "elementVariable", "calledElementBinding", "calledElementVersion",
                    "calledElementVersionTag", "calledElementTenantId", "candidateStarterGroups",
                    "candidateStarterUsers", "resource",
                    # details of constructs refused by name already: one message is enough
                    "decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag", "decisionRefTenantId",
                    "mapDecisionResult", "caseBinding", "caseVersion", "caseTenantId", "variableName",
                    "variableEvents", "formRefBinding", "formRefVersion",
                    # required by Camunda 7.20+, which the Modeler lint asks for; ignored here (docs §1)
                    "historyTimeToLive"}
UNSUPPORTED_EXTENSIONS = {
    "executionListener": ("执行监听器会运行 Java 或安全语言之外的脚本",
                          "execution listeners run Java or scripts outside the safe language"),
    "taskListener": ("任务监听器会运行 Java 或安全语言之外的脚本",
                     "task listeners run Java or scripts outside the safe language"),
    "connector": ("连接器会调用外部服务", "connectors call external services"),
    "inputOutput": ("不支持输入/输出映射；请改用表单和流程变量",
                    "input/output mappings are not supported; use forms and process variables"),
    "script": ("不支持外部或内嵌的 camunda:script", "external or inline camunda:script is not supported"),
    "field": ("字段注入用于配置 Java 委托，而 Java 委托无法在此运行",
              "field injection configures Java delegates, which cannot run here"),
    "potentialStarter": ("发起权限用流程上的 camunda:candidateStarterGroups / candidateStarterUsers 设置"
                         "（Process → Candidate starter groups / users）",
                         "start permission is given with camunda:candidateStarterGroups / candidateStarterUsers "
                         "on the process (Process → Candidate starter groups / users)"),
    "errorEventDefinition": ("外部任务上的错误事件定义需要 Camunda 的 worker",
                             "error event definitions on external tasks need a Camunda worker"),
}
IGNORED_EXTENSIONS = {"failedJobRetryTimeCycle": ("reformflow 没有作业执行器，不会重试任何作业",
                                                  "reformflow has no job executor, so no job is retried")}
# camunda: elements that are honoured (forms, properties, call-activity mappings) or nested inside
# one that is refused by name.
KNOWN_EXTENSIONS = {"formData", "formField", "validation", "constraint", "value", "properties", "property",
                    "in", "out", "inputParameter", "outputParameter", "list", "map", "entry", "string",
                    "expression", "connectorId"}
UNSUPPORTED_ELEMENTS = {
    "serviceTask": ("服务任务需要 Java 或外部 worker", "service tasks need Java or external workers"),
    "sendTask": ("发送任务需要 Java 或外部 worker", "send tasks need Java or external workers"),
    "businessRuleTask": ("不支持 DMN 业务规则任务", "DMN business rule tasks are not supported"),
    "receiveTask": ("引擎无法保存接收任务；请改用消息中间捕获事件（带信封图标的圆形事件）",
                    "receive tasks cannot be stored by the engine; use a message intermediate catch event "
                    "(the round event with an envelope) instead"),
    "complexGateway": ("不支持复杂网关", "complex gateways are not supported"),
    "adHocSubProcess": ("不支持 ad-hoc 子流程", "ad-hoc subprocesses are not supported"),
    "transaction": ("不支持事务子流程；请改用普通子流程", "transaction subprocesses are not supported; use an ordinary subprocess"),
    "standardLoopCharacteristics": ("不支持循环活动；请用排他网关画出回路",
                                    "loop activities are not supported; draw the loop back with an exclusive gateway"),
    "dataOutputAssociation": ("不支持写入数据对象（任务办结时会出错）；请删除从任务指向数据对象的箭头，数据对象本身可以保留",
                              "writing to a data object is not supported (the task would fail when it completes); "
                              "remove the arrow from the task to the data object — the data object itself may stay"),
    "linkEventDefinition": ("链接事件不会运行（流程会停在链接处）；请直接用顺序流连接",
                            "link events do not run (the plan would stop at the link); connect the sequence flow directly"),
    "compensateEventDefinition": ("不支持补偿", "compensation is not supported"),
    "conditionalEventDefinition": ("不支持条件事件；请改用网关条件或消息",
                                   "conditional events are not supported; use a gateway condition or a message"),
    "cancelEventDefinition": ("取消事件属于事务子流程，而事务子流程不受支持",
                              "cancel events belong to transactions, which are not supported"),
}


def rule_unsupported(doc: Doc):
    for el in doc.root.iter():
        if not isinstance(el.tag, str):
            continue
        local = local_name(el)
        if el.tag.startswith(BPMN) and local in UNSUPPORTED_ELEMENTS:
            target = owner_of(el.getparent()) if local.endswith(("EventDefinition", "Characteristics", "Association")) else el
            zh, en = UNSUPPORTED_ELEMENTS[local]
            yield doc.problem(target, "unsupported", f"{local}：{zh} ({local}: {en})")
        if el.tag.startswith(BPMN) and local == "subProcess" and el.get("triggeredByEvent") == "true":
            yield doc.problem(el, "unsupported", "不支持事件子流程（消息不会到达它）；请改在活动上用边界事件 (event "
                              "subprocesses are not supported (messages do not reach them); use a boundary event on "
                              "the activity instead)")
        if el.tag.startswith(BPMN) and local == "dataInputAssociation":
            sources = [doc.by_id.get((ref.text or "").strip()) for ref in el.findall("bpmn:sourceRef", NS)]
            if any(src is not None and local_name(src) == "dataStoreReference" for src in sources):
                yield doc.problem(owner_of(el.getparent()), "unsupported", "不支持从数据存储读取（引擎无法解析它）；请删除"
                                  "该箭头，数据存储本身可以保留 (reading from a data store is not supported "
                                  "(the engine cannot resolve it); remove the arrow — the data store itself may stay)")
        if el.tag.startswith(BPMN) and el.get("isForCompensation") == "true":
            yield doc.problem(el, "unsupported", "不支持补偿处理程序 (compensation handlers are not supported)")
        for attr, value in el.attrib.items():
            if not attr.startswith(CAMUNDA):
                continue
            name = attr[len(CAMUNDA):]
            if name in UNSUPPORTED_ATTRIBUTES:
                zh, en = UNSUPPORTED_ATTRIBUTES[name]
                yield doc.problem(el, "unsupported", f"不支持 camunda:{name}=\"{value}\"：{zh} (camunda:{name}=\"{value}\": {en})")
            elif name in IGNORED_ATTRIBUTES:
                zh, en = IGNORED_ATTRIBUTES[name]
                yield doc.problem(el, "unsupported", f"camunda:{name} 被忽略：{zh} (camunda:{name} is ignored: {en})",
                                  "info")
            elif name not in KNOWN_ATTRIBUTES:
                zh, en = _did_you_mean(name, KNOWN_ATTRIBUTES)
                yield doc.problem(el, "unsupported", f"camunda:{name} 未知，被忽略：reformflow 不认识这个属性，它在此不起"
                                  f"作用{zh} (camunda:{name} is not an attribute reformflow knows; it does nothing "
                                  f"here{en})", "warning")
        if el.tag.startswith(CAMUNDA) and not _inside_refused_extension(el):
            if local in UNSUPPORTED_EXTENSIONS:
                zh, en = UNSUPPORTED_EXTENSIONS[local]
                yield doc.problem(owner_of(el), "unsupported", f"camunda:{local}：{zh} (camunda:{local}: {en})")
            elif local in IGNORED_EXTENSIONS:
                zh, en = IGNORED_EXTENSIONS[local]
                yield doc.problem(owner_of(el), "unsupported", f"camunda:{local} 被忽略：{zh} (camunda:{local} is "
                                  f"ignored: {en})", "info")
            elif local not in KNOWN_EXTENSIONS:
                zh, en = _did_you_mean(local, KNOWN_EXTENSIONS)
                yield doc.problem(_bpmn_owner(el), "unsupported", f"camunda:{local} 未知，被忽略：reformflow 不认识这个"
                                  f"元素，它在此不起作用{zh} (camunda:{local} is not an element reformflow knows; it "
                                  f"does nothing here{en})", "warning")


def _bpmn_owner(el):
    """The nearest BPMN element with an id (a form field's id is not an element in the Modeler)."""
    while el is not None and not (is_bpmn(el) and el.get("id")):
        el = el.getparent()
    return el


def _did_you_mean(name: str, known) -> tuple[str, str]:
    """(Chinese, English) to add to a message: the closest known name, if any."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return (f"；是否应为 camunda:{close[0]}？", f"; did you mean camunda:{close[0]}?") if close else ("", "")


def _inside_refused_extension(el) -> bool:
    """True under a camunda: element refused by name: that one message is enough."""
    parent = el.getparent()
    while parent is not None:
        if isinstance(parent.tag, str) and parent.tag.startswith(CAMUNDA) and local_name(parent) in UNSUPPORTED_EXTENSIONS:
            return True
        parent = parent.getparent()
    return False


def rule_start_permission(doc: Doc):
    """candidateStarterGroups / Users: the engine checks them when a plan starts, so they must be
    plain comma lists of group or user names (no expressions: nothing is evaluated at start)."""
    for process in doc.iter("process"):
        for name in ("candidateStarterGroups", "candidateStarterUsers"):
            value = process.get(CAMUNDA + name)
            if value is None or not value.strip():
                continue
            if "${" in value or "#{" in value:
                yield doc.problem(process, "start-permission", f"camunda:{name} 的值 `{value}`：须为以逗号分隔的名称列表，"
                                  "如 `reform_office, legal`；表达式不会求值 (must be a comma list of names such as "
                                  "`reform_office, legal`; expressions are not evaluated)")
                continue
            bad = [part.strip() for part in value.split(",") if not LIST_NAME.match(part.strip())]
            if bad:
                shown = ", ".join(f"`{b}`" for b in bad)
                yield doc.problem(process, "start-permission", f"camunda:{name} 的值 `{value}`：{shown} 不是名称；请写以逗号"
                                  "分隔的名称，如 `reform_office, legal` (not a name; write names separated by "
                                  "commas, such as `reform_office, legal`)")


MODELER_NS = "http://camunda.org/schema/modeler/1.0"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"


def rule_camunda_8(doc: Doc):
    """A diagram made with File → New → BPMN diagram (Camunda 8): its assignments, forms and FEEL
    conditions (`=x = 1`) are zeebe: extensions reformflow never reads, and the other rules' many
    messages would not say so."""
    platform = doc.root.get(f"{{{MODELER_NS}}}executionPlatform") or ""
    zeebe = any(isinstance(el.tag, str) and el.tag.startswith(f"{{{ZEEBE_NS}}}") for el in doc.root.iter())
    if platform != "Camunda Cloud" and not zeebe:
        return
    process = next(iter(doc.iter("process")), None)
    yield doc.problem(process if process is not None else doc.root, "unsupported",
                      "这是为 Camunda 8 画的流程图（执行平台 Camunda Cloud 或 zeebe: 扩展）：reformflow 只读 Camunda 7 的 "
                      "camunda: 属性和 ${...} 表达式，不读 zeebe: 扩展和 FEEL 条件。请按 docs/modeling.md 第 1 节用 "
                      "File → New File → BPMN diagram (Camunda 7) 新建，重新填写分配、表单和条件 (this diagram is drawn "
                      "for Camunda 8 (platform Camunda Cloud or zeebe: extensions): reformflow reads Camunda 7's "
                      "camunda: attributes and ${...} expressions, not zeebe: extensions or FEEL. Create it with "
                      "File → New File → BPMN diagram (Camunda 7), docs/modeling.md section 1, and fill in the "
                      "assignments, forms and conditions again)")


def rule_not_camunda_7(doc: Doc):
    """A file from bpmn.io (or another tool) has no camunda namespace: no assignment, form or due
    date can be written in it, and the other rules' messages (no executable process, a user task
    nobody is assigned) did not say where the file came from. Camunda 8 has its own rule."""
    if any(CAMUNDA[1:-1] in el.nsmap.values() for el in doc.root.iter() if isinstance(el.tag, str)):
        return
    if doc.root.get(f"{{{MODELER_NS}}}executionPlatform") == "Camunda Cloud" or \
            any(isinstance(el.tag, str) and el.tag.startswith(f"{{{ZEEBE_NS}}}") for el in doc.root.iter()):
        return  # rule_camunda_8
    exporter = " ".join(filter(None, (doc.root.get("exporter"), doc.root.get("exporterVersion"))))
    made_zh, made_en = (f"（由 {exporter} 保存）", f" (saved by {exporter})") if exporter else ("", "")
    process = next(iter(doc.iter("process")), None)
    yield doc.problem(process if process is not None else doc.root, "unsupported",
                      f"此文件不是用 Camunda Modeler（Camunda 7）保存的{made_zh}，没有 camunda 命名空间：无法填写分配"
                      "（candidateGroups）、表单和期限。请在 Camunda Modeler 中按 Camunda 7 打开它，按 docs/modeling.md "
                      "第 1 节设置执行平台（Camunda Platform 7.22）、勾选 Executable，填写分配和表单后保存 (this file was "
                      f"not saved by Camunda Modeler (Camunda 7){made_en} and has no camunda namespace: assignments "
                      "(candidateGroups), forms and due dates cannot be written in it. Open it in Camunda Modeler as "
                      "a Camunda 7 diagram, set the execution platform (Camunda Platform 7.22) as docs/modeling.md "
                      "section 1 says, switch on Executable, fill in the assignments and forms and save)", "warning")

"""The ledger's process properties (docs/modeling.md, "Putting a process on the ledger") name
variables: a name nothing sets, or a form field of another type, leaves the ledger without the
milestone or the measures, silently. Warnings, since a variable may come with the start data."""
from __future__ import annotations

from .common import NS, Doc

# property -> the type of form field the variable it names must be
KINDS = {"ledgerMilestoneDue": "date", "ledgerMilestoneDone": "date", "ledgerMilestoneDropped": "date",
         "ledgerMeasures": "long", "ledgerMeasuresDone": "long", "ledgerMeasuresStarted": "long"}
_KIND_ZH = {"date": "日期 date", "long": "整数 long"}


def rule_ledger_properties(doc: Doc):
    fields: dict[str, set[str]] = {}
    for field in doc.root.xpath(".//camunda:formField", namespaces=NS):
        if field.get("type"):  # a field without a type is the form rule's error, not a type to compare
            fields.setdefault(field.get("id"), set()).add(field.get("type"))
    for process in doc.root.xpath("./bpmn:process", namespaces=NS):
        for prop in process.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS):
            name, variable = prop.get("name"), (prop.get("value") or "").strip()
            kind = KINDS.get(name)
            if kind is None:
                continue
            if variable not in doc.variables:
                yield doc.problem(process, "ledger", f"流程属性 {name} 指定的变量 '{variable}' 在这些文件中无处设置，台账将不显示"
                                  f"它 (process property {name} names the variable '{variable}', which nothing in these "
                                  "files sets: the ledger will not show it)", "warning")
            elif fields.get(variable, {kind}) - {kind}:
                other = "、".join(sorted(fields[variable] - {kind}))
                yield doc.problem(process, "ledger", f"流程属性 {name} 指定的表单字段 '{variable}' 类型为 {other}，须为"
                                  f"{_KIND_ZH[kind]}，否则台账不显示它 (process property {name} names the form field "
                                  f"'{variable}' of type {other}; it must be {kind}, or the ledger will not show it)",
                                  "warning")

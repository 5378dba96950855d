"""The five statutory procedures of a major decision (《重大行政决策程序暂行条例》 Art. 3, 33), as a
diagram names them on a user task with the extension property `procedure`: by code or by its
Chinese name. The decision archive files each completed task under its procedure; deploy refuses
a name that is none of them."""
from __future__ import annotations

PROPERTY = "procedure"
# code -> (Chinese, English), in the order of the decree
PROCEDURES = {
    "public_participation": ("公众参与", "public participation"),
    "expert_argumentation": ("专家论证", "expert argumentation"),
    "risk_assessment": ("风险评估", "risk assessment"),
    "legality_review": ("合法性审查", "legality review"),
    "collective_decision": ("集体讨论决定", "collective discussion and decision"),
}
_BY_NAME = {zh: code for code, (zh, _) in PROCEDURES.items()}


def procedure_code(value: str | None) -> str | None:
    """The procedure a `procedure` property names, by code or Chinese name; None if none."""
    value = (value or "").strip()
    return value if value in PROCEDURES else _BY_NAME.get(value)

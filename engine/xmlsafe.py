"""Parse untrusted BPMN XML: no entity expansion, no network, no DOCTYPE at all."""
from lxml import etree

from .errors import Invalid

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_comments=False)
MAX_BYTES = 5 * 1024 * 1024


def parse_bpmn_bytes(data: bytes, file_name: str) -> etree._ElementTree:
    """Return the parsed tree or raise Invalid naming the file and the problem."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"{file_name}: 文件超过 {MAX_BYTES // 1024 // 1024} MB "
                      f"(file is larger than {MAX_BYTES // 1024 // 1024} MB)")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _PARSER))
    except etree.XMLSyntaxError as exc:
        raise Invalid(f"{file_name}: 不是格式正确的 XML，请在 Modeler 中重新保存 (not well-formed XML: {exc})") from None
    # A DOCTYPE can declare entities (billion laughs, external files); BPMN never needs one.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Invalid(f"{file_name}: 出于安全考虑，BPMN 文件中不允许 DOCTYPE 声明 "
                      "(a DOCTYPE declaration is not allowed in a BPMN file)")
    return tree

"""Parse untrusted BPMN XML: no entity expansion, no network, no DOCTYPE at all."""
from lxml import etree

from .errors import Invalid

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_comments=False)
MAX_BYTES = 5 * 1024 * 1024
# The largest diagram of the library has about 1 200 elements. Camunda Modeler's lint counts
# lines from the start of the file for every warning: 100 000 unknown elements take it 28 s.
MAX_ELEMENTS = 20_000
MAX_NESTING = 256  # libxml2's own limit without huge_tree; a Modeler diagram nests a few dozen at most


def parse_bpmn_bytes(data: bytes, file_name: str) -> etree._ElementTree:
    """Return the parsed tree or raise Invalid naming the file and the problem."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"{file_name}: 文件超过 {MAX_BYTES // 1024 // 1024} MB "
                      f"(file is larger than {MAX_BYTES // 1024 // 1024} MB)")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _PARSER))
    except etree.XMLSyntaxError as exc:
        if b"<!DOCTYPE" in data:  # e.g. billion laughs: libxml2 stops at the entity expansion
            raise _doctype(file_name) from None
        if "Excessive depth" in str(exc):  # well-formed, but past libxml2's limit: saving again changes nothing
            raise Invalid(f"{file_name}: XML 元素嵌套超过 {MAX_NESTING} 层，不是 Camunda Modeler 画出的流程图；请核对文件 "
                          f"(XML elements nested deeper than {MAX_NESTING} levels: not a diagram Camunda Modeler "
                          f"draws; check the file)") from None
        raise Invalid(f"{file_name}: 不是格式正确的 XML，请在 Modeler 中重新保存 (not well-formed XML: {exc})") from None
    # A DOCTYPE can declare entities (billion laughs, external files); BPMN never needs one.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _doctype(file_name)
    count = sum(1 for _ in tree.iter())
    if count > MAX_ELEMENTS:
        raise Invalid(f"{file_name}: 文件有 {count} 个 XML 元素，上限 {MAX_ELEMENTS}，请拆分流程或删除多余内容 "
                      f"(the file has {count} XML elements; the limit is {MAX_ELEMENTS})")
    # The engine keeps and re-reads the file as UTF-8 text, as the Modeler writes it. Without an
    # XML declaration lxml reports UTF-8 even where a byte order mark made it read UTF-16.
    encoding = tree.docinfo.encoding or "UTF-8"
    if encoding.upper().replace("-", "") == "UTF8":
        encoding = _bom_encoding(data) or encoding
    if encoding.upper().replace("-", "") != "UTF8" and not data.isascii() or not _is_utf8(data):
        raise Invalid(f"{file_name}: 文件须为 UTF-8 编码，此文件为 {encoding}，请在 Modeler 中重新保存 "
                      f"(the file must be UTF-8 encoded, not {encoding}; save it again in Camunda Modeler)")
    return tree


_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"),
         (b"\xff\xfe", "UTF-16"))


def _bom_encoding(data: bytes) -> str | None:
    """The encoding a UTF-16 or UTF-32 byte order mark announces, if the file starts with one."""
    return next((name for bom, name in _BOMS if data.startswith(bom)), None)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _doctype(file_name: str) -> Invalid:
    return Invalid(f"{file_name}: 出于安全考虑，BPMN 文件中不允许 DOCTYPE 声明：请删去 <!DOCTYPE …>，把其中声明的实体"
                   "（&名称;）写成原文；Camunda Modeler 保存的文件不会有 DOCTYPE "
                   "(a DOCTYPE declaration is not allowed in a BPMN file: remove the <!DOCTYPE …> and write out the "
                   "entities (&name;) it declares; files saved by Camunda Modeler have none)")

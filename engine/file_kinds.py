"""What a file's content is, read from its first bytes (its signature) or, for a ZIP, the parts it
holds: an upload named 方案稿.pdf that is really a web page or a program is refused (documents.
checked), not stored and later handed to the next person as a PDF.

No library: the kinds an office exchanges (documents.MEDIA_TYPES) each begin with a few fixed
bytes; the Office Open XML and OFD formats are ZIP archives told apart by the parts they hold,
which zipfile lists from the archive's directory without unpacking anything.
"""
from __future__ import annotations

import io
import re
import zipfile

# What a content may be: its name in both languages.
PDF = ("PDF 文件", "a PDF file")
OLE = ("旧版 Office/WPS 文档（.doc/.xls/.wps/.et）", "an old Office or WPS document (.doc, .xls, .wps, .et)")
RTF = ("RTF 文档", "an RTF document")
DOCX = ("Word 文档（.docx）", "a Word document (.docx)")
XLSX = ("Excel 表格（.xlsx）", "an Excel workbook (.xlsx)")
PPTX = ("PowerPoint 演示文稿（.pptx）", "a PowerPoint presentation (.pptx)")
OFD = ("OFD 版式文件", "an OFD file")
ZIP = ("ZIP 压缩包", "a ZIP archive")
PNG = ("PNG 图片", "a PNG image")
JPEG = ("JPEG 图片", "a JPEG image")
GIF = ("GIF 图片", "a GIF image")
TEXT = ("纯文本", "plain text")
HTML = ("网页（HTML）", "a web page (HTML)")
XML = ("XML 或 SVG 文件", "an XML or SVG file")
PROGRAM = ("可执行程序", "a program (executable)")
BROKEN_ZIP = ("损坏的 ZIP 压缩包", "a damaged ZIP archive")
UNKNOWN = ("无法识别的二进制数据", "binary data of no kind recognised")

# extension -> the kinds of content accepted under it. An old extension takes the newer format
# too (Word and WPS open a .docx named .doc by its content), and .doc an RTF file, which Word
# saves under that name.
ACCEPTED = {
    ".pdf": {PDF}, ".ofd": {OFD},
    ".doc": {OLE, RTF, DOCX}, ".wps": {OLE, RTF, DOCX}, ".docx": {DOCX},
    ".xls": {OLE, XLSX}, ".et": {OLE, XLSX}, ".xlsx": {XLSX},
    ".txt": {TEXT}, ".jpg": {JPEG}, ".jpeg": {JPEG}, ".png": {PNG},
    ".zip": {ZIP, DOCX, XLSX, PPTX, OFD},  # each is a ZIP archive
}

_SIGNATURES = [  # (first bytes, kind); a ZIP is looked into (_in_zip)
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE), (b"{\\rtf", RTF),
    (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF87a", GIF), (b"GIF89a", GIF),
    (b"MZ", PROGRAM), (b"\x7fELF", PROGRAM), (b"\xcf\xfa\xed\xfe", PROGRAM), (b"\xca\xfe\xba\xbe", PROGRAM),
]
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<meta)", re.I)
_XML = re.compile(rb"^\s*(<\?xml|<svg)", re.I)
# Readers find "%PDF-" within the first kilobyte (some scanners write a line before it).
_PDF_WITHIN = 1024


def kind_of(content: bytes) -> tuple[str, str]:
    """What `content` is: one of the kinds above."""
    if b"%PDF-" in content[:_PDF_WITHIN]:
        return PDF
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _in_zip(content)
    for signature, kind in _SIGNATURES:
        if content.startswith(signature):
            return kind
    head = content[:1024].removeprefix(b"\xef\xbb\xbf")
    if _HTML.match(head):
        return HTML
    if _XML.match(head):
        return XML
    return TEXT if _text(content) else UNKNOWN


def accepted(suffix: str, content: bytes) -> tuple[str, str] | None:
    """None if the content is a kind the extension `suffix` (documents.MEDIA_TYPES) stands for;
    otherwise what it seems to be."""
    kind = kind_of(content)
    return None if kind in ACCEPTED[suffix] else kind


def _in_zip(content: bytes) -> tuple[str, str]:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        return BROKEN_ZIP
    if "[Content_Types].xml" in names:
        for folder, kind in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
            if any(n.startswith(folder) for n in names):
                return kind
    if "OFD.xml" in names:
        return OFD
    return ZIP


# A ZIP (a .docx, .xlsx, .zip …) that would unpack to far more than any office file: a "zip bomb"
# fills the disk or memory of the reviewer's PC that opens it. The server never unpacks one; these
# limits read the sizes its directory declares. Real Office files stay far below both: a large
# workbook's sheet unpacks to 10–30 times its size.
UNPACKED_MAX = 1024 ** 3
PART_MAX, PART_RATIO = 100 * 1024 ** 2, 100


def unpacked_too_large(content: bytes) -> int | None:
    """The declared unpacked size of a ZIP archive (any Office file) that exceeds the limits
    above, else None (not a ZIP, damaged, or within them)."""
    if not content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    try:
        parts = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return None
    total = sum(p.file_size for p in parts)
    if total > UNPACKED_MAX or any(
            p.file_size > PART_MAX and p.file_size > PART_RATIO * max(p.compress_size, 1) for p in parts):
        return total
    return None


def _text(content: bytes) -> bool:
    """Plain text: no NUL byte (UTF-16 and every binary format have them), in one of the
    encodings text_encoding knows."""
    return b"\x00" not in content and text_encoding(content) is not None


def text_encoding(content: bytes) -> str | None:
    """UTF-8 (a byte-order mark is UTF-8 too), else GB 18030 (GBK's successor: what a Chinese
    Windows Notepad saves as ANSI); None when the bytes are neither."""
    found = _decoded(content)
    return found[0] if found else None


def decoded_text(content: bytes) -> str | None:
    """The text of a file people save from Excel or Notepad, in the encoding text_encoding finds
    (a UTF-8 byte-order mark dropped); None when the bytes are neither UTF-8 nor GB 18030."""
    found = _decoded(content)
    return found[1] if found else None


def _decoded(content: bytes) -> tuple[str, str] | None:
    """(encoding, text) by the first of UTF-8 and GB 18030 that decodes the bytes, decoded once.
    UTF-8 is read as utf-8-sig, which drops a byte-order mark and refuses just what utf-8 does."""
    for encoding, codec in (("utf-8", "utf-8-sig"), ("gb18030", "gb18030")):
        try:
            return encoding, content.decode(codec)
        except UnicodeDecodeError:
            pass
    return None

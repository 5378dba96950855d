"""Small real files of each kind an upload may be (engine/documents.py MEDIA_TYPES), built here:
what an office's programs write begins as these do (engine/file_kinds.py)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf(text: str = "方案稿") -> bytes:
    """A one-page PDF: header, catalog, page tree, the page's content stream (`text`, as UTF-8
    bytes: the tests look for it) and the trailer a reader looks for."""
    stream = text.encode()
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n"
            + f"4 0 obj << /Length {len(stream)} >> stream\n".encode() + stream
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def zipped(parts: dict[str, str]) -> bytes:
    """The same bytes at every call: a part's time is fixed (writestr would stamp the clock's), so
    pytest's ids of parameters holding these bytes agree between the test processes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 1, 9, 0, 0)), content,
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


_TYPES = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx(text: str = "方案稿") -> bytes:
    return zipped({"[Content_Types].xml": _TYPES, "word/document.xml": f"<w:document><w:t>{text}</w:t></w:document>"})


def xlsx() -> bytes:
    return zipped({"[Content_Types].xml": _TYPES, "xl/workbook.xml": "<workbook/>"})


def ofd(text: str = "方案稿") -> bytes:
    return zipped({"OFD.xml": "<ofd:OFD/>", "Doc_0/Document.xml": f"<ofd:Document>{text}</ofd:Document>"})


def ole() -> bytes:
    """The header of a compound file (Word 97-2003, Excel 97-2003, WPS, ET)."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff" + bytes(482)


def png() -> bytes:
    """A 1x1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff")) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    """The start of a JFIF JPEG (what a camera or scanner writes first) and its end."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


# one real file for each accepted extension
ACCEPTED = {
    ".pdf": pdf(), ".ofd": ofd(), ".doc": ole(), ".wps": ole(), ".docx": docx(), ".xls": ole(), ".et": ole(),
    ".xlsx": xlsx(), ".txt": "会议纪要：同意。\r\n".encode(), ".jpg": jpeg(), ".jpeg": jpeg(), ".png": png(),
    ".zip": zipped({"方案稿.txt": "方案稿"}),
}
# what a person meant as something else: a web page, a program
HTML = "<!DOCTYPE html><html><body><script>alert(1)</script>方案稿</body></html>".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48) + b"This program cannot be run in DOS mode."

"""A file sent as a download, never shown in the page: whatever someone uploaded (even an HTML
page) is saved by the browser, not run on this site."""
from __future__ import annotations

import io
from urllib.parse import quote

from flask import send_file

from engine.file_kinds import text_encoding


def attachment(content: bytes, media_type: str, file_name: str, fallback: str | None = None):
    """`fallback`: the plain-ASCII name for a browser that cannot read the UTF-8 one (RFC 6266)."""
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=True, download_name=file_name,
                         max_age=0)
    if fallback is not None and not file_name.isascii():
        response.headers["Content-Disposition"] = (f'attachment; filename="{fallback}"; '
                                                   f"filename*=UTF-8''{quote(file_name, safe='')}")
    if media_type.startswith("text/"):  # send_file says utf-8 for any, even after a charset given
        response.headers["Content-Type"] = media_type if "charset" in media_type \
            else f"{media_type}; charset={_charset(content)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox; frame-ancestors 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _charset(content: bytes) -> str:
    """A text file's encoding as uploads accept it: said in the header, a browser that shows a
    GBK .txt shows its Chinese rather than mojibake (Flask would say utf-8 for either)."""
    return text_encoding(content) or "gb18030"

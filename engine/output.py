"""Files the command line writes (an audit export, an anchor, the ledger, a decision archive):
whole or not at all. The file is written beside its path under a temporary name, which replaces
it only when everything was written: a refused or failed command leaves no empty or partial
file, and an older file of that name stays as it was. A folder that cannot be written to is
refused in a sentence."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import Invalid


@contextlib.contextmanager
def whole_file(path: str, what_zh: str, what: str, *, binary: bool = False):
    """Yield a file to write `path`'s content to (text in UTF-8, or bytes)."""
    target = Path(path)

    def refuse(exc: OSError):
        return Invalid(f"无法写入{what_zh}文件 {path}：{exc.strerror or exc} (cannot write the {what} file)")
    try:
        # the temporary name is the target's and 15 bytes more: cut to fit a file system's 255
        prefix = f".{target.name.encode()[:200].decode(errors='ignore')}."
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=prefix, suffix=".part")
    except OSError as exc:  # no such folder, no permission
        raise refuse(exc) from None
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")) as out:
            yield out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, target)
    except OSError as exc:  # the disk full, the name taken by a folder
        Path(temporary).unlink(missing_ok=True)
        raise refuse(exc) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

"""Web inbox passwords: what a new one may be, how it is kept, how one typed is checked.

Kept as werkzeug's salted hash (what `users add --password` has always written), never as
typed; neither the password nor its hash goes into the audit trail or any output.
"""
from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

from .documents import first_hidden
from .errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 128  # hashing a megabyte-long "password" costs the server, not the guesser

_STAND_IN: list[str] = []


def checked(username: str, password: str) -> str:
    """A new password, refused (Invalid) when too short or long, the user name itself, or with
    a character nobody could type again (a line break from a pasted line, a zero-width space)."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"密码至少 {MIN_LENGTH} 个字符，现有 {len(password)} 个 "
                      f"(a password needs at least {MIN_LENGTH} characters, this one has {len(password)})")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"密码最多 {MAX_LENGTH} 个字符，现有 {len(password)} 个 "
                      f"(a password may have at most {MAX_LENGTH} characters, this one has {len(password)})")
    if password.strip().casefold() == username.strip().casefold():
        raise Invalid("密码不能与用户名相同 (the password must not be the user name)")
    if (hidden := first_hidden(password)) is not None:
        raise Invalid(f"密码含有控制字符或不可见字符（U+{ord(hidden):04X}，如换行、零宽字符），请重新输入 "
                      f"(the password has a control or invisible character, U+{ord(hidden):04X}: type it again)")
    return password


def hashed(password: str) -> str:
    return generate_password_hash(password)


def matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one kept as `password_hash`. With no hash (a user never given a
    password, or unknown) a stand-in is checked all the same, so the answer takes as long either
    way: how long it takes says nothing about who exists."""
    if not _STAND_IN:
        _STAND_IN.append(generate_password_hash("not a password of anyone"))
    found = check_password_hash(password_hash or _STAND_IN[0], password)
    return found and password_hash is not None

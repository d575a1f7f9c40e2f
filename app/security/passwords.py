"""Password policy for staff accounts, checked whenever a password is set or changed.

A password is at least ``MIN_LENGTH`` characters, mixes at least two kinds of character
(letters, digits, others), does not contain the username, and is not a common password
(``common_passwords.txt``: the most frequent ones of leaked lists, Chinese favourites
included), not even with digits or symbols added at the end.

Existing passwords are not re-checked at sign-in: only their hashes are stored, and a user
locked out of the console by a policy change is worse than a weak password that the lock-out
throttles. The policy applies the next time an administrator or the user sets one. The six
demo accounts' ``demo-pass-2026`` satisfies it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from app.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 128
_TAIL = re.compile(r"[\d\W_]+$")
_HEAD = re.compile(r"^[\d\W_]+")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _kinds(password: str) -> int:
    letters = any(ch.isalpha() for ch in password)
    digits = any(ch.isdigit() for ch in password)
    others = any(not ch.isalnum() for ch in password)
    return letters + digits + others


def is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    stems = {lowered, _TAIL.sub("", lowered), _HEAD.sub("", lowered), _HEAD.sub("", _TAIL.sub("", lowered))}
    return any(stem in common for stem in stems if stem) or len(set(lowered)) <= 2


def check_password_policy(password: str, username: str = "", field: str = "password") -> None:
    """Raise ``ValidationFailed`` (in Chinese) when ``password`` breaks the staff policy."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_LENGTH} 位。", field=field)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"密码不能超过 {MAX_LENGTH} 位。", field=field)
    if _kinds(password) < 2:
        raise ValidationFailed("密码须包含字母、数字、符号中的至少两类。", field=field)
    name = (username or "").strip().lower()
    if name and len(name) >= 3 and (name in password.lower() or name[::-1] in password.lower()):
        raise ValidationFailed("密码不能包含用户名。", field=field)
    if is_common(password):
        raise ValidationFailed("该密码过于常见，容易被猜中，请换一个。", field=field)

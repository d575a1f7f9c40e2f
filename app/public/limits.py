"""Rate limits of the resident forms: per resident (cookie identity) and per client address.

Limits come from configuration (``PUBLIC_LIMIT_*``) with the defaults below, so an operator
can loosen the per-address one where a whole village shares one carrier address.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address

from app.wechat.oauth import identify

DEFAULTS = {
    "PUBLIC_LIMIT_OPINION_RESIDENT": "5/minute;30/day",
    "PUBLIC_LIMIT_BOOKING_RESIDENT": "10/minute;30/day",
    "PUBLIC_LIMIT_CANCEL_RESIDENT": "10/minute;60/day",
    "PUBLIC_LIMIT_PER_ADDRESS": "60/hour",
}


def resident_key() -> str:
    """The resident the signed cookie names; without one, the client address.

    A visitor without the cookie would get a fresh anonymous id on every request, which
    would make a per-resident limit useless: they share their address's bucket instead.
    """
    resident, _redirect, new = identify()
    if resident is None or new:
        return "addr:" + get_remote_address()
    return "resident:" + resident.id


def configured(name: str):
    """A limit value read from the app config when the request is checked."""

    def value() -> str:
        return current_app.config.get(name) or DEFAULTS[name]

    return value

"""Jinja filters and globals shared by console and public pages."""

from __future__ import annotations

from flask import Flask, url_for

# One masking function for pages, exports, API answers and logs (re-exported for old imports).
from app.security.masking import mask_name, mask_phone, mask_phones_in_text

__all__ = ["init_app", "mask_name", "mask_phone", "media_url"]


def media_url(relative: str | None) -> str | None:
    return url_for("media.media", relative=relative) if relative else None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.filters["mask_phones"] = mask_phones_in_text  # numbers inside free text
    app.jinja_env.globals["media_url"] = media_url

"""Jinja filters and globals shared by console and public pages."""

from __future__ import annotations

from flask import Flask, url_for


def mask_phone(value: str | None) -> str:
    """138****5678: residents' and staff phone numbers are masked wherever listed."""
    text = (value or "").strip()
    if len(text) < 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_name(name: str | None) -> str:
    """张*, 王** : enough to address the resident, not enough to identify them."""
    text = (name or "").strip()
    if not text:
        return ""
    return text[0] + "*" * max(len(text) - 1, 1)


def media_url(relative: str | None) -> str | None:
    return url_for("media.media", relative=relative) if relative else None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.globals["media_url"] = media_url

"""Security headers and the CSP on every kind of answer; templates and scripts the CSP allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.security.headers import CSP

ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_the_policy_is_strict():
    d = _directives(CSP)
    assert d["default-src"] == "default-src 'self'"
    assert d["script-src"] == "script-src 'self'"
    assert d["style-src"] == "style-src 'self'"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert d["object-src"] == "object-src 'none'"
    assert d["frame-ancestors"] == "frame-ancestors 'none'"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/console/login",
        "/api/v1/openapi.json",
        "/healthz",
        "/no-such-page",
        "/t/NOSUCHNUMBER",
        "/static/public/site.css",
        "/_wechat_mock/cgi-bin/token",
        "/wechat",
    ],
)
def test_every_answer_carries_the_headers(client, path):
    response = client.get(path)
    assert response.status_code < 500
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # HTTP dev/test: no HSTS


def test_station_page_and_console_pages(client, world, login):
    station = world["station"]
    assert client.get(f"/s/{station.code}").headers["Content-Security-Policy"] == CSP
    login(world["city"])
    response = client.get("/console/")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Cache-Control"] == "no-store"  # staff pages are never cached
    assert client.get("/me").headers["Cache-Control"] == "no-store"  # a resident's own list
    assert "no-store" not in client.get("/static/public/site.css").headers.get("Cache-Control", "")


def test_hsts_when_served_over_https(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "HSTS_ENABLED", True)
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- what the CSP would block: none of it in templates or our scripts -------------------

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
SCRIPTS = sorted(p for p in (ROOT / "app" / "static").rglob("*.js") if "vendor" not in p.parts)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_code(path):
    text = path.read_text(encoding="utf-8")
    for tag in re.finditer(r"<script\b[^>]*>", text, re.I):
        assert "src=" in tag.group(0), f"inline <script> in {path.name}"
    assert not re.search(r"<style\b", text, re.I), f"<style> block in {path.name}"
    assert not re.search(r"\sstyle\s*=", text, re.I), f"style attribute in {path.name}"
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", text, re.I), f"inline event handler in {path.name}"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_use_nothing_the_csp_blocks(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\beval\s*\(|new\s+Function\s*\(", text), f"eval in {path.name}"
    timers = r"setTimeout\s*\(\s*[\"']|setInterval\s*\(\s*[\"']"
    assert not re.search(timers, text), f"string timer in {path.name}"
    assert not re.search(r"setAttribute\s*\(\s*[\"']style|\.style\.cssText|\.style\s*=", text), path.name
    # Inline markup injected by script would carry handlers or styles the CSP refuses.
    assert not re.search(r"innerHTML\s*=.*(style=|on[a-z]+=)", text), f"inline markup in {path.name}"

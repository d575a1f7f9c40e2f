"""Security headers on every answer, and a strict Content Security Policy.

Pages load scripts, styles, fonts and images from this origin only: the templates carry no
inline ``<script>``, ``style="…"`` or ``on…=`` handlers (scripts under ``app/static``), so
the policy needs no ``'unsafe-inline'`` and no nonce. Images may also be ``data:`` URIs.
A small ``after_request`` instead of Flask-Talisman: the policy is one constant, and the
HTTPS redirect is nginx's job.
"""

from __future__ import annotations

from flask import Flask, current_app, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    # A browser never guesses a type: an upload served as image/jpeg is never run as a script.
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Tracking numbers and booking codes are in URLs: never send a path to another site.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
# Pages and answers with residents' data must not be kept by a shared browser or proxy.
PRIVATE_PREFIXES = ("/console/", "/api/v1/staff/")
PRIVATE_PAGES = ("/console", "/me")


def fixed_headers(config) -> list[tuple[str, str]]:
    """The headers every answer carries (HSTS when enabled): pages here, ``/wechat`` too."""
    fixed = list(HEADERS.items())
    if config.get("HSTS_ENABLED"):
        fixed.append(("Strict-Transport-Security", HSTS))
    return fixed


def _secure_headers(response):
    for name, value in fixed_headers(current_app.config):
        response.headers.setdefault(name, value)
    private = request.path in PRIVATE_PAGES or request.path.startswith(PRIVATE_PREFIXES)
    if private and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_secure_headers)

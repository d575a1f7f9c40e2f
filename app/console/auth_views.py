"""Signing in and out, and changing one's own password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from app.auth.service import authenticate, change_own_password
from app.console.access import invalid, is_safe_next, me
from app.errors import DomainError, ValidationFailed
from app.extensions import db, limiter
from app.security.lockout import LoginLocked, ensure_not_locked, register_failure, register_success

# One message for unknown user, wrong password and disabled account: no user enumeration.
LOGIN_FAILED = "用户名或密码不正确，或账号已停用。"


# Sign-in attempts per client address, whatever the username (the lock-out counts per username).
DEFAULT_LOGIN_LIMIT = "30/minute"


def _login_limit() -> str:
    return current_app.config.get("CONSOLE_LIMIT_LOGIN_ADDRESS") or DEFAULT_LOGIN_LIMIT


@limiter.limit(_login_limit, key_func=lambda: "console-login:" + get_remote_address(), methods=["POST"])
def login():
    next_url = request.values.get("next", "")
    if not is_safe_next(next_url):
        next_url = ""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("console.dashboard"))
    if request.method == "GET":
        return render_template("console/login.html", username="", next_url=next_url)
    username = request.form.get("username", "").strip()[:64]
    try:
        # A locked username is refused before its password is even checked (real or not).
        ensure_not_locked(username)
    except LoginLocked as exc:
        return _login_refused(username, next_url, exc.message, 429, exc.headers)
    user = authenticate(username, request.form.get("password", ""))
    if user is None:
        db.session.rollback()
        locked = register_failure(username, request.remote_addr or "")
        db.session.commit()  # the count (and the audit of a lock) stays whatever comes next
        if locked:
            exc = LoginLocked(locked)
            return _login_refused(username, next_url, exc.message, 429, exc.headers)
        return render_template("console/login.html", username=username, next_url=next_url, error=LOGIN_FAILED)
    register_success(username)
    db.session.commit()  # last_login_at, the failure count cleared
    login_user(user, remember=request.form.get("remember") == "on")
    return redirect(next_url or url_for("console.dashboard"))


def _login_refused(username: str, next_url: str, message: str, status: int, headers: dict):
    page = render_template("console/login.html", username=username, next_url=next_url, error=message)
    return page, status, headers


def logout():
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("console.login"))


def change_password():
    if request.method == "GET":
        return render_template("console/password.html")
    new = request.form.get("new_password", "")
    try:
        if new != request.form.get("confirm_password", ""):
            raise ValidationFailed("两次输入的新密码不一致。", field="confirm_password")
        change_own_password(me(), request.form.get("old_password", ""), new)
    except DomainError as exc:
        return invalid(exc, "console/password.html")
    db.session.commit()
    flash("密码已修改。", "success")
    return redirect(url_for("console.dashboard"))

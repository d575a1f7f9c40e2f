"""Residents' pages of pushes: subscription choices (/me/subscriptions), binding links (/bind/<token>)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.errors import DomainError
from app.extensions import db
from app.notify.binding import bind_url, check_usable, get_binding, redeem_binding
from app.notify.preferences import preferences_of, set_preferences, unfollow_station
from app.wechat.oauth import current_resident, with_resident

bp = Blueprint("notify_public", __name__)


@bp.route("/me/subscriptions", methods=["GET", "POST"])
@with_resident
def subscriptions():
    """A follower's choices: announcements, weekly digest, and which stations they follow."""
    resident = current_resident()
    if not resident.is_wechat:
        problem = "请在微信中打开本页面设置订阅。"
        return render_template("notify/subscriptions.html", prefs=None, problem=problem)
    try:
        if request.method == "POST":
            action = request.form.get("action", "")
            if action == "save":
                set_preferences(
                    resident.id,
                    announcements=request.form.get("announcements") == "1",
                    weekly_digest=request.form.get("weekly_digest") == "1",
                )
                flash("订阅设置已保存。")
            elif action == "unfollow":
                station_id = request.form.get("station_id", "")
                if station_id.isdigit():
                    unfollow_station(resident.id, int(station_id))
                    flash("已取消关注该家站点。")
            db.session.commit()
            return redirect(url_for("notify_public.subscriptions"))
        prefs = preferences_of(resident.id)
    except DomainError as exc:
        db.session.rollback()
        return render_template("notify/subscriptions.html", prefs=None, problem=str(exc))
    return render_template("notify/subscriptions.html", prefs=prefs, problem=None)


@bp.route("/bind/<token>", methods=["GET", "POST"])
@with_resident
def bind(token: str):
    """A one-time binding link: confirm, then bind this WeChat (POST, so link previews spend nothing)."""
    resident = current_resident()
    try:
        binding = get_binding(token)
        check_usable(binding)
    except DomainError as exc:
        return render_template("notify/bind.html", binding=None, problem=str(exc), done=None), 410
    name = binding.deputy.name if binding.deputy_id else binding.staff_user.display_name
    if not resident.is_wechat:
        problem = "请用微信扫码或在微信中打开此链接完成绑定。"
        return render_template("notify/bind.html", binding=binding, name=name, problem=problem, done=None)
    if request.method == "POST":
        try:
            result = redeem_binding(token, resident.id)
        except DomainError as exc:
            db.session.rollback()
            return render_template("notify/bind.html", binding=None, problem=str(exc), done=None), 409
        db.session.commit()
        return render_template("notify/bind.html", binding=None, problem=None, done=result.message)
    return render_template(
        "notify/bind.html", binding=binding, name=name, problem=None, done=None, url=bind_url(binding)
    )

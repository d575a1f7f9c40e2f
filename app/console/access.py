"""What every console view shares: the signed-in user, role gates, scoped look-ups, forms, paging."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, func, select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import get_visible, scoped_select
from app.auth.service import require
from app.errors import DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.regions.models import Region

T = TypeVar("T")

ADMINS = frozenset(ADMIN_ROLES)
EVERYONE = frozenset(Role)
# Who may open each room at all; objects inside are still limited by the scope.
STATION_VIEWERS = ADMINS | {Role.STATION_STAFF, Role.DEPUTY}
DEPUTY_VIEWERS = ADMINS | {Role.STATION_STAFF, Role.DEPUTY}
UNIT_VIEWERS = ADMINS | {Role.UNIT_STAFF}
CALENDAR_EDITORS = frozenset({Role.CITY_ADMIN})
RECEPTION_VIEWERS = ADMINS | {Role.STATION_STAFF, Role.DEPUTY}
STATION_WORKERS = ADMINS | {Role.STATION_STAFF}  # run receptions, enter opinions, print plaques
# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = frozenset({"console.login"})


# The sidebar: (endpoint, label, endpoint prefix that marks it active, roles that see it).
NAV = (
    ("console.dashboard", "工作台", "console.dashboard", EVERYONE),
    ("console_opinions.inbox", "意见办理", "console_opinions", EVERYONE),
    ("console.regions", "区域", "console.region", ADMINS),
    ("console.stations", "家站点", "console.station", STATION_VIEWERS),
    ("console.receptions", "接待活动", "console.reception", RECEPTION_VIEWERS),
    ("console.collected", "现场收集意见", "console.collected", STATION_WORKERS),
    ("console_ledger.index", "活动台账", "console_ledger.", RECEPTION_VIEWERS),
    ("console_ledger.behind", "履职未达标", "console_ledger.behind", ADMINS | {Role.STATION_STAFF}),
    ("console.plaques", "标识牌", "console.plaque", STATION_WORKERS),
    ("console.deputies", "代表", "console.deput", DEPUTY_VIEWERS),
    ("console.units", "承办单位", "console.unit", UNIT_VIEWERS),
    ("console.users", "工作人员", "console.user", ADMINS),
    ("console.calendar", "工作日历", "console.calendar", ADMINS),
    ("wechat_console.simulator", "公众号模拟器", "wechat_console.", ADMINS | {Role.STATION_STAFF}),
    ("console_outbox.index", "推送记录", "console_outbox", {Role.CITY_ADMIN}),
    ("console_rating.index", "星级评定", "console_rating", ADMINS | {Role.STATION_STAFF}),
    ("console_exports.index", "导出", "console_exports", EVERYONE),
    ("console_notify.bindings", "微信绑定", "console_notify.bind", ADMINS | {Role.STATION_STAFF}),
    ("console_notify.reminders", "代表提醒", "console_notify.remind", ADMINS | {Role.STATION_STAFF}),
    ("console.password", "修改密码", "console.password", EVERYONE),
)


def nav_context() -> dict[str, Any]:
    """The signed-in user's sidebar, for every console template."""
    if not current_user.is_authenticated:
        return {"console_nav": []}
    role = current_user.role_enum
    endpoint = request.endpoint or ""
    items = [
        {"endpoint": ep, "label": label, "active": endpoint.startswith(prefix)}
        for ep, label, prefix, allowed in NAV
        if role in allowed
    ]
    return {"console_nav": items}


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's user loader: a deactivated account loses its open sessions too."""
    user = db.session.get(StaffUser, int(user_id)) if str(user_id).isdigit() else None
    return user if user is not None and user.active else None


def require_login():
    """``before_request`` of the console: every page but the login form needs a signed-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("console.login", next=target))


def me() -> StaffUser:
    """The signed-in staff user (the real object, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def roles(allowed: Iterable[Role]) -> Callable:
    """Limit a view to some roles; everybody else gets 403 whatever the object."""
    allowed = frozenset(allowed)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            require(me().role_enum in allowed, "您的角色不能使用此功能。")
            return view(*args, **kwargs)

        wrapper.allowed_roles = allowed
        return wrapper

    return decorate


def visible_or_404(model: type[T], ident: Any) -> T:
    """The object if the signed-in user may see it; 404 otherwise."""
    return get_visible(model, ident, me())


def pick(model: type[T], raw: object, field: str, label: str) -> T:
    """An object chosen in a form: empty is a form error, outside the scope is 404."""
    text = str(raw or "").strip()
    if not text.isdigit():
        raise ValidationFailed(f"请选择{label}。", field=field)
    return get_visible(model, int(text), me())


def count_visible(model: type, *where: Any) -> int:
    stmt = scoped_select(model, me(), *where).order_by(None)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def paginate(stmt: Select):
    """One page of ``stmt``, ``PER_PAGE`` rows, page number from ``?page=``."""
    return db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )


def search_term() -> str:
    return request.args.get("q", "").strip()[:64]


def arg_id(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() else None


def region_options(levels: Iterable[str] | None = None) -> list[Region]:
    """Regions the user may see, in tree order, for a select box."""
    where = [Region.level.in_(list(levels))] if levels is not None else []
    return list(db.session.scalars(scoped_select(Region, me(), *where).order_by(Region.path)))


def invalid(exc: DomainError, template: str, **context: Any):
    """Re-render a form with the service's Chinese message and the user's input kept."""
    if isinstance(exc, NotFound):
        raise exc  # outside the scope: the plain 404 page, never the form
    db.session.rollback()
    return render_template(template, error=exc.message, error_field=exc.field, **context), exc.status


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not any(ord(c) < 32 for c in target)


def checkbox(name: str) -> bool:
    return request.form.get(name) in ("on", "1", "true", "yes")


def form_data(*checkboxes: str) -> dict[str, Any]:
    """The posted form as a plain dict, checkboxes as booleans (absent means off)."""
    data: dict[str, Any] = request.form.to_dict()
    data.pop("csrf_token", None)
    for name in checkboxes:
        data[name] = checkbox(name)
    return data

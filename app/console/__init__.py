"""The staff web console."""

from flask import Blueprint

bp = Blueprint("console", __name__)


@bp.record_once
def _init_login(state) -> None:
    """Tell Flask-Login how the console signs staff in; runs when the blueprint is registered."""
    from app.console.access import load_user
    from app.extensions import login_manager

    login_manager.login_view = "console.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)


# The URL rules attach the views to ``bp``; imported last because they need ``bp``.
from app.console import routes  # noqa: E402, F401

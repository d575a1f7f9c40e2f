"""What waits for a user, for the dashboard and the sidebar badge."""

from __future__ import annotations

from datetime import date

from app.auth.models import StaffUser
from app.opinions.inbox import count, late_condition, overdue_condition, todo_condition
from app.timeutil import local_now


def pending_counts(user: StaffUser, today: date | None = None) -> dict[str, int]:
    """``{"overdue", "late", "todo"}``: past the reply deadline, not accepted in time, and
    waiting for this user's own step; each counted within what the user may see."""
    today = today or local_now().date()
    return {
        "overdue": count(user, overdue_condition(today)),
        "late": count(user, late_condition(today)),
        "todo": count(user, todo_condition(user)),
    }

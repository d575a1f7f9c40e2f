"""The outbox as staff see it: filtered lists, counts per status, delivery reports, resend.

The outbox has no region (a row is an openid and a message, not a station's record), so
only city admins see it, in the console (``/console/outbox``) and the staff API
(``/api/v1/staff/outbox``); both use these functions, so a filter means the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from app.auth.models import Role, StaffUser
from app.errors import Conflict, NotFound
from app.extensions import db
from app.notify.models import OutboxMessage, OutboxStatus
from app.notify.service import audit

# Who may read the outbox and resend: it spans every region.
OUTBOX_ROLES = frozenset({Role.CITY_ADMIN})
# A "review" row may already have reached the resident: resending is staff's informed choice.
RESENDABLE = frozenset({OutboxStatus.DEAD.value, OutboxStatus.UNDELIVERABLE.value, OutboxStatus.REVIEW.value})
KIND_MAX = 32
OPENID_MAX = 64
NOT_FOUND = "没有这条推送记录。"


@dataclass(frozen=True)
class OutboxFilter:
    status: str = ""
    kind: str = ""
    openid: str = ""


def may_see_outbox(user: StaffUser) -> bool:
    """City admins only: the outbox is not scoped to a region."""
    return user.role_enum in OUTBOX_ROLES


def parse_outbox_filter(args) -> OutboxFilter:
    """Filters from query arguments; an unknown status is dropped, never widened into an error."""
    status = str(args.get("status") or "").strip()
    if status not in {s.value for s in OutboxStatus}:
        status = ""
    kind = str(args.get("kind") or "").strip()[:KIND_MAX]
    openid = str(args.get("openid") or "").strip()[:OPENID_MAX]
    return OutboxFilter(status, kind, openid)


def outbox_select(f: OutboxFilter) -> Select:
    """Outbox rows matching the filter, newest first."""
    stmt = select(OutboxMessage)
    if f.status:
        stmt = stmt.where(OutboxMessage.status == f.status)
    if f.kind:
        stmt = stmt.where(OutboxMessage.kind == f.kind)
    if f.openid:
        # A part of the openid is enough; LIKE wildcards typed in are taken literally.
        escaped = f.openid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(OutboxMessage.openid.like(f"%{escaped}%", escape="\\"))
    return stmt.order_by(OutboxMessage.id.desc())


def status_counts() -> dict[str, int]:
    """Rows per status, every status present (zero when none)."""
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ):
        counts[status] = count
    return counts


def kinds() -> list[str]:
    """The kinds of message the outbox holds, for a filter box."""
    return list(db.session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)))


def deliveries_of(rows: Iterable[OutboxMessage]) -> dict[str, str]:
    """WeChat's TEMPLATESENDJOBFINISH status by msgid, for the rows that were given one."""
    from app.wechat.models import TemplateDelivery

    ids = {int(row.msgid) for row in rows if row.msgid and row.msgid.isdigit() and len(row.msgid) < 19}
    if not ids:
        return {}
    found = db.session.execute(
        select(TemplateDelivery.msgid, TemplateDelivery.status).where(TemplateDelivery.msgid.in_(ids))
    )
    return {str(msgid): status for msgid, status in found}


def get_outbox_row(row_id: int) -> OutboxMessage:
    """One row by id; ``NotFound`` otherwise."""
    row = db.session.get(OutboxMessage, row_id) if 0 < row_id < 2**31 else None
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def resend(row: OutboxMessage, user: StaffUser) -> OutboxMessage:
    """Queue a dead, undeliverable or review push again from scratch (pending, no attempts), audited."""
    if row.status not in RESENDABLE:
        raise Conflict(f"只能重发“发送失败”“无法送达”或“待核实”的推送，这条是“{row.status_label}”。")
    before = f"原状态 {row.status}，已尝试 {row.attempts} 次；{row.last_error}".strip("；")
    row.status = OutboxStatus.PENDING.value
    row.attempts = 0
    row.next_attempt_at = None
    row.last_error = ""
    row.msgid = None
    row.first_ambiguous_at = None
    row.claimed_until = None
    row.claim_token = None
    db.session.flush()
    audit(user, "outbox.resend", "outbox", row.id, before[:300])
    return row

"""The closed loop (闭环处理): the only place an opinion's status changes.

受理 → 分类 → 交办 (deadline in working days) → 督办 → 答复 → 反馈 → 办结 with the resident's
satisfaction (不满意 reopens once for 再办理, then a supervisor decides). Side paths: 涉法涉诉 →
引导依法反映; 重大/普遍 → 转为代表建议; 上报 to the next level up; 合并 a duplicate. Every
transition writes its event row in the same transaction, and the steps a resident cares about
queue their WeChat push there too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import or_, select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import is_visible
from app.deputies.models import Deputy
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models_base import utcnow
from app.notify.service import queue_opinion_update
from app.opinions.models import (
    SATISFACTION_LABELS,
    Category,
    Opinion,
    OpinionSponsor,
    OpinionStatus,
)
from app.opinions.service import normalise_tracking_no, record_event
from app.regions.models import Region
from app.stations.models import Placement
from app.timeutil import local_now
from app.units.models import HandlingUnit, UnitKind
from app.validation import clean_text
from app.workdays.service import add_workdays

S = OpinionStatus


class IllegalTransition(Conflict):
    code = "illegal_transition"


ACTION_LABELS = {
    "accept": "受理",
    "reject": "不予受理",
    "classify": "分类",
    "assign": "交办",
    "urge": "催办",
    "return": "申请退回",
    "reply": "答复",
    "feedback": "反馈",
    "guide": "引导依法反映",
    "convert": "转为代表建议",
    "escalate": "上报",
    "merge": "合并",
    "close": "办结",
    "reassign": "再交办",
    "rate": "评价",
    "overdue": "逾期",
}

# Who may act: station staff and the admins above the station ("handle"), supervisors
# (town/district/city admins), or the handling unit it is assigned to ("unit").
HANDLE, SUPERVISE, UNIT = "handle", "supervise", "unit"


@dataclass(frozen=True)
class Action:
    sources: frozenset[str]
    who: str


ACTIONS: dict[str, Action] = {
    "accept": Action(frozenset({S.PENDING}), HANDLE),
    "reject": Action(frozenset({S.PENDING}), HANDLE),
    "classify": Action(frozenset({S.ACCEPTED, S.CLASSIFIED, S.ESCALATED}), HANDLE),
    "assign": Action(frozenset({S.CLASSIFIED, S.ESCALATED}), SUPERVISE),
    "urge": Action(frozenset({S.ASSIGNED}), SUPERVISE),
    "return": Action(frozenset({S.ASSIGNED}), UNIT),
    "reply": Action(frozenset({S.ASSIGNED, S.GUIDED}), UNIT),
    "feedback": Action(frozenset({S.REPLIED}), HANDLE),
    "guide": Action(frozenset({S.CLASSIFIED, S.ESCALATED}), SUPERVISE),
    "convert": Action(frozenset({S.CLASSIFIED, S.ESCALATED}), SUPERVISE),
    "escalate": Action(frozenset({S.ACCEPTED, S.CLASSIFIED, S.ESCALATED}), SUPERVISE),
    "merge": Action(frozenset({S.PENDING, S.ACCEPTED, S.CLASSIFIED, S.ESCALATED}), SUPERVISE),
    "close": Action(frozenset({S.FED_BACK, S.GUIDED}), SUPERVISE),
    "reassign": Action(frozenset({S.FED_BACK}), SUPERVISE),
}

# Statuses whose clock is the handling unit's reply deadline (承办逾期 when it has passed).
DEADLINE_STATUSES = (S.ASSIGNED, S.GUIDED)
# Statuses in which the opinion still waits for somebody.
OPEN_STATUSES = frozenset(
    {S.PENDING, S.ACCEPTED, S.CLASSIFIED, S.ASSIGNED, S.REPLIED, S.ESCALATED, S.FED_BACK}
)


def _actor(user: StaffUser | None) -> str:
    return f"staff:{user.username}" if user is not None else "system"


def _owner_ok(user: StaffUser, opinion: Opinion) -> bool:
    """After 上报 only the level it was reported to, or above, supervises it."""
    return opinion.owner_region is None or opinion.owner_region.is_within(user.region)


def may(user: StaffUser, opinion: Opinion, action: str) -> bool:
    """Whether the user's role lets them take ``action`` on this (visible) opinion at all."""
    role = user.role_enum
    who = ACTIONS[action].who
    if who == UNIT:
        return role is Role.UNIT_STAFF and opinion.unit_id is not None and opinion.unit_id == user.unit_id
    if who == SUPERVISE:
        return role in ADMIN_ROLES and _owner_ok(user, opinion)
    if role is Role.STATION_STAFF:
        return user.station_id == opinion.station_id and opinion.owner_region_id is None
    return role in ADMIN_ROLES and _owner_ok(user, opinion)


def allowed_actions(opinion: Opinion, user: StaffUser) -> list[str]:
    """The actions this user may take on this opinion here and now."""
    actions = [
        name
        for name, action in ACTIONS.items()
        if opinion.status in action.sources
        and may(user, opinion, name)
        and _precondition(opinion, name) is None
    ]
    return actions


def _precondition(opinion: Opinion, action: str) -> str | None:
    """Why an action the status allows still cannot be taken, or None."""
    if action == "guide" and not opinion.is_legal:
        return "只有分类为涉法涉诉的留言才能引导依法反映。"
    if action == "convert" and not opinion.is_major:
        return "只有分类为重大或普遍关注的留言才能转为代表建议。"
    if action == "assign" and opinion.is_legal:
        return "涉法涉诉的留言应引导依法反映，不交办承办单位。"
    if action == "reassign" and not opinion.needs_decision:
        return "群众尚未表示不满意，无需再交办。"
    if action == "escalate" and _parent_owner(opinion) is None:
        return "已是最高一级，不能再上报。"
    return None


def _check(opinion: Opinion, action: str, user: StaffUser) -> None:
    if action not in ACTIONS:
        raise ValidationFailed(f"未知的操作：{action}", code="unknown_action", field="action")
    if not may(user, opinion, action):
        raise Forbidden(f"您的角色不能对该留言执行“{ACTION_LABELS[action]}”。")
    if opinion.status not in ACTIONS[action].sources:
        raise IllegalTransition(f"留言当前为“{opinion.status_label}”，不能执行“{ACTION_LABELS[action]}”。")
    reason = _precondition(opinion, action)
    if reason:
        raise IllegalTransition(reason)


def _move(
    opinion: Opinion,
    action: str,
    to: str | None,
    user: StaffUser | None,
    note: str = "",
    actor: str | None = None,
) -> None:
    before = opinion.status
    if to is not None:
        opinion.status = to
    record_event(
        opinion,
        action,
        actor=actor or _actor(user),
        actor_user_id=getattr(user, "id", None),
        from_status=before,
        to_status=opinion.status,
        note=note,
    )


def _text(params: dict, key: str, label: str, *, max_len: int = 2000, required: bool = True) -> str:
    return clean_text(params.get(key), key, label, max_len=max_len, required=required)


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on") if not isinstance(value, bool) else value


# --- the steps ------------------------------------------------------------------------------


def _accept(opinion: Opinion, user: StaffUser, params: dict) -> None:
    opinion.accepted_at = utcnow()
    _move(opinion, "accept", S.ACCEPTED, user, _text(params, "note", "备注", max_len=500, required=False))
    queue_opinion_update(opinion, "accepted")


def _reject(opinion: Opinion, user: StaffUser, params: dict) -> None:
    reason = _text(params, "reason", "不予受理的理由", max_len=500)
    opinion.answer_text = reason  # the resident sees why
    opinion.closed_at = utcnow()
    _move(opinion, "reject", S.REJECTED, user, reason)
    queue_opinion_update(opinion, "rejected")


def _classify(opinion: Opinion, user: StaffUser, params: dict) -> None:
    code = str(params.get("category") or "").strip()
    category = db.session.scalar(select(Category).where(Category.code == code, Category.active.is_(True)))
    if category is None:
        raise ValidationFailed("请选择留言分类。", field="category")
    opinion.category = category.code
    opinion.is_legal = _flag(params.get("legal", False))
    opinion.is_major = _flag(params.get("major", False))
    flags = "、".join(f for f, on in (("涉法涉诉", opinion.is_legal), ("重大/普遍", opinion.is_major)) if on)
    # Classifying an escalated opinion keeps it with the level it was reported to.
    to = S.ESCALATED if opinion.status == S.ESCALATED else S.CLASSIFIED
    _move(opinion, "classify", to, user, category.name + (f"（{flags}）" if flags else ""))


def deadline_for(opinion: Opinion, start: date) -> date:
    """The reply deadline: the category's working days (or the default) after ``start``."""
    category = db.session.scalar(select(Category).where(Category.code == opinion.category))
    days = category.deadline_workdays if category else current_app.config["DEFAULT_DEADLINE_WORKDAYS"]
    return add_workdays(start, days)


def assignable_units(user: StaffUser) -> list[HandlingUnit]:
    """Units the user may assign to: those of their own region, the regions above and below it."""
    if user.role_enum not in ADMIN_ROLES or user.region is None:
        return []
    path = user.region.path
    ancestor_paths = {path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i}
    return list(
        db.session.scalars(
            select(HandlingUnit)
            .join(Region, HandlingUnit.region_id == Region.id)
            .where(
                HandlingUnit.active.is_(True),
                or_(Region.path.in_(ancestor_paths), Region.path.startswith(path, autoescape=True)),
            )
            .order_by(Region.path, HandlingUnit.name)
        )
    )


def _assign(opinion: Opinion, user: StaffUser, params: dict) -> None:
    code = str(params.get("unit_code") or "").strip()
    unit = next((u for u in assignable_units(user) if u.code == code), None)
    if unit is None:
        raise ValidationFailed("请选择您可以交办的承办单位。", field="unit_code")
    today = local_now().date()
    opinion.unit = unit
    opinion.assigned_at = utcnow()
    opinion.deadline = deadline_for(opinion, today)
    opinion.overdue_at = None
    note = f"交办{unit.name}，{opinion.deadline:%Y-%m-%d} 前答复"
    _move(opinion, "assign", S.ASSIGNED, user, note)
    queue_opinion_update(opinion, "assigned")


def _urge(opinion: Opinion, user: StaffUser, params: dict) -> None:
    opinion.urge_count += 1
    _move(opinion, "urge", None, user, _text(params, "note", "催办意见", max_len=500))


def _return(opinion: Opinion, user: StaffUser, params: dict) -> None:
    reason = _text(params, "reason", "退回理由", max_len=500)
    unit_name = opinion.unit.name if opinion.unit else ""
    opinion.unit = None
    opinion.deadline = None
    opinion.overdue_at = None
    _move(opinion, "return", S.CLASSIFIED, user, f"{unit_name}申请退回：{reason}")


def _reply(opinion: Opinion, user: StaffUser, params: dict) -> None:
    opinion.reply_text = _text(params, "text", "答复内容", max_len=4000)
    opinion.replied_at = utcnow()
    _move(opinion, "reply", S.REPLIED, user, "")


def _feedback(opinion: Opinion, user: StaffUser, params: dict) -> None:
    # The station may pass the unit's reply on as it is, or put it in plainer words.
    text = _text(params, "text", "反馈内容", max_len=4000, required=False) or opinion.reply_text
    opinion.answer_text = text
    opinion.fed_back_at = utcnow()
    opinion.needs_decision = False
    _move(opinion, "feedback", S.FED_BACK, user, "")
    queue_opinion_update(opinion, "fed_back")


def _guide(opinion: Opinion, user: StaffUser, params: dict) -> None:
    text = _text(params, "text", "依法反映的途径说明", max_len=2000)
    code = str(params.get("unit_code") or "").strip()
    if code:
        unit = db.session.scalar(select(HandlingUnit).where(HandlingUnit.code == code))
        if unit is None or unit.kind not in (UnitKind.JUDICIAL, UnitKind.PETITION):
            raise ValidationFailed("请选择相关司法或信访部门。", field="unit_code")
        # 三(二)3: 责成相关司法和信访部门以适当方式反馈情况.
        opinion.unit = unit
        opinion.assigned_at = utcnow()
        opinion.deadline = deadline_for(opinion, local_now().date())
    opinion.answer_text = text
    _move(opinion, "guide", S.GUIDED, user, text)
    queue_opinion_update(opinion, "guided")


def _convert(opinion: Opinion, user: StaffUser, params: dict) -> None:
    ids = params.get("deputy_ids") or []
    if isinstance(ids, str):
        ids = [part for part in ids.replace("，", ",").split(",") if part.strip()]
    try:
        wanted = {int(i) for i in ids}
    except ValueError:
        raise ValidationFailed("代表编号无效。", field="deputy_ids") from None
    placed = set(
        db.session.scalars(select(Placement.deputy_id).where(Placement.station_id == opinion.station_id))
    )
    deputies = list(db.session.scalars(select(Deputy).where(Deputy.id.in_(wanted)))) if wanted else []
    if not deputies and opinion.deputy_id:
        deputies = [opinion.deputy]
    if not deputies:
        raise ValidationFailed("请选择提出建议的代表。", field="deputy_ids")
    if any(d.id not in placed and d.id != opinion.deputy_id for d in deputies):
        raise ValidationFailed("只能由编入本站点的代表提出建议。", field="deputy_ids")
    opinion.sponsors = [OpinionSponsor(deputy=d) for d in deputies]
    note = _text(params, "note", "说明", max_len=500, required=False)
    names = "、".join(d.name for d in deputies)
    _move(opinion, "convert", S.CONVERTED, user, f"由{names}代表转为建议" + (f"：{note}" if note else ""))
    queue_opinion_update(opinion, "converted")


def current_owner(opinion: Opinion):
    """The region whose 人大 handles the opinion: the town above a village station, or the
    station's own region, until 上报 hands it further up."""
    if opinion.owner_region is not None:
        return opinion.owner_region
    region = opinion.station.region
    while region.level == "village":
        region = region.parent
    return region


def _parent_owner(opinion: Opinion):
    """The region 上报 hands the opinion to: one level above its current owner."""
    return current_owner(opinion).parent


def _escalate(opinion: Opinion, user: StaffUser, params: dict) -> None:
    target = _parent_owner(opinion)
    opinion.owner_region = target
    note = _text(params, "note", "上报说明", max_len=500, required=False)
    _move(opinion, "escalate", S.ESCALATED, user, f"上报{target.name}" + (f"：{note}" if note else ""))


def _merge(opinion: Opinion, user: StaffUser, params: dict) -> None:
    into_no = normalise_tracking_no(str(params.get("into") or ""))
    target = db.session.scalar(select(Opinion).where(Opinion.tracking_no == into_no))
    if target is None or target.id == opinion.id:
        raise ValidationFailed("请填写要合并到的另一条留言的编号。", field="into")
    if not is_visible(target, user):
        raise ValidationFailed("只能合并到您管辖范围内的留言。", field="into")
    if target.status in (S.MERGED, S.REJECTED):
        raise ValidationFailed(f"目标留言{target.status_label}，不能作为合并对象。", field="into")
    opinion.merged_into = target
    opinion.answer_text = (
        f"您反映的问题已与编号 {target.tracking_no} 的同类留言合并办理，可凭该编号查询进度。"
    )
    opinion.closed_at = utcnow()
    _move(opinion, "merge", S.MERGED, user, f"合并到 {target.tracking_no}")
    record_event(
        target,
        "merge",
        actor=_actor(user),
        actor_user_id=user.id,
        from_status=target.status,
        to_status=target.status,
        note=f"合并了同类留言 {opinion.tracking_no}",
    )
    queue_opinion_update(opinion, "merged")


def _close(opinion: Opinion, user: StaffUser, params: dict) -> None:
    note = _text(params, "note", "办结说明", max_len=500, required=opinion.needs_decision)
    opinion.needs_decision = False
    opinion.closed_at = utcnow()
    _move(opinion, "close", S.CLOSED, user, note)
    queue_opinion_update(opinion, "closed")


def _reassign(opinion: Opinion, user: StaffUser, params: dict) -> None:
    note = _text(params, "note", "再交办意见", max_len=500)
    _reopen(opinion, user, note)


def _reopen(opinion: Opinion, user: StaffUser | None, note: str) -> None:
    """再办理: back to the same unit with a fresh deadline."""
    opinion.reopen_count += 1
    opinion.needs_decision = False
    opinion.deadline = deadline_for(opinion, local_now().date())
    opinion.overdue_at = None
    opinion.assigned_at = utcnow()
    _move(opinion, "reassign", S.ASSIGNED, user, note)
    queue_opinion_update(opinion, "reopened")


_STEPS: dict[str, Callable[[Opinion, StaffUser, dict], None]] = {
    "accept": _accept,
    "reject": _reject,
    "classify": _classify,
    "assign": _assign,
    "urge": _urge,
    "return": _return,
    "reply": _reply,
    "feedback": _feedback,
    "guide": _guide,
    "convert": _convert,
    "escalate": _escalate,
    "merge": _merge,
    "close": _close,
    "reassign": _reassign,
}


def perform(opinion: Opinion, action: str, user: StaffUser, params: dict | None = None) -> Opinion:
    """Take one staff action on an opinion the user can see; the console and the staff API call this."""
    _check(opinion, action, user)
    _STEPS[action](opinion, user, dict(params or {}))
    db.session.flush()
    return opinion


# --- the resident's rating --------------------------------------------------------------------


def rate(opinion: Opinion, resident_id: str | None, satisfaction: str, comment: object = "") -> Opinion:
    """The resident rates the answer: 满意/基本满意 close it; 不满意 reopens it once.

    After a second 不满意 it waits for a supervisor's decision (办结 or 再交办).
    """
    if not resident_id or opinion.resident_id != resident_id:
        raise NotFound("未找到该留言，请核对查询编号。")
    if satisfaction not in SATISFACTION_LABELS:
        raise ValidationFailed("请选择满意、基本满意或不满意。", field="satisfaction")
    if opinion.status != S.FED_BACK or opinion.needs_decision:
        raise IllegalTransition("该留言当前不能评价。")
    opinion.satisfaction = satisfaction
    opinion.satisfaction_comment = clean_text(comment, "comment", "评价意见", max_len=500, required=False)
    opinion.rated_at = utcnow()
    label = SATISFACTION_LABELS[satisfaction]
    note = label + (f"：{opinion.satisfaction_comment}" if opinion.satisfaction_comment else "")
    if satisfaction != "unsatisfied":
        opinion.closed_at = utcnow()
        _move(opinion, "rate", S.CLOSED, None, note, actor="resident")
        queue_opinion_update(opinion, "closed")
    elif opinion.reopen_count == 0 and opinion.unit_id is not None:
        _move(opinion, "rate", None, None, note, actor="resident")
        _reopen(opinion, None, "群众不满意，再办理")
    else:
        opinion.needs_decision = True
        _move(opinion, "rate", None, None, note + "（待上级决定）", actor="resident")
    db.session.flush()
    return opinion


# --- 督办: overdue and late acceptance --------------------------------------------------------


def is_overdue(opinion: Opinion, today: date | None = None) -> bool:
    """Past its reply deadline while still with the unit."""
    today = today or local_now().date()
    return opinion.status in DEADLINE_STATUSES and opinion.deadline is not None and opinion.deadline < today


def is_accept_late(opinion: Opinion, today: date | None = None) -> bool:
    today = today or local_now().date()
    return opinion.status == S.PENDING and opinion.accept_due is not None and opinion.accept_due < today


def sweep_overdue(today: date | None = None) -> list[Opinion]:
    """Mark opinions that passed their deadline, once each, with an event; idempotent."""
    today = today or local_now().date()
    due = db.session.scalars(
        select(Opinion).where(
            Opinion.status.in_(DEADLINE_STATUSES),
            Opinion.deadline < today,
            Opinion.overdue_at.is_(None),
        )
    ).all()
    for opinion in due:
        opinion.overdue_at = utcnow()
        unit = opinion.unit.name if opinion.unit else "承办单位"
        _move(
            opinion, "overdue", None, None, f"{unit}逾期未答复（期限 {opinion.deadline:%Y-%m-%d}），自动督办"
        )
    db.session.flush()
    return list(due)

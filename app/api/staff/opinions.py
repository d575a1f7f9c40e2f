"""Opinions as the staff API lists, shows and changes them: the console's queries and rules.

The list is ``app.opinions.inbox`` (the console inbox's query), its API arguments mapped
onto the inbox's own filter names so a filter means the same in both; one opinion is looked
up through the scope helper (outside the caller's scope: 404); actions go through
``take_action``, the console's path into the pipeline with its audit row.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.api.base import stored_moment
from app.auth.models import StaffUser
from app.auth.scope import is_visible, scoped_select
from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.opinions.inbox import inbox_select, parse_filter
from app.opinions.models import Category, Opinion, OpinionEvent
from app.opinions.pipeline import (
    ACTION_LABELS,
    allowed_actions,
    assignable_units,
    current_owner,
    is_accept_late,
    is_overdue,
)
from app.opinions.service import normalise_tracking_no
from app.opinions.staff import take_action
from app.regions.models import Region
from app.stations.models import Station
from app.template_helpers import mask_name, mask_phone
from app.timeutil import local_now
from app.units.models import HandlingUnit

TRACKING_NO_RE = re.compile(r"^[0-9A-Z]{1,32}$")
NOT_FOUND = "未找到该留言，或不在您的管辖范围内。"
# A code that names nothing filters to nothing (id 0 is never used), never to everything.
NOTHING = "0"


def _id_of(model: type, code: str | None) -> str | None:
    if code is None:
        return None
    found = db.session.scalar(select(model.id).where(model.code == code))
    return str(found) if found is not None else NOTHING


def list_opinions(user: StaffUser, args: dict, today: date | None = None) -> dict:
    """One page of the opinions the user may see, filtered as the console inbox filters."""
    today = today or local_now().date()
    inbox_args = {
        "status": args.get("status"),
        "station": _id_of(Station, args.get("station")),
        "unit": _id_of(HandlingUnit, args.get("unit")),
        "region": _id_of(Region, args.get("region")),
        "category": args.get("category"),
        "channel": args.get("channel"),
        "overdue": "1" if args.get("overdue") else "",
        "late": "1" if args.get("late") else "",
        "todo": "1" if args.get("todo") else "",
        "from": args["date_from"].isoformat() if args.get("date_from") else "",
        "to": args["date_to"].isoformat() if args.get("date_to") else "",
        "q": args.get("q") or "",
        "sort": args.get("sort") or "deadline",
    }
    filters = parse_filter(inbox_args)
    if filters.problems:
        # The arguments were checked already; the inbox dropping one would widen the list.
        raise ValidationFailed("请求参数有误（" + filters.problems[0] + "）")
    page = db.paginate(
        inbox_select(user, filters, today),
        page=args["page"],
        per_page=args["per_page"],
        error_out=False,
    )
    names = category_names()
    return {
        "items": [opinion_item(opinion, today, names) for opinion in page.items],
        "total": page.total,
        "page": args["page"],
        "per_page": args["per_page"],
    }


def category_names() -> dict[str, str]:
    """Code → name of every category, retired ones too (old opinions keep their codes)."""
    return {c.code: c.name for c in db.session.scalars(select(Category))}


def opinion_item(opinion: Opinion, today: date, names: dict[str, str]) -> dict:
    """An opinion as listed."""
    unit = opinion.unit
    return {
        "tracking_no": opinion.tracking_no,
        "status": opinion.status,
        "status_label": opinion.status_label,
        "station_code": opinion.station.code,
        "station_name": opinion.station.name,
        "category": opinion.category,
        # Before 分类 an opinion may carry the name a resident picked rather than a code.
        "category_name": names.get(opinion.category or "", opinion.category),
        "unit_code": unit.code if unit is not None else None,
        "unit_name": unit.name if unit is not None else None,
        "channel": opinion.channel,
        "deadline": opinion.deadline,
        "overdue": is_overdue(opinion, today),
        "late": is_accept_late(opinion, today),
        "created_at": stored_moment(opinion.created_at),
    }


def _event(event: OpinionEvent) -> dict:
    return {
        "action": event.action,
        "action_label": ACTION_LABELS.get(event.action, "提交" if event.action == "submit" else event.action),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": event.actor,
        "at": stored_moment(event.at),
        "note": event.note or "",
    }


def masked_contact(opinion: Opinion) -> dict | None:
    """The resident's contact as every list shows it (王*, 139****5678); null when none was left."""
    if not (opinion.contact_name or opinion.contact_mobile):
        return None
    return {"name": mask_name(opinion.contact_name), "mobile": mask_phone(opinion.contact_mobile)}


def opinion_detail(opinion: Opinion, user: StaffUser, today: date | None = None) -> dict:
    """One opinion for the user: the item, its content, masked contact, timeline and the user's actions."""
    today = today or local_now().date()
    owner = current_owner(opinion)
    target = opinion.merged_into
    return {
        **opinion_item(opinion, today, category_names()),
        "content": opinion.content,
        "contact": masked_contact(opinion),
        "legal": opinion.is_legal,
        "major": opinion.is_major,
        "needs_decision": opinion.needs_decision,
        "urge_count": opinion.urge_count,
        "owner": {"code": owner.code, "name": owner.name},
        "reply_text": opinion.reply_text or "",
        "answer_text": opinion.answer_text or "",
        "satisfaction": opinion.satisfaction,
        # Only a number the user may open: the target can lie outside their scope.
        "merged_into": target.tracking_no if target is not None and is_visible(target, user) else None,
        "events": [_event(event) for event in opinion.events],
        "actions": allowed_actions(opinion, user),
    }


def visible_opinion(user: StaffUser, tracking_no: str) -> Opinion:
    """The opinion with this number if the user may see it; ``NotFound`` otherwise (same answer)."""
    number = normalise_tracking_no(tracking_no[:64])
    if not TRACKING_NO_RE.match(number):
        raise NotFound(NOT_FOUND)
    opinion = db.session.scalar(scoped_select(Opinion, user, Opinion.tracking_no == number))
    if opinion is None:
        raise NotFound(NOT_FOUND)
    return opinion


def act_on(user: StaffUser, tracking_no: str, action: str, params: dict) -> Opinion:
    """One pipeline step on an opinion the user may see, audited as the console audits it."""
    return take_action(visible_opinion(user, tracking_no), action, user, params)


def category_list() -> list[dict]:
    """The managed categories ``classify`` accepts, with their reply deadlines in working days."""
    stmt = select(Category).where(Category.active.is_(True)).order_by(Category.sort, Category.name)
    return [
        {"code": c.code, "name": c.name, "deadline_workdays": c.deadline_workdays}
        for c in db.session.scalars(stmt)
    ]


def unit_list(user: StaffUser) -> list[dict]:
    """The units ``assign`` (and ``guide``, for judicial and petition ones) accepts from this user."""
    return [
        {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "region": {"code": unit.region.code, "name": unit.region.name},
        }
        for unit in assignable_units(user)
    ]

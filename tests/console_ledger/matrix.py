"""Matrix rows for 台账 and 履职档案 (app/console_ledger), added to tests/console/matrix.py's ROWS and SETUP.

Only tests/console/matrix.py imports this module (after its ``Row`` exists). Each side gets a
draft activity (with a linked opinion and an attached record), a registered one, a spare
opinion to link, a fixed contact with one log; the yesterday reception of the main matrix
is turned into a draft by ``from_reception``.
"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import Role
from app.console.access import ADMINS
from app.extensions import db
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityOpinion,
    ActivityRecord,
    ContactLog,
    FixedContact,
)
from app.ledger.records import add_record
from app.opinions.models import Opinion
from app.timeutil import local_now
from tests.auth.world import Side
from tests.console.matrix import Row, past_of, png_bytes

VIEWERS = ADMINS | {Role.STATION_STAFF, Role.DEPUTY}
EDITORS = ADMINS | {Role.STATION_STAFF}


def _opinion(s: Side, label: str) -> Opinion:
    tracking = f"MXL{s.key.upper()}{label}"
    found = db.session.scalar(select(Opinion).where(Opinion.tracking_no == tracking))
    if found is not None:
        return found
    opinion = Opinion(
        tracking_no=tracking,
        channel="staff",
        station_id=s.station.id,
        content=f"矩阵台账意见{label}",
        status="pending",
    )
    db.session.add(opinion)
    db.session.flush()
    return opinion


def _activity(s: Side, label: str, status: str) -> Activity:
    title = f"矩阵台账{label}"
    found = db.session.scalar(
        select(Activity).where(Activity.station_id == s.station.id, Activity.title == title)
    )
    if found is not None:
        return found
    when = local_now().replace(second=0, microsecond=0) - timedelta(days=3)
    activity = Activity(station_id=s.station.id, kind="study", status=status, started_at=when, title=title)
    activity.deputies = [ActivityDeputy(deputy_id=s.deputy.id, attendance="attended")]
    db.session.add(activity)
    db.session.flush()
    return activity


def draft_activity_of(s: Side) -> Activity:
    activity = _activity(s, "草稿", "draft")
    if not activity.opinions:
        activity.opinions.append(ActivityOpinion(opinion_id=_opinion(s, "A").id))
        db.session.flush()
    return activity


def final_activity_of(s: Side) -> Activity:
    return _activity(s, "已登记", "final")


def spare_opinion_of(s: Side) -> Opinion:
    return _opinion(s, "B")


def record_of(s: Side) -> ActivityRecord:
    activity = draft_activity_of(s)
    if activity.records:
        return activity.records[0]
    return add_record(activity, io.BytesIO(png_bytes()), "现场照片.png")


def contact_of(s: Side) -> FixedContact:
    found = db.session.scalar(select(FixedContact).where(FixedContact.deputy_id == s.deputy.id))
    if found is not None:
        return found
    contact = FixedContact(deputy_id=s.deputy.id, name=f"矩阵联系人{s.key}", phone="13711112222", active=True)
    contact.logs = [ContactLog(deputy_id=s.deputy.id, contacted_on=local_now().date() - timedelta(days=5))]
    db.session.add(contact)
    db.session.flush()
    return contact


def log_of(s: Side) -> ContactLog:
    contact = contact_of(s)
    if not contact.logs:  # deleted by the row itself: the row's URL is rebuilt afterwards
        contact.logs.append(
            ContactLog(deputy_id=s.deputy.id, contacted_on=local_now().date() - timedelta(days=5))
        )
        db.session.flush()
    return contact.logs[0]


SETUP = [draft_activity_of, final_activity_of, spare_opinion_of, record_of, contact_of]

YEAR = local_now().year
ACTIVITY_FORM = {"kind": "study", "mode": "offline", "title": "矩阵新活动", "date": "", "start": "09:00"}


def _activity_form(s: Side) -> dict:
    return {**ACTIVITY_FORM, "date": (local_now().date() - timedelta(days=1)).isoformat()}


ROWS = [
    Row("console_ledger.index", "GET", lambda s: "/console/ledger/", VIEWERS, scoped=False),
    Row("console_ledger.new", "GET", lambda s: f"/console/ledger/new?station={s.station.id}", EDITORS),
    Row(
        "console_ledger.new",
        "POST",
        lambda s: "/console/ledger/new",
        EDITORS,
        data=lambda s: {**_activity_form(s), "station_id": s.station.id, "deputy_ids": s.deputy.id},
    ),
    Row(
        "console_ledger.from_reception",
        "POST",
        lambda s: f"/console/ledger/from-reception/{past_of(s).id}",
        EDITORS,
    ),
    Row(
        "console_ledger.detail",
        "GET",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}",
        VIEWERS,
        shows=lambda s: draft_activity_of(s).title,
    ),
    Row("console_ledger.edit", "GET", lambda s: f"/console/ledger/{draft_activity_of(s).id}/edit", EDITORS),
    Row(
        "console_ledger.edit",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/edit",
        EDITORS,
        data=lambda s: {**_activity_form(s), "title": "矩阵改过的活动"},
    ),
    Row(
        "console_ledger.attendance",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/attendance",
        EDITORS,
        data=lambda s: {f"att-{s.deputy.id}": "excused"},
    ),
    Row(
        "console_ledger.link_opinion",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/opinions",
        EDITORS,
        data=lambda s: {"opinion_id": spare_opinion_of(s).id},
    ),
    Row(
        "console_ledger.unlink_opinion",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/opinions/{_opinion(s, 'A').id}/delete",
        EDITORS,
    ),
    Row(
        "console_ledger.finalise",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/finalise",
        EDITORS,
    ),
    Row(
        "console_ledger.reopen",
        "POST",
        lambda s: f"/console/ledger/{final_activity_of(s).id}/reopen",
        EDITORS,
    ),
    Row(
        "console_ledger.delete",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/delete",
        EDITORS,
    ),
    Row(
        "console_ledger.upload",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/records",
        EDITORS,
        data=lambda s: {"file": (io.BytesIO(png_bytes()), "签到表.png")},
    ),
    Row(
        "console_ledger.record",
        "GET",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/records/{record_of(s).id}",
        VIEWERS,
    ),
    Row(
        "console_ledger.record_delete",
        "POST",
        lambda s: f"/console/ledger/{draft_activity_of(s).id}/records/{record_of(s).id}/delete",
        EDITORS,
    ),
    Row(
        "console_ledger.plans", "GET", lambda s: f"/console/ledger/plans/?year={YEAR}", VIEWERS, scoped=False
    ),
    Row(
        "console_ledger.plan",
        "GET",
        lambda s: f"/console/ledger/plans/{s.station.id}/{YEAR}",
        VIEWERS,
        shows=lambda s: s.station.name,
    ),
    Row(
        "console_ledger.plan",
        "POST",
        lambda s: f"/console/ledger/plans/{s.station.id}/{YEAR}",
        EDITORS,
        data=lambda s: {"items-0-kind": "study", "items-0-planned_count": "2", "items-0-title": "集中学习"},
    ),
    Row("console_ledger.contacts", "GET", lambda s: "/console/ledger/contacts/", VIEWERS, scoped=False),
    Row("console_ledger.contact_new", "GET", lambda s: "/console/ledger/contacts/new", EDITORS, scoped=False),
    Row(
        "console_ledger.contact_new",
        "POST",
        lambda s: "/console/ledger/contacts/new",
        EDITORS,
        data=lambda s: {"deputy_id": s.deputy.id, "name": "矩阵新群众", "phone": "13722223333"},
    ),
    Row(
        "console_ledger.contact",
        "GET",
        lambda s: f"/console/ledger/contacts/{contact_of(s).id}",
        VIEWERS,
        shows=lambda s: contact_of(s).name,
    ),
    Row(
        "console_ledger.contact_edit",
        "GET",
        lambda s: f"/console/ledger/contacts/{contact_of(s).id}/edit",
        EDITORS,
    ),
    Row(
        "console_ledger.contact_edit",
        "POST",
        lambda s: f"/console/ledger/contacts/{contact_of(s).id}/edit",
        EDITORS,
        data=lambda s: {"name": "矩阵改名群众", "phone": "13711112222", "active": "on"},
    ),
    Row(
        "console_ledger.log_new",
        "POST",
        lambda s: f"/console/ledger/contacts/{contact_of(s).id}/logs",
        EDITORS,
        data=lambda s: {
            "contacted_on": local_now().date().isoformat(),
            "mode": "phone",
            "content": "电话回访",
        },
    ),
    Row(
        "console_ledger.log_delete",
        "POST",
        lambda s: f"/console/ledger/contacts/{contact_of(s).id}/logs/{log_of(s).id}/delete",
        EDITORS,
    ),
    Row(
        "console_ledger.archive",
        "GET",
        lambda s: f"/console/ledger/archive/{s.deputy.id}?year={YEAR}",
        VIEWERS,
        shows=lambda s: s.deputy.name,
    ),
    Row(
        "console_ledger.behind", "GET", lambda s: f"/console/ledger/behind?year={YEAR}", EDITORS, scoped=False
    ),
]

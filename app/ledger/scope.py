"""Who sees which ledger rows: the station's chain, through the station and deputy scopes.

- activities, their deputies, opinions and records, and the yearly plans: visible with their
  station (admins: stations of their region subtree; station staff: their own station;
  deputies: the stations they are placed at);
- fixed contacts and contact logs: visible with their deputy (admins: deputies of their
  region or placed in it; station staff: deputies placed at their station; a deputy: their own).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, select

from app.auth.scope import Scope, register_scope, visible
from app.deputies.models import Deputy
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityOpinion,
    ActivityPlan,
    ActivityPlanItem,
    ActivityRecord,
    ContactLog,
    FixedContact,
)
from app.stations.models import Station


def activities_visible(scope: Scope) -> ColumnElement[bool]:
    return Activity.station_id.in_(select(Station.id).where(visible(Station, scope)))


def _activity_part(column) -> Callable[[Scope], ColumnElement[bool]]:
    def condition(scope: Scope) -> ColumnElement[bool]:
        return column.in_(select(Activity.id).where(activities_visible(scope)))

    return condition


def plans_visible(scope: Scope) -> ColumnElement[bool]:
    return ActivityPlan.station_id.in_(select(Station.id).where(visible(Station, scope)))


def _plan_items(scope: Scope) -> ColumnElement[bool]:
    return ActivityPlanItem.plan_id.in_(select(ActivityPlan.id).where(plans_visible(scope)))


def fixed_contacts_visible(scope: Scope) -> ColumnElement[bool]:
    return FixedContact.deputy_id.in_(select(Deputy.id).where(visible(Deputy, scope)))


def _contact_logs(scope: Scope) -> ColumnElement[bool]:
    return ContactLog.fixed_contact_id.in_(select(FixedContact.id).where(fixed_contacts_visible(scope)))


register_scope(Activity, activities_visible)
register_scope(ActivityDeputy, _activity_part(ActivityDeputy.activity_id))
register_scope(ActivityOpinion, _activity_part(ActivityOpinion.activity_id))
register_scope(ActivityRecord, _activity_part(ActivityRecord.activity_id))
register_scope(ActivityPlan, plans_visible)
register_scope(ActivityPlanItem, _plan_items)
register_scope(FixedContact, fixed_contacts_visible)
register_scope(ContactLog, _contact_logs)

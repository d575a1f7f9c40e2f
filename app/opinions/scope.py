"""Who sees which opinions: the station's chain, the unit it is assigned to, the deputies it concerns.

- admins: opinions that came in through a station of their region subtree;
- station staff: their station's opinions;
- handling-unit staff: only opinions currently assigned to their unit (a returned one leaves them);
- deputies: opinions received through them, and those they took up as a 代表建议 (sponsor).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select

from app.auth.models import Role
from app.auth.scope import Scope, register_scope, station_ids_under, visible
from app.opinions.models import Opinion, OpinionDeputy, OpinionEvent, OpinionSponsor, ReplyTemplate
from app.units.models import HandlingUnit


def opinions_visible(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        return Opinion.station_id.in_(station_ids_under(scope.region_path))
    if scope.role is Role.STATION_STAFF:
        return Opinion.station_id == scope.station_id
    if scope.role is Role.UNIT_STAFF:
        return Opinion.unit_id == scope.unit_id
    if scope.role is Role.DEPUTY:
        sponsored = exists().where(
            OpinionSponsor.opinion_id == Opinion.id, OpinionSponsor.deputy_id == scope.deputy_id
        )
        came_through = exists().where(
            OpinionDeputy.opinion_id == Opinion.id, OpinionDeputy.deputy_id == scope.deputy_id
        )
        return or_(Opinion.deputy_id == scope.deputy_id, came_through, sponsored)
    return false()


def _events(scope: Scope) -> ColumnElement[bool]:
    return OpinionEvent.opinion_id.in_(select(Opinion.id).where(opinions_visible(scope)))


def _reply_templates(scope: Scope) -> ColumnElement[bool]:
    """常用答复 belong to a unit: its staff, and the admins who see the unit."""
    return ReplyTemplate.unit_id.in_(select(HandlingUnit.id).where(visible(HandlingUnit, scope)))


register_scope(Opinion, opinions_visible)
register_scope(OpinionEvent, _events)
register_scope(ReplyTemplate, _reply_templates)

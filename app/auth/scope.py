"""What a staff user may see, decided in one place.

Every console list and detail, and later every staff API call, builds its query through
``visible()`` / ``scoped_select()`` / ``get_visible()``: an object outside the caller's scope
is simply not found (404), so no route can leak another district's data by forgetting a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.deputies.models import Deputy, Mandate
from app.errors import NotFound
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Placement, Station
from app.units.models import HandlingUnit

T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """The part of the world a user works in."""

    user_id: int
    role: Role
    region_path: str | None = None  # admins: their region subtree
    station_id: int | None = None  # station staff
    unit_id: int | None = None  # handling-unit staff
    deputy_id: int | None = None  # deputies

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES


def scope_of(user: StaffUser) -> Scope:
    """The scope a user's role and assignment give them."""
    role = user.role_enum
    if role in ADMIN_ROLES:
        return Scope(user.id, role, region_path=user.region.path if user.region else "\0")
    return Scope(
        user.id,
        role,
        station_id=user.station_id if role is Role.STATION_STAFF else None,
        unit_id=user.unit_id if role is Role.UNIT_STAFF else None,
        deputy_id=user.deputy_id if role is Role.DEPUTY else None,
    )


def region_ids_under(path: str) -> Select:
    """Ids of the region at ``path`` and everything below it."""
    return select(Region.id).where(Region.path.startswith(path, autoescape=True))


def station_ids_under(path: str) -> Select:
    """Ids of the stations of the region at ``path`` and everything below it."""
    return select(Station.id).where(Station.region_id.in_(region_ids_under(path)))


def _regions(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        return Region.path.startswith(scope.region_path, autoescape=True)
    return false()


def _stations(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        return Station.region_id.in_(region_ids_under(scope.region_path))
    if scope.role is Role.STATION_STAFF:
        return Station.id == scope.station_id
    if scope.role is Role.DEPUTY:
        return Station.id.in_(select(Placement.station_id).where(Placement.deputy_id == scope.deputy_id))
    return false()


def _deputies(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        placed_here = exists().where(
            Placement.deputy_id == Deputy.id,
            Placement.station_id.in_(select(Station.id).where(_stations(scope))),
        )
        return or_(Deputy.region_id.in_(region_ids_under(scope.region_path)), placed_here)
    if scope.role is Role.STATION_STAFF:
        return exists().where(Placement.deputy_id == Deputy.id, Placement.station_id == scope.station_id)
    if scope.role is Role.DEPUTY:
        return Deputy.id == scope.deputy_id
    return false()


def _mandates(scope: Scope) -> ColumnElement[bool]:
    return Mandate.deputy_id.in_(select(Deputy.id).where(_deputies(scope)))


def _placements(scope: Scope) -> ColumnElement[bool]:
    return Placement.station_id.in_(select(Station.id).where(_stations(scope)))


def _units(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        return HandlingUnit.region_id.in_(region_ids_under(scope.region_path))
    if scope.role is Role.UNIT_STAFF:
        return HandlingUnit.id == scope.unit_id
    return false()


def _staff_users(scope: Scope) -> ColumnElement[bool]:
    if scope.is_admin:
        regions = region_ids_under(scope.region_path)
        return or_(
            StaffUser.region_id.in_(regions),
            StaffUser.station_id.in_(select(Station.id).where(Station.region_id.in_(regions))),
            StaffUser.unit_id.in_(select(HandlingUnit.id).where(HandlingUnit.region_id.in_(regions))),
            StaffUser.deputy_id.in_(select(Deputy.id).where(Deputy.region_id.in_(regions))),
        )
    return StaffUser.id == scope.user_id


_CONDITIONS: dict[type, Callable[[Scope], ColumnElement[bool]]] = {
    Region: _regions,
    Station: _stations,
    Deputy: _deputies,
    Mandate: _mandates,
    Placement: _placements,
    HandlingUnit: _units,
    StaffUser: _staff_users,
}


def register_scope(model: type, condition: Callable[[Scope], ColumnElement[bool]]) -> None:
    """Let a later domain (opinions, receptions…) declare how its rows are scoped."""
    _CONDITIONS[model] = condition


def visible(model: type, user_or_scope: StaffUser | Scope) -> ColumnElement[bool]:
    """The WHERE clause limiting ``model`` to what the user may see."""
    scope = user_or_scope if isinstance(user_or_scope, Scope) else scope_of(user_or_scope)
    try:
        condition = _CONDITIONS[model]
    except KeyError:  # a model nobody declared a scope for is visible to nobody
        return false()
    return condition(scope)


def scoped_select(model: type[T], user: StaffUser | Scope, *where: Any) -> Select:
    """``select(model)`` limited to the user's scope, plus any extra conditions."""
    return select(model).where(and_(visible(model, user), *where))


def get_visible(model: type[T], ident: Any, user: StaffUser | Scope) -> T:
    """The object with this primary key if the user may see it; ``NotFound`` otherwise."""
    pk = model.__mapper__.primary_key[0]
    obj = db.session.scalar(scoped_select(model, user, pk == ident))
    if obj is None:
        raise NotFound()
    return obj


def is_visible(obj: Any, user: StaffUser | Scope) -> bool:
    model = type(obj)
    pk = model.__mapper__.primary_key[0]
    return db.session.scalar(select(pk).where(pk == getattr(obj, pk.key), visible(model, user))) is not None


# Later domains declare how their rows are scoped when imported; importing them here means
# nobody can query them through this module before their rules are registered.
from app.ledger import scope as _ledger_scope  # noqa: E402, F401
from app.opinions import scope as _opinions_scope  # noqa: E402, F401
from app.receptions import scope as _receptions_scope  # noqa: E402, F401

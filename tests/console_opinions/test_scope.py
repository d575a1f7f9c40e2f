"""Who sees which opinions (app/opinions/scope.py), in queries and in the console."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.scope import scoped_select
from app.extensions import db
from app.notify.models import AuditEntry
from app.opinions.models import Opinion, OpinionEvent, OpinionSponsor, ReplyTemplate
from app.opinions.pipeline import perform
from tests.console_opinions.conftest import body


def seen(user) -> set[str]:
    return {o.tracking_no for o in db.session.scalars(scoped_select(Opinion, user))}


def test_each_role_sees_its_own_opinions(loop):
    here = loop.new(deputy=loop.deputy)
    next_door = loop.new(station=loop.other_station)
    far = loop.new(station=loop.foreign_station)
    u = loop.users
    assert seen(u["station"]) == {here.tracking_no}
    assert seen(u["other_station"]) == {next_door.tracking_no}
    assert seen(u["town"]) == seen(u["district"]) == {here.tracking_no, next_door.tracking_no}
    assert seen(u["city"]) == {here.tracking_no, next_door.tracking_no, far.tracking_no}
    assert seen(u["foreign_district"]) == {far.tracking_no}
    assert seen(u["deputy"]) == {here.tracking_no}  # received through them
    assert seen(u["unit"]) == set()  # nothing assigned yet


def test_a_unit_sees_only_what_is_assigned_to_it_now(loop):
    opinion = loop.to(loop.new(), "assigned")
    assert seen(loop.users["unit"]) == {opinion.tracking_no}
    assert seen(loop.users["court"]) == seen(loop.users["foreign_unit"]) == set()
    events = db.session.scalars(scoped_select(OpinionEvent, loop.users["unit"])).all()
    assert {e.opinion_id for e in events} == {opinion.id}
    perform(opinion, "return", loop.users["unit"], {"reason": "不属于本单位职责"})
    assert seen(loop.users["unit"]) == set()  # returned: no longer theirs


def test_deputies_see_what_they_sponsor(loop, make_deputy):
    other = make_deputy(loop.tree["town_a"], name="柏代表", station=loop.station)
    opinion = loop.to(loop.new(), "accepted")
    perform(opinion, "classify", loop.users["station"], {"category": "traffic", "major": True})
    assert seen(loop.users["deputy"]) == set()
    perform(opinion, "convert", loop.users["town"], {"deputy_ids": [loop.deputy.id, other.id]})
    assert db.session.scalar(select(OpinionSponsor.id).where(OpinionSponsor.deputy_id == loop.deputy.id))
    assert seen(loop.users["deputy"]) == {opinion.tracking_no}


def test_reply_templates_belong_to_their_unit(loop):
    mine = ReplyTemplate(unit_id=loop.unit.id, title="本单位", text="x")
    theirs = ReplyTemplate(unit_id=loop.foreign_unit.id, title="外单位", text="y")
    db.session.add_all([mine, theirs])
    db.session.flush()

    def titles(user):
        return {t.title for t in db.session.scalars(scoped_select(ReplyTemplate, user))}

    assert titles(loop.users["unit"]) == {"本单位"}
    assert titles(loop.users["district"]) == {"本单位"}
    assert titles(loop.users["city"]) == {"本单位", "外单位"}
    assert titles(loop.users["station"]) == titles(loop.users["deputy"]) == set()


@pytest.mark.parametrize("who", ["unit", "foreign_district", "foreign_station", "other_station", "court"])
def test_out_of_scope_pages_are_404(loop, as_user, who):
    opinion = loop.new(contact_name="王先生", contact_mobile="13912345678")
    db.session.commit()
    client = as_user(loop.users[who])
    for response in (
        client.get(f"/console/opinions/{opinion.tracking_no}"),
        client.post(f"/console/opinions/{opinion.tracking_no}/contact"),
        client.post(f"/console/opinions/{opinion.tracking_no}/actions", data={"action": "accept"}),
    ):
        assert response.status_code == 404
        assert opinion.content not in body(response) and "13912345678" not in body(response)
    db.session.expire_all()
    assert opinion.status == "pending" and len(opinion.events) == 1
    assert db.session.scalar(select(AuditEntry.id)) is None  # nothing revealed, nothing done

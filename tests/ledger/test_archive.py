"""履职档案 and station facts: known answers, and random years recomputed independently from raw rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select

from app.auth.scope import visible
from app.deputies.models import Deputy
from app.extensions import db
from app.ledger.archive import (
    deputies_behind,
    deputy_year_summaries,
    deputy_year_summary,
    station_year_facts,
    station_year_facts_many,
)
from app.ledger.models import (
    Activity,
    ActivityDeputy,
    ActivityKind,
    ActivityOpinion,
    Attendance,
    ContactLog,
    FixedContact,
)
from app.opinions.models import OpinionDeputy
from app.receptions.models import Reception
from tests.ledger.conftest import make_opinion, past_reception


def activity(
    station, kind, when, attendance: dict, *, status="final", residents=0, reception=None, finalised=None
):
    a = Activity(
        station_id=station.id,
        kind=kind,
        status=status,
        started_at=when,
        ended_at=when + timedelta(hours=2),
        title=f"{kind} {when:%m-%d}",
        residents_received=residents,
        reception_id=reception.id if reception else None,
        finalised_at=finalised or (when + timedelta(days=1)).replace(tzinfo=UTC)
        if status == "final"
        else None,
    )
    a.deputies = [ActivityDeputy(deputy_id=d.id, attendance=s) for d, s in attendance.items()]
    db.session.add(a)
    db.session.flush()
    return a


def contact(deputy, name, days, active=True):
    c = FixedContact(deputy_id=deputy.id, name=name, active=active)
    c.logs = [ContactLog(deputy_id=deputy.id, contacted_on=d) for d in days]
    db.session.add(c)
    db.session.flush()
    return c


def test_known_year_met_and_behind(lw):
    good, lazy, _ = lw.deputies
    s = lw.station
    rec = past_reception(s, [good, lazy])
    activity(
        s,
        "reception",
        datetime(2026, 3, 17, 9),
        {good: "attended", lazy: "absent"},
        residents=7,
        reception=rec,
    )
    activity(s, "study", datetime(2026, 4, 1, 14), {good: "attended", lazy: "attended"})
    activity(s, "study", datetime(2026, 9, 1, 14), {good: "attended", lazy: "excused"})
    activity(s, "study", datetime(2025, 9, 1, 14), {lazy: "attended"})  # last year
    activity(s, "study", datetime(2026, 10, 1, 14), {lazy: "attended"}, status="draft")  # not registered
    contact(good, "甲", [date(2026, 2, 1), date(2026, 8, 1)])
    contact(good, "乙", [date(2026, 5, 1), date(2026, 6, 1), date(2025, 6, 1)])
    contact(good, "停用", [], active=False)
    contact(lazy, "丙", [date(2026, 5, 1), date(2025, 5, 1)])
    make_opinion(s, deputy=good, status="closed")
    other = make_opinion(s, status="assigned")
    db.session.add(OpinionDeputy(opinion_id=other.id, deputy_id=good.id))
    db.session.flush()

    g = deputy_year_summary(good.id, 2026)
    assert g.all_met, g.behind
    assert g.receptions_attended == 1 and g.residents_received == 7
    assert g.study_attended == 2 and g.study_expected == 2 and g.study_rate == 1.0
    assert g.opinions_collected == 2 and g.opinion_outcomes == {"closed": 1, "in_progress": 1}
    assert [c.name for c in g.fixed_contacts] == ["甲", "乙"]

    z = deputy_year_summary(lazy.id, 2026)
    behind = {r.key: r for r in z.behind}
    assert set(behind) == {"reception", "study", "contact_twice"}
    assert behind["reception"].gap == 1 and behind["study"].gap == 1
    assert behind["contact_twice"].gap == 1 and "还差 1 次" in behind["contact_twice"].note
    assert z.absent == 1 and z.excused == 1 and z.drafts_pending == 1
    assert z.study_rate == 0.5

    rows = deputies_behind(select(Deputy.id).where(visible(Deputy, lw.staff)), 2026)
    names = [r.deputy.name for r in rows]
    assert lazy.name in names and good.name not in names


def test_random_years_match_a_plain_recount(lw):
    rng = random.Random(8)
    s = lw.station
    deputies = lw.deputies
    kinds = list(ActivityKind)
    for _n in range(60):
        when = datetime(2025 + rng.randint(0, 2), rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 18))
        kind = rng.choice(kinds)
        who = {d: rng.choice(list(Attendance)) for d in deputies if rng.random() < 0.7}
        rec = None
        if kind == "reception" and rng.random() < 0.6 and when.year == 2026:
            rec = past_reception(s, list(who), day=when.date(), kind=rng.choice(["service_day", "topic"]))
        activity(
            s,
            kind,
            when,
            who,
            status=rng.choice(["final", "final", "draft"]),
            residents=rng.randint(0, 9),
            reception=rec,
        )
    for d in deputies:
        for k in range(rng.randint(0, 3)):
            days = [date(2026, rng.randint(1, 12), rng.randint(1, 28)) for _ in range(rng.randint(0, 4))]
            contact(d, f"{d.name}-{k}", [*days, date(2025, 3, 3)], active=rng.random() < 0.8)

    year = 2026
    acts = db.session.scalars(select(Activity)).all()
    final = [a for a in acts if a.status == "final" and a.started_at.year == year and a.station_id == s.id]
    summaries = deputy_year_summaries([d.id for d in deputies], year)
    for d in deputies:
        mine = [(a, ad.attendance) for a in final for ad in a.deputies if ad.deputy_id == d.id]
        attended = [a for a, st in mine if st == "attended"]
        got = summaries[d.id]
        assert got.receptions_attended == sum(1 for a in attended if a.kind == "reception")
        assert got.residents_received == sum(a.residents_received for a in attended if a.kind == "reception")
        assert got.study_attended == sum(1 for a in attended if a.kind == "study")
        assert got.study_expected == sum(1 for a, _ in mine if a.kind == "study")
        assert got.absent == sum(1 for _, st in mine if st == "absent")
        by_kind = {}
        for a in attended:
            by_kind[a.kind] = by_kind.get(a.kind, 0) + 1
        assert got.attended_by_kind == by_kind
        contacts = db.session.scalars(
            select(FixedContact).where(FixedContact.deputy_id == d.id, FixedContact.active.is_(True))
        ).all()
        expected = sorted((c.id, sum(1 for log in c.logs if log.contacted_on.year == year)) for c in contacts)
        assert sorted((c.contact_id, c.contacts) for c in got.fixed_contacts) == expected

    facts = station_year_facts(s.id, year)
    months = {}
    for a in final:
        if (
            a.kind == "reception"
            and a.reception_id
            and db.session.get(Reception, a.reception_id).kind == "service_day"
        ):
            months[a.started_at.month] = months.get(a.started_at.month, 0) + 1
    assert facts.service_days_by_month == months
    assert facts.activities_final == len(final)
    assert facts.monitoring_activities == sum(1 for a in final if a.kind == "monitoring")
    assert facts.residents_received == sum(a.residents_received for a in final)
    studies = [a for a in final if a.kind == "study"]
    assert facts.study_count == len(studies)
    attended_total = sum(1 for a in studies for ad in a.deputies if ad.attendance == "attended")
    expected_rate = attended_total / (len(studies) * len(deputies)) if studies else None
    assert facts.study_participation == expected_rate
    received = sorted(
        {
            ad.deputy_id
            for a in final
            if a.kind == "reception"
            for ad in a.deputies
            if ad.attendance == "attended"
        }
    )
    assert facts.deputies_received_here == received
    assert facts.activities_draft == sum(1 for a in acts if a.status == "draft" and a.started_at.year == year)


def test_station_facts_leaders_contacts_and_timeliness(lw):
    leader, plain, idle = lw.deputies
    leader.is_leader = True
    idle.is_leader = True
    s = lw.station
    activity(s, "monitoring", datetime(2026, 5, 1, 9), {leader: "attended", plain: "attended"})
    late = activity(
        s,
        "monitoring",
        datetime(2026, 6, 1, 9),
        {plain: "attended"},
        finalised=datetime(2026, 7, 1, tzinfo=UTC),
    )
    activity(s, "study", datetime(2026, 6, 2, 9), {plain: "attended", idle: "absent"})
    contact(leader, "甲", [date(2026, 1, 1), date(2026, 2, 1)])
    contact(plain, "乙", [date(2026, 1, 1)])
    opinion = make_opinion(s, status="closed")
    db.session.add(ActivityOpinion(activity_id=late.id, opinion_id=opinion.id, solved=True))
    db.session.flush()
    f = station_year_facts(s.id, 2026)
    assert f.leaders_placed == sorted([leader.id, idle.id]) and f.leaders_attended == [leader.id]
    assert f.monitoring_activities == 2 and f.activities_on_time == 2 and f.activities_final == 3
    assert f.study_sessions[0].attended == 1 and f.study_sessions[0].placed == 3
    assert f.deputies_with_contacts == sorted([leader.id, plain.id]) and f.deputies_contacts_met == [
        leader.id
    ]
    assert (f.fixed_contacts, f.fixed_contacts_met) == (2, 1)
    assert f.opinions_linked == 1


def test_station_facts_in_batch_equal_one_by_one_in_a_fixed_number_of_queries(lw, make_station, make_deputy):
    leader, plain, _idle = lw.deputies
    leader.is_leader = True
    s, other = lw.station, lw.other_station
    visitor = make_deputy(lw.tree["town_b"], name="来访代表", station=other)
    rec = past_reception(s, [leader, plain])
    activity(s, "reception", datetime(2026, 3, 17, 9), {leader: "attended"}, residents=4, reception=rec)
    # A deputy placed elsewhere who joins a study here does not raise this station's participation.
    activity(s, "study", datetime(2026, 4, 1, 14), {plain: "attended", visitor: "attended"})
    activity(other, "reception", datetime(2026, 5, 1, 9), {visitor: "attended"}, residents=2)
    contact(plain, "乙", [date(2026, 1, 1), date(2026, 3, 1)])
    extra = [make_station(lw.tree["village_a"], name=f"空站{i}") for i in range(5)]
    db.session.flush()

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    def count(ids):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            facts = station_year_facts_many(ids, 2026, date(2026, 12, 31))
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return facts, len(statements)

    two, n_two = count([s.id, other.id])
    many, n_many = count([s.id, other.id, *(e.id for e in extra)])
    assert n_many == n_two  # one batch of queries, whatever the number of stations
    for sid in (s.id, other.id):
        assert many[sid] == two[sid] == station_year_facts(sid, 2026, date(2026, 12, 31))
    f = two[s.id]
    assert f.study_sessions[0].attended == 1 and f.study_participation == 1 / 3
    assert f.deputies_received_here == [leader.id] and f.leaders_attended == [leader.id]
    assert f.receptions_held == f.receptions_registered == 1 and f.service_days_by_month == {3: 1}
    assert f.deputies_contacts_met == [plain.id] and f.residents_received == 4
    assert two[other.id].deputies_received_here == [visitor.id] and two[other.id].residents_received == 2
    assert f.deputies_received_anywhere == [leader.id]
    assert two[other.id].deputies_received_anywhere == [visitor.id]
    assert many[extra[0].id] == station_year_facts(extra[0].id, 2026)

"""Similar opinions: jieba words compared with rapidfuzz, bounded, within what the user may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from app.opinions import similar as similar_module
from app.opinions.service import submit_opinion
from app.opinions.similar import similar_opinions, similarity, tokens

LAMP = "小区门口的路灯坏了两个星期，晚上出行不便"


def test_tokens_drop_punctuation_and_filler():
    words = tokens(LAMP)
    assert "路灯" in words and "小区" in words
    assert "的" not in words and "，" not in words and "了" not in words
    assert tokens("") == [] and tokens("？！。") == []


def test_similarity_ranks_the_same_matter_high():
    same = similarity(LAMP, "我们小区大门口路灯坏了，晚上很黑出行不方便")
    other = similarity(LAMP, "希望增加公交线路，方便老人去医院看病")
    assert same >= 60 > 30 >= other
    assert similarity(LAMP, LAMP) == 100
    assert similarity("", LAMP) == 0
    assert similarity("老小区加装电梯的补贴政策是什么", "请问老旧小区加装电梯有没有补贴") >= 60


def test_similar_opinions_nearby_recent_and_visible(region_tree, make_station, make_user, make_region):
    tree = region_tree()
    station = make_station(tree["village_a"])
    neighbour = make_station(make_region(tree["town_a"], "邻村"))
    elsewhere = make_station(tree["village_b"])
    admin = make_user("city_admin", tree["city"])

    def new(text, at=station):
        return submit_opinion(station=at, content=text, channel="h5")

    opinion = new(LAMP)
    same_station = new("小区门口路灯坏了两个星期")
    next_village = new("我们小区大门口路灯坏了，晚上很黑出行不方便", neighbour)
    other_town = new(LAMP, elsewhere)
    unrelated = new("希望增加公交线路，方便老人去医院看病")
    stale = new(LAMP)
    stale.created_at = datetime.now(UTC) - timedelta(days=200)
    db.session.flush()
    found = similar_opinions(opinion, admin)
    ids = [s.opinion.id for s in found]
    assert ids[0] == same_station.id and next_village.id in ids
    assert other_town.id not in ids and unrelated.id not in ids and stale.id not in ids
    assert all(0 < s.score <= 100 for s in found)
    station_staff = make_user("station_staff", station)
    assert [s.opinion.id for s in similar_opinions(opinion, station_staff)] == [same_station.id]


def test_the_candidate_pool_is_bounded(region_tree, make_station, make_user, monkeypatch):
    tree = region_tree()
    station = make_station(tree["village_a"])
    admin = make_user("town_admin", tree["town_a"])
    opinion = submit_opinion(station=station, content=LAMP, channel="h5")
    for i in range(6):
        submit_opinion(station=station, content=f"{LAMP}（第{i}次反映）", channel="h5")
    monkeypatch.setattr(similar_module, "POOL", 3)
    assert len(similar_opinions(opinion, admin, limit=10)) == 3

import re

from app.opinions.service import submit_opinion


def test_dashboard_counts_what_waits_for_the_user(region_tree, make_station, make_user, login):
    tree = region_tree()
    station = make_station(tree["village_a"])
    staff = make_user("station_staff", station)
    submit_opinion(station=station, content="小区门口路灯坏了两周", channel="h5", resident_id="anon-1")
    html = login(staff).get("/console/").get_data(as_text=True)
    stat = r'<div class="stat-num">(\d+)</div>\s*<div class="stat-label"><a href="([^"]+)">待我处理'
    todo = re.search(stat, html)
    assert todo is not None and todo.group(1) == "1"
    assert todo.group(2) == "/console/opinions/?todo=1"
    assert 'href="/console/opinions/"' in html  # the 意见办理 card and sidebar entry

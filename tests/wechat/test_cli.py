"""``flask wechat menu-sync`` and ``flask wechat qrcode`` against the in-process mock."""

from sqlalchemy import select

from app.extensions import db
from app.wechat.menu import DEFAULT_MENU
from app.wechat.models import StationQrCode


def test_menu_sync_pushes_the_configured_menu(runner, mock_api):
    result = runner.invoke(args=["wechat", "menu-sync"])
    assert result.exit_code == 0, result.output
    assert "找站点" in result.output
    pushed = mock_api.requests("/cgi-bin/menu/create")
    assert [r["json"] for r in pushed] == [DEFAULT_MENU]
    shown = runner.invoke(args=["wechat", "menu-show"])
    assert "接待预告" in shown.output


def test_menu_keys_are_all_answered():
    from handlers.click import menu_click  # noqa: F401 - the keys below are its branches

    keys = {
        b["key"] for top in DEFAULT_MENU["button"] for b in [top, *top.get("sub_button", [])] if "key" in b
    }
    assert keys == {"NEARBY", "MY_STATIONS", "MY_SUBSCRIPTION", "LEAVE_OPINION", "MY_PROGRESS", "DUTY"}


def test_menu_sync_reports_wechat_errors(runner, mock_api):
    from app.wechat.mock import Fault

    mock_api.add_fault(Fault("/cgi-bin/menu/create", 1, 45009))
    result = runner.invoke(args=["wechat", "menu-sync"])
    assert result.exit_code != 0 and "45009" in result.output


def test_qrcode_stores_ticket_and_url(runner, mock_api, region_tree, make_station):
    station = make_station(region_tree()["village_a"])
    db.session.flush()
    result = runner.invoke(args=["wechat", "qrcode", station.code.upper()])
    assert result.exit_code == 0, result.output
    stored = db.session.scalar(select(StationQrCode).where(StationQrCode.station_id == station.id))
    assert stored.scene == station.code and stored.ticket in result.output
    assert (
        mock_api.requests("/cgi-bin/qrcode/create")[0]["json"]["action_info"]["scene"]["scene_str"]
        == station.code
    )


def test_qrcode_of_unknown_station(runner, mock_api):
    result = runner.invoke(args=["wechat", "qrcode", "nope22"])
    assert result.exit_code != 0 and "未找到" in result.output


def test_menu_show_without_a_menu(runner, app, mock_api):
    mock_api.menu = None
    result = runner.invoke(args=["wechat", "menu-show"])
    assert result.exit_code == 0 and "没有自定义菜单" in result.output

"""``flask wechat …``: menu, station QR codes, and the mock WeChat API server."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.extensions import db
from app.stations.service import get_station_by_code
from app.wechat.client import WeChatApiError, official_account
from app.wechat.menu import configured_menu
from app.wechat.service import save_station_qrcode

wechat_cli = AppGroup("wechat", help="公众号：菜单、站点二维码、微信接口模拟服务。")


@wechat_cli.command("menu-sync")
def menu_sync() -> None:
    """Push the configured menu to WeChat."""
    menu = configured_menu()
    try:
        official_account().create_menu(menu)
    except WeChatApiError as exc:
        raise click.ClickException(f"菜单同步失败：{exc}") from exc
    names = "、".join(button["name"] for button in menu["button"])
    click.echo(f"菜单已同步：{names}")


@wechat_cli.command("menu-show")
def menu_show() -> None:
    """Print the menu WeChat has now."""
    try:
        menu = official_account().get_menu()
    except WeChatApiError as exc:
        raise click.ClickException(f"读取菜单失败：{exc}") from exc
    if menu is None:  # wechatpy's answer to 46003 "menu no exist"
        click.echo("公众号当前没有自定义菜单，可运行 flask wechat menu-sync。")
        return
    click.echo(json.dumps(menu, ensure_ascii=False, indent=2))


@wechat_cli.command("qrcode")
@click.argument("station_code")
def qrcode(station_code: str) -> None:
    """Get the station's permanent parametric QR (scene = station code) and store it."""
    try:
        station = get_station_by_code(station_code.strip().lower())
        answer = official_account().create_station_qrcode(station.code)
        stored = save_station_qrcode(station, answer["ticket"], answer["url"])
        db.session.commit()
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    except WeChatApiError as exc:
        raise click.ClickException(f"生成二维码失败：{exc}") from exc
    click.echo(f"{station.name}（{station.code}）\nticket: {stored.ticket}\nurl: {stored.url}")


@wechat_cli.command("mock-server", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=int)
def mock_server(host: str, port: int) -> None:
    """Run the mock WeChat API standalone (point WECHAT_API_BASE at it)."""
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from app.wechat.mock import create_mock_app

    class KeepAlive(WSGIRequestHandler):
        # Callers keep connections open, as they do with WeChat's API: one TCP connection
        # (and one server thread) serves many calls instead of one each.
        protocol_version = "HTTP/1.1"

    click.echo(f"微信接口模拟服务：http://{host}:{port}  (WECHAT_API_BASE=http://{host}:{port})")
    run_simple(host, port, create_mock_app(), threaded=True, use_reloader=False, request_handler=KeepAlive)

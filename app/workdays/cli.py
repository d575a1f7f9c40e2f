"""``flask calendar …``: the work calendar."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.workdays.service import sync_from_library


@click.group("calendar", help="工作日历：法定节假日与调休。")
def calendar_cli() -> None:
    pass


@calendar_cli.command("sync", help="从 chinese-calendar 载入节假日与调休（幂等，不覆盖人工修改）。")
@with_appcontext
def sync() -> None:
    result = sync_from_library()
    db.session.commit()
    click.echo(
        f"工作日历已同步至 {result['last_year']} 年：新增 {result['added']} 天，更新 {result['updated']} 天。"
    )

"""``flask receptions …``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.errors import ValidationFailed
from app.extensions import db
from app.receptions.service import ServiceDayDefaults, generate_service_days


@click.group("receptions", help="接待活动。")
def receptions_cli() -> None:
    pass


@receptions_cli.command("generate", help="生成某月的“代表联系服务群众日”（每月第三个星期二），幂等。")
@click.option("--month", required=True, metavar="YYYY-MM", help="月份，例如 2026-12")
@with_appcontext
def generate(month: str) -> None:
    try:
        report = generate_service_days(month, ServiceDayDefaults.from_config(current_app.config))
    except ValidationFailed as exc:
        raise click.BadParameter(exc.message, param_hint="--month") from None
    db.session.commit()
    click.echo(f"{report.month}：新建 {len(report.created)} 场，已存在 {report.existing} 场。")
    if report.moved:
        first = report.moved[0]
        click.echo(f"注意：{first.schedule_note}（{len(report.moved)} 场待确认，暂未公告）")
    if report.without_deputies:
        names = "、".join(s.name for s in report.without_deputies[:10])
        more = "等" if len(report.without_deputies) > 10 else ""
        click.echo(f"以下 {len(report.without_deputies)} 个家站点尚无编入代表，无法安排值班：{names}{more}")

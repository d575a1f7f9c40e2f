"""``flask analytics refresh``: rebuild the 民意研判 aggregates now (the scheduler: every 15 minutes)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db

analytics_cli = AppGroup("analytics", help="民意研判：汇总表。")


@analytics_cli.command("refresh")
@click.option("--full", is_flag=True, help="重算所有月份（默认只重算有变化的月份）。")
def refresh_command(full: bool) -> None:
    """Recompute the stored months whose opinions changed (all months with --full); idempotent."""
    from app.analytics.refresh import refresh_aggregates

    result = refresh_aggregates(full=full)
    db.session.commit()
    click.echo(f"重算 {len(result.months)} 个月：指标 {result.opinion_rows} 行，热词 {result.word_rows} 行。")


@analytics_cli.command("demo")
def demo_command() -> None:
    """Add a year of demo opinions at the demo stations (after ``flask demo seed``), then refresh."""
    from app.analytics.demo import seed_demo_opinions
    from app.analytics.refresh import refresh_aggregates
    from app.errors import DomainError

    try:
        added = seed_demo_opinions()
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    result = refresh_aggregates()
    db.session.commit()
    click.echo(
        f"新增演示意见 {added} 条；重算 {len(result.months)} 个月。打开 /console/analytics/ 查看民意研判。"
    )

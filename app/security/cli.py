"""``flask retention run``: anonymise closed opinions older than the retention period."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.extensions import db


@click.group("retention", help="数据保留：匿名化超过保留期的已办结留言")
def retention_cli() -> None:
    pass


@retention_cli.command("run")
@click.option(
    "--older-than-days", type=click.IntRange(min=0), default=None, help="保留期（天），默认 RETENTION_DAYS"
)
@click.option("--dry-run", is_flag=True, help="只列出将处理的记录，不写入")
@with_appcontext
def run(older_than_days: int | None, dry_run: bool) -> None:
    from app.security.retention import run_retention

    report = run_retention(older_than_days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in report.lines():
        click.echo(line)

"""``flask export …``: write an export to a file, for operators (everything, no console scope)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.exports import kinds  # noqa: F401  (registers the export kinds)
from app.exports.jobs import EXPORT_KINDS
from app.exports.xlsx import write_workbook

export_cli = AppGroup("export", help="Export opinions, the ledger, deputy archives or ratings to Excel.")


def _write(kind: str, out: str, params: dict) -> None:
    try:
        source = EXPORT_KINDS[kind][2](None, {k: v for k, v in params.items() if v not in (None, "")})
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    path = Path(out)
    with click.progressbar(length=max(source.total, 1), label=f"导出 {source.filename}") as bar:
        written = write_workbook(source, path, on_rows=bar.update)
    click.echo(f"已写入 {path}：{written} 行。")


@export_cli.command("opinions")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
@click.option("--region", "region_code", help="region code: only its stations' opinions")
@click.option("--from", "date_from", help="first day, YYYY-MM-DD (submission date, local time)")
@click.option("--to", "date_to", help="last day, YYYY-MM-DD")
def export_opinions(out: str, region_code: str | None, date_from: str | None, date_to: str | None) -> None:
    """The opinions list, phones masked: one header row, one row per opinion."""
    _write("opinions", out, {"region_code": region_code, "from": date_from, "to": date_to})


@export_cli.command("ledger")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
@click.option("--station", "station_code", help="station code")
@click.option("--region", "region_code", help="region code: every station below it")
@click.option("--year", type=int, help="the year (or give --from/--to)")
@click.option("--from", "date_from", help="first day, YYYY-MM-DD")
@click.option("--to", "date_to", help="last day, YYYY-MM-DD")
def export_ledger(out, station_code, region_code, year, date_from, date_to) -> None:
    """The 台账: one row per registered activity of the station (or region) in the period."""
    if not station_code and not region_code:
        raise click.UsageError("give --station CODE or --region CODE")
    params = {
        "station_code": station_code,
        "region_code": region_code,
        "year": year,
        "from": date_from,
        "to": date_to,
    }
    _write("ledger", out, params)


@export_cli.command("archive")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
@click.option("--year", required=True, type=int)
@click.option("--region", "region_code", help="region code: only the deputies that region keeps")
def export_archive(out: str, year: int, region_code: str | None) -> None:
    """履职档案: one row per active deputy with the year's requirements, met or how far behind."""
    _write("archive", out, {"year": year, "region_code": region_code})


@export_cli.command("ratings")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
@click.option("--year", required=True, type=int)
def export_ratings(out: str, year: int) -> None:
    """星级评定: one row per rated station with its group scores, total, level and workflow state."""
    _write("ratings", out, {"year": year})


@export_cli.command("rating")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="the .xlsx file to write")
@click.option("--year", required=True, type=int)
@click.option("--station", "station_code", required=True, help="station code")
def export_rating(out: str, year: int, station_code: str) -> None:
    """One station's score sheet: every 附件3 item with its maximum, score and evidence."""
    from sqlalchemy import select

    from app.extensions import db
    from app.rating.exports import sheet_workbook
    from app.rating.service import score_sheet
    from app.stations.models import Station

    station = db.session.scalar(select(Station).where(Station.code == station_code))
    if station is None:
        raise click.ClickException(f"没有代码为 {station_code} 的家站点。")
    try:
        source = sheet_workbook(score_sheet(station, year))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    written = write_workbook(source, Path(out))
    click.echo(f"已写入 {out}：{written} 行。")

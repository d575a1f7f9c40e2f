"""``flask plaques make``: print-ready plaques for every station (or one)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.plaques.service import PlaqueFontMissing, make_plaques, plaque_font
from app.stations.models import Station, StationStatus
from app.stations.service import get_station_by_code


@click.group("plaques", help="统一标识牌。")
def plaques_cli() -> None:
    pass


@plaques_cli.command("make", help="生成家站点统一标识牌（60×40 cm，300 dpi 的 PNG 与 PDF）。")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="输出目录"
)
@click.option("--station", "code", default=None, help="只生成该站点编号的标识牌")
@click.option("--dpi", default=300, show_default=True, type=click.IntRange(30, 600), help="分辨率")
@with_appcontext
def make(out_dir: Path, code: str | None, dpi: int) -> None:
    if code:
        try:
            stations = [get_station_by_code(code)]
        except NotFound:
            raise click.BadParameter(f"未找到站点编号 {code}。", param_hint="--station") from None
    else:
        stations = list(
            db.session.scalars(
                select(Station).where(Station.status == StationStatus.ACTIVE).order_by(Station.id)
            )
        )
    if not stations:
        click.echo("没有需要生成标识牌的站点。")
        return
    base_url = current_app.config["PUBLIC_BASE_URL"]
    try:
        font = plaque_font(current_app.config)
        with click.progressbar(length=len(stations), label="生成标识牌", show_pos=True) as bar:
            make_plaques(
                stations, out_dir, base_url=base_url, font=font, dpi=dpi, on_done=lambda _s: bar.update(1)
            )
    except PlaqueFontMissing as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"已生成 {len(stations)} 块标识牌（PNG 与 PDF）到 {out_dir}，二维码指向 {base_url}/s/<站点编号>。"
    )

"""``flask demo seed``: the Wuxi demo data and one login per role."""

from __future__ import annotations

import time
import unicodedata

import click
from flask import current_app
from flask.cli import with_appcontext

from app.demo.service import TALLY_LABELS, SeedReport, seed_demo
from app.errors import DomainError
from app.extensions import db


@click.group("demo", help="演示数据。")
def demo_cli() -> None:
    pass


@demo_cli.command("seed", help="写入无锡市演示数据和各角色演示账号（可重复执行，不会重复写入）。")
@with_appcontext
def seed() -> None:
    started = time.perf_counter()
    try:
        report = seed_demo(current_app.config["DEMO_PASSWORD"])
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"错误：{exc.message}未写入任何数据。", err=True)
        raise SystemExit(1) from None
    except Exception:
        db.session.rollback()
        raise
    _print_report(report, time.perf_counter() - started)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _print_report(report: SeedReport, seconds: float) -> None:
    if any(t.created for t in report.tallies.values()):
        click.echo(f"演示数据已写入（用时 {seconds:.1f} 秒）。")
    elif report.passwords_updated:
        click.echo(f"演示数据已齐全，本次只更新了演示账号密码（用时 {seconds:.1f} 秒）。")
    elif report.changed:
        click.echo(f"演示数据已齐全，本次补充生成了接待活动（用时 {seconds:.1f} 秒）。")
    else:
        click.echo(f"演示数据已齐全，本次未做任何更改（用时 {seconds:.1f} 秒）。")
    rows = [["项目", "新建", "已存在"]]
    for key, label in TALLY_LABELS.items():
        tally = report.tallies[key]
        rows.append([label, str(tally.created), str(tally.existing)])
    for line in _table(rows):
        click.echo(line)
    if report.calendar_days_added:
        click.echo(f"工作日历：新增 {report.calendar_days_added} 个节假日/调休日。")
    if report.receptions_created:
        click.echo(f"接待活动：生成本月和下月的“代表联系服务群众日”共 {report.receptions_created} 场。")
    if report.ledger_activities_created:
        click.echo(
            f"活动台账：写入演示街道家站点本年度的活动 {report.ledger_activities_created} 条，"
            "以及年度活动计划和固定联系群众。"
        )
    if report.rating_sheets_created:
        click.echo(
            f"星级评定：写入演示街道家站点本年度评分表 {report.rating_sheets_created} 张"
            "（自评中、待区推荐、待市评定、已评定各一）。"
        )
    if report.push_demo_created:
        click.echo(
            f"推送演示：演示家站点的关注者、代表和工作人员的微信绑定（新增 {report.push_demo_created} 项）；"
            "在该站点公告一场接待，即可在“推送记录”看到推送，在“代表提醒”看到提醒安排。"
        )
    if report.passwords_updated:
        click.echo("已按 DEMO_PASSWORD 更新密码：" + "、".join(report.passwords_updated))
    for warning in report.warnings:
        click.echo(f"注意：{warning}")
    click.echo("")
    click.echo("演示账号（登录 /console/login）：")
    logins = [["用户名", "角色", "管辖范围", "密码"]]
    logins += [[x.username, x.role, x.scope, x.password] for x in report.logins]
    for line in _table(logins):
        click.echo(line)
    click.echo("")
    url = f"{current_app.config['PUBLIC_BASE_URL']}/s/{report.demo_station_code}"
    click.echo(f"演示站点：{report.demo_station_name}  {url}")

"""``flask users …``: staff accounts from the command line (the first admin of a new install)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.service import create_user
from app.errors import DomainError
from app.extensions import db

users_cli = AppGroup("users", help="工作人员账号：在命令行创建账号（新部署的第一个管理员）。")


def _id_of(model, code: str, label: str) -> int:
    found = db.session.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise click.ClickException(f"找不到代码为 {code} 的{label}。")
    return found


@users_cli.command("create")
@click.option("--username", required=True, help="登录名（字母、数字、_ . -，3-64 位）。")
@click.option("--name", "display_name", required=True, help="姓名。")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.CITY_ADMIN.value,
    show_default=True,
    help="角色。",
)
@click.option("--region", "region_code", help="管理员所属区域的代码（三种管理员角色）。")
@click.option(
    "--create-city",
    "city_name",
    metavar="NAME",
    help="新部署：区域表为空时，先以 --region 的代码和此名称建立市一级区域（如 --create-city 无锡市）。",
)
@click.option("--station", "station_code", help="家站点工作人员所在家站点的代码。")
@click.option("--unit", "unit_code", help="承办单位工作人员所在单位的代码。")
@click.option("--phone", default="", help="手机号（可选）。")
@click.password_option(
    "--password", envvar="NEW_USER_PASSWORD", help="密码（不给则交互输入；或环境变量 NEW_USER_PASSWORD）。"
)
def create_command(
    username: str,
    display_name: str,
    role: str,
    region_code: str | None,
    city_name: str | None,
    station_code: str | None,
    unit_code: str | None,
    phone: str,
    password: str,
) -> None:
    """Create one staff account (as the system, so no creator's scope applies)."""
    from app.regions.models import Region
    from app.stations.models import Station
    from app.units.models import HandlingUnit

    role_enum = Role(role)
    created_city = False
    data: dict[str, object] = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "password": password,
        "phone": phone,
    }
    try:
        if role_enum in ADMIN_ROLES:
            if not region_code:
                raise click.ClickException("管理员账号需要 --region（所属区域的代码）。")
            if city_name and db.session.scalar(select(Region.id).where(Region.code == region_code)) is None:
                if role_enum is not Role.CITY_ADMIN:
                    raise click.ClickException("--create-city 只用于创建市人大管理员。")
                from app.regions.service import create_region

                create_region(code=region_code, name=city_name, parent=None)
                created_city = True
            data["region_id"] = _id_of(Region, region_code, "区域")
        elif role_enum is Role.STATION_STAFF:
            data["station_id"] = _id_of(Station, station_code or "", "家站点")
        elif role_enum is Role.UNIT_STAFF:
            data["unit_id"] = _id_of(HandlingUnit, unit_code or "", "承办单位")
        else:
            raise click.ClickException("代表账号请在后台“代表”页面建立。")
        user = create_user(None, data)
        db.session.commit()
        if created_city:
            click.echo(f"已建立区域：{city_name}（{region_code}）")
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    except click.ClickException:
        db.session.rollback()
        raise
    click.echo(f"已创建账号 {user.username}（{user.role_label}，{user.scope_label}）。")


@users_cli.command("list")
def list_command() -> None:
    """Print every staff account: username, role, scope, active."""
    for user in db.session.scalars(select(StaffUser).order_by(StaffUser.id)):
        state = "" if user.active else "（已停用）"
        click.echo(f"{user.username}\t{user.role_label}\t{user.scope_label}{state}")

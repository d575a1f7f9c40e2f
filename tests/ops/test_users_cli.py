"""``flask users create``: the first admin of a new deployment, and staff accounts by code."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role, StaffUser
from app.regions.models import Region


def test_first_city_admin_on_an_empty_install(runner, db_session):
    result = runner.invoke(
        args=[
            "users", "create", "--username", "admin", "--name", "管理员",
            "--region", "320200", "--create-city", "无锡市", "--password", "long-enough-1",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "已建立区域：无锡市（320200）" in result.output
    user = db_session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    assert user.role_enum is Role.CITY_ADMIN
    assert user.region.name == "无锡市" and user.region.parent_id is None
    assert user.check_password("long-enough-1")
    listed = runner.invoke(args=["users", "list"])
    assert "admin\t市人大管理员\t无锡市" in listed.output


def test_station_staff_by_station_code(runner, db_session, region_tree, make_station):
    station = make_station(region_tree()["village_a"])
    result = runner.invoke(
        args=["users", "create", "--username", "zhan01", "--name", "张三", "--role", "station_staff",
              "--station", station.code],
        env={"NEW_USER_PASSWORD": "long-enough-2"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db_session.scalar(select(StaffUser).where(StaffUser.username == "zhan01"))
    assert user.station_id == station.id


def test_refusals_change_nothing(runner, db_session):
    short = runner.invoke(
        args=["users", "create", "--username", "xyz1", "--name", "甲", "--region", "320200",
              "--create-city", "无锡市", "--password", "short"],
    )  # fmt: skip
    assert short.exit_code != 0 and "密码至少" in short.output
    assert db_session.scalar(select(Region).where(Region.code == "320200")) is None
    unknown = runner.invoke(
        args=["users", "create", "--username", "xyz2", "--name", "乙", "--region", "NOPE1",
              "--password", "long-enough-3"],
    )  # fmt: skip
    assert unknown.exit_code != 0 and "找不到代码为 NOPE1 的区域" in unknown.output

"""``flask demo seed`` refusals, on an empty database: nothing may be written."""

from sqlalchemy import func, select

from app.auth.models import StaffUser
from app.deputies.models import Deputy
from app.extensions import db
from app.regions.models import Region
from app.stations.models import Station
from app.workdays.models import CalendarDay


def _rows() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Region, Station, Deputy, StaffUser, CalendarDay)
    )


def test_refuses_in_production(app, runner, monkeypatch):
    # A production app cannot even start on SQLite with the test key; flip the setting after creation.
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    before = _rows()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "生产环境" in result.output
    assert "未写入任何数据" in result.output
    assert _rows() == before
    assert before[:4] == (0, 0, 0, 0)


def test_refuses_a_too_short_demo_password(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_PASSWORD", "short")
    before = _rows()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "DEMO_PASSWORD" in result.output
    assert _rows() == before

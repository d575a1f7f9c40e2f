"""The scheduler: idempotent sweeps on APScheduler, one active scheduler per deployment.

Every sweep can run twice, or late after downtime, and still sends each push once: what
it queues carries a dedup key (``reminder:<reception>:<deputy>:<lead>`` …) and the outbox
keeps one row per key. A lock (Redis when ``REDIS_URL`` is set, else a PostgreSQL advisory
lock, else a file lock for SQLite) lets only one scheduler run sweeps; a second one started
by mistake idles and takes over when the first one dies.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models_base import utcnow
from app.notify import messages
from app.notify.models import OutboxMessage, OutboxStatus
from app.notify.service import queue_message
from app.timeutil import local_now

log = logging.getLogger(__name__)

LOCK_NAME = "jzd:scheduler"
LOCK_TTL_S = 90
# Renew or release the Redis lock only while it is still ours (another may hold it after expiry).
RENEW_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
)
RELEASE_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# PostgreSQL advisory lock key: any constant of our own ("jzdsched" in ASCII, fits a bigint).
ADVISORY_KEY = 0x6A7A64736368


# --- the lock -------------------------------------------------------------------------


class SchedulerLock:
    """Held by at most one scheduler of the deployment; ``hold()`` takes or renews it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.token = secrets.token_hex(8)
        self._pg_conn = None
        self._file = None
        self._guard = threading.Lock()

    def hold(self) -> bool:
        """True when this scheduler holds (now or still) the lock."""
        with self._guard:
            redis = self.app.extensions.get("redis")
            if redis is not None:
                try:
                    return self._hold_redis(redis)
                except RedisError as exc:
                    # Redis down: keep the sweeps going under the database's lock meanwhile.
                    log.warning("scheduler lock: Redis unavailable (%s), using the database lock", exc)
            if db.engine.dialect.name == "postgresql":
                return self._hold_pg()
            return self._hold_file()

    def _hold_redis(self, redis) -> bool:
        if redis.set(LOCK_NAME, self.token, nx=True, ex=LOCK_TTL_S):
            return True
        # Ours already: renew, atomically, only if it still is.
        return bool(redis.eval(RENEW_LUA, 1, LOCK_NAME, self.token, LOCK_TTL_S))

    def _hold_pg(self) -> bool:
        if self._pg_conn is not None:
            try:
                self._pg_conn.execute(text("SELECT 1"))
                return True
            except Exception:  # connection lost: the lock went with it
                self._pg_conn = None
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        if got:
            self._pg_conn = conn  # held for as long as this connection lives
            return True
        conn.close()
        return False

    def _hold_file(self) -> bool:
        if self._file is not None:
            return True
        import fcntl

        path = os.path.join(self.app.instance_path, "scheduler.lock")
        handle = open(path, "a+")  # noqa: SIM115 - kept open: the lock lives with the handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Give the lock up (on shutdown)."""
        with self._guard:
            redis = self.app.extensions.get("redis")
            if redis is not None:
                try:
                    redis.eval(RELEASE_LUA, 1, LOCK_NAME, self.token)
                except Exception:
                    log.warning("scheduler lock: could not release in Redis")
            if self._pg_conn is not None:
                try:
                    self._pg_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                finally:
                    self._pg_conn.close()
                    self._pg_conn = None
            if self._file is not None:
                self._file.close()
                self._file = None


# --- the sweeps ------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one sweep did, for the log and the CLI."""

    name: str
    queued: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"新排队 {self.queued} 条"] + [f"{k} {v}" for k, v in self.counts.items()]
        text_ = f"{self.name}：" + "，".join(parts)
        return text_ + ("；" + "；".join(self.notes) if self.notes else "")


def _queue_new(openid: str, channel: str, message: messages.Message, key: str) -> bool:
    """Queue unless the key exists; True when a new row was added."""
    before = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key))
    if before is not None:
        return False
    queue_message(openid, channel, message, key)
    return True


UNBOUND_STAFF = "工作人员未绑定微信"  # the sweeps' count of staff who could not be told


def _queue_for_staff(
    report: SweepReport, users, message: messages.Message, key: Callable[[int], str]
) -> None:
    """Queue ``message`` as a template message to each of ``users`` (key ``key(user id)``).

    Staff bind their WeChat with a one-time code from the console (app/notify/binding.py);
    those who have not are counted in the report, not skipped silently.
    """
    for user in users:
        if not user.openid:
            report.counts[UNBOUND_STAFF] = report.counts.get(UNBOUND_STAFF, 0) + 1
            continue
        report.queued += _queue_new(user.openid, "template", message, key(user.id))


def sweep_service_days(now: datetime) -> SweepReport:
    """Generate this and next month's 联系服务群众日; tell station staff of moved days to confirm."""
    from app.auth.models import StaffUser
    from app.receptions.models import Reception
    from app.receptions.service import ServiceDayDefaults, generate_service_days

    report = SweepReport("联系服务群众日")
    defaults = ServiceDayDefaults.from_config(current_app.config)
    first = now.date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    created = 0
    for month in (first, following):
        result = generate_service_days(f"{month:%Y-%m}", defaults)
        created += len(result.created)
    report.counts["新建服务日"] = created
    moved = db.session.scalars(
        select(Reception).where(Reception.needs_confirmation.is_(True), Reception.date >= now.date())
    ).all()
    report.counts["待确认"] = len(moved)
    report.counts[UNBOUND_STAFF] = 0
    for reception in moved:
        staff = db.session.scalars(
            select(StaffUser).where(StaffUser.station_id == reception.station_id, StaffUser.active.is_(True))
        ).all()
        notice = messages.moved_day_notice(reception)
        _queue_for_staff(report, staff, notice, lambda user_id, r=reception: f"moved:{r.id}:{user_id}")
    return report


def reminder_leads(config) -> list[str]:
    """The configured leads (``REMINDER_LEADS``): ``3d``, ``6h``, ``eve``, ``morning``."""
    return [x.strip() for x in str(config.get("REMINDER_LEADS", "3d,eve,morning")).split(",") if x.strip()]


def lead_label(lead: str, config) -> str:
    """A lead in the staff's words: 提前 3 天, 提前 6 小时, 前一天 19:00, 当天 07:30."""
    if lead == "eve":
        return f"前一天 {config.get('REMINDER_EVENING', '19:00')}"
    if lead == "morning":
        return f"当天 {config.get('REMINDER_MORNING', '07:30')}"
    if lead[:-1].isdigit() and lead[-1:] in ("d", "h"):
        return f"提前 {int(lead[:-1])} {'天' if lead.endswith('d') else '小时'}"
    return lead  # not a lead reminder_moments knows: it is never sent, and shown as written


def reminder_moments(reception, config) -> dict[str, datetime]:
    """When each configured lead's reminder is due (local time) for a reception."""
    start = datetime.combine(reception.date, reception.start)
    evening = time.fromisoformat(config.get("REMINDER_EVENING", "19:00"))
    morning = time.fromisoformat(config.get("REMINDER_MORNING", "07:30"))
    moments = {}
    for lead in reminder_leads(config):
        if lead == "eve":
            moments[lead] = datetime.combine(reception.date - timedelta(days=1), evening)
        elif lead == "morning":
            moments[lead] = min(datetime.combine(reception.date, morning), start - timedelta(hours=1))
        elif lead.endswith("d") and lead[:-1].isdigit():
            moments[lead] = start - timedelta(days=int(lead[:-1]))
        elif lead.endswith("h") and lead[:-1].isdigit():
            moments[lead] = start - timedelta(hours=int(lead[:-1]))
    return moments


def reminder_recipients(reception) -> list[tuple]:
    """(deputy, on duty?) for each deputy to remind of a reception, on duty first.

    Those on duty, and for a 联系服务群众日 every active deputy placed at the station too
    (三(二)2: all deputies are placed and the third Tuesday is theirs, not only the rota's).
    """
    from app.receptions.models import ReceptionKind

    seen = {}
    for deputy in reception.deputies:
        seen[deputy.id] = (deputy, True)
    if reception.kind == ReceptionKind.SERVICE_DAY:
        for placement in reception.station.placements:
            deputy = placement.deputy
            if deputy.active and deputy.id not in seen:
                seen[deputy.id] = (deputy, False)
    return sorted(seen.values(), key=lambda pair: (not pair[1], pair[0].name, pair[0].id))


def _reminder_receptions(now: datetime, days: int = 31, *where, limit: int | None = None):
    from app.receptions.models import Reception, ReceptionDuty, ReceptionStatus
    from app.stations.models import Placement, Station

    return db.session.scalars(
        select(Reception)
        .where(
            Reception.status == ReceptionStatus.ANNOUNCED,
            Reception.date >= now.date(),
            Reception.date <= now.date() + timedelta(days=days),
            *where,
        )
        .limit(limit)
        .options(
            selectinload(Reception.duties).joinedload(ReceptionDuty.deputy),
            selectinload(Reception.station).selectinload(Station.placements).joinedload(Placement.deputy),
        )
        .order_by(Reception.date, Reception.start, Reception.id)
    ).all()


def _bookings_of(reception_id: int) -> int:
    from app.receptions.bookings import HOLDING
    from app.receptions.models import Booking

    return db.session.scalar(
        select(func.count()).where(Booking.reception_id == reception_id, Booking.status.in_(HOLDING))
    )


def sweep_deputy_reminders(now: datetime) -> SweepReport:
    """Remind each deputy of each announced reception they are on duty for, and of every
    联系服务群众日 at the stations they are placed at, at each lead time, once per lead.

    After downtime only the latest lead already due is sent: a deputy woken this morning
    needs "today", not also "in three days".
    """
    config = current_app.config
    base_url = config["PUBLIC_BASE_URL"]
    report = SweepReport("代表接待提醒")
    unbound: list[str] = []
    for reception in _reminder_receptions(now):
        if datetime.combine(reception.date, reception.start) <= now:
            continue
        due = [(at, lead) for lead, at in reminder_moments(reception, config).items() if at <= now]
        if not due:
            continue
        lead = max(due)[1]
        bookings = None
        for deputy, on_duty in reminder_recipients(reception):
            if not deputy.openid:
                unbound.append(f"{deputy.name}（{reception.station.name} {reception.date:%m-%d}）")
                continue
            if bookings is None:
                bookings = _bookings_of(reception.id)
            message = messages.deputy_reminder(reception, deputy, lead, bookings, base_url, on_duty=on_duty)
            key = f"reminder:{reception.id}:{deputy.id}:{lead}"
            report.queued += _queue_new(deputy.openid, "template", message, key)
    report.counts["未绑定微信的代表"] = len(unbound)
    if unbound:
        more = "等" if len(unbound) > 10 else ""
        report.notes.append("未绑定微信：" + "、".join(unbound[:10]) + more)
    return report


@dataclass
class PlannedReminder:
    """One reminder the scheduler will send (or sent), for the console's view."""

    reception: object
    deputy: object
    on_duty: bool
    lead: str
    at: datetime
    state: str  # "sent" | "queued" | "planned" | "unbound" | "missed"


def planned_reminders(now: datetime, receptions) -> list[PlannedReminder]:
    """Every reminder of these receptions: when it is due and where it stands."""
    config = current_app.config
    keys = {}
    ids = [r.id for r in receptions]
    if ids:
        prefix_rows = db.session.execute(
            select(OutboxMessage.dedup_key, OutboxMessage.status).where(
                OutboxMessage.kind == "deputy_reminder",
                OutboxMessage.dedup_key.in_(
                    [
                        f"reminder:{r.id}:{d.id}:{lead}"
                        for r in receptions
                        for d, _ in reminder_recipients(r)
                        for lead in reminder_moments(r, config)
                    ]
                ),
            )
        ).all()
        keys = dict(prefix_rows)
    plan = []
    for reception in receptions:
        moments = reminder_moments(reception, config)
        for deputy, on_duty in reminder_recipients(reception):
            for lead, at in sorted(moments.items(), key=lambda kv: kv[1]):
                status = keys.get(f"reminder:{reception.id}:{deputy.id}:{lead}")
                if status is not None:
                    state = "sent" if status == OutboxStatus.SENT else "queued"
                elif not deputy.openid:
                    state = "unbound"
                elif at <= now:
                    state = "missed"  # a later lead was sent instead (catch-up sends the latest)
                else:
                    state = "planned"
                plan.append(PlannedReminder(reception, deputy, on_duty, lead, at, state))
    return plan


def sweep_overdue_opinions(now: datetime) -> SweepReport:
    """督办: mark opinions past their deadline and tell the unit's staff who can receive it."""
    from app.auth.models import StaffUser
    from app.opinions.pipeline import sweep_overdue

    report = SweepReport("逾期督办")
    marked = sweep_overdue(now.date())
    report.counts["新逾期"] = len(marked)
    report.counts[UNBOUND_STAFF] = 0
    for opinion in marked:
        if opinion.unit_id is None:
            continue
        staff = db.session.scalars(
            select(StaffUser).where(StaffUser.unit_id == opinion.unit_id, StaffUser.active.is_(True))
        ).all()
        notice = messages.overdue_notice(opinion)
        _queue_for_staff(
            report, staff, notice, lambda user_id, o=opinion: f"overdue:{o.id}:{user_id}:{o.deadline}"
        )
    return report


def sweep_ledger_drafts(now: datetime) -> SweepReport:
    """台账: every announced reception that has ended gets its pre-filled draft activity, once."""
    from app.ledger.service import draft_ended_receptions

    report = SweepReport("接待活动转台账草稿")
    report.counts["新建草稿"] = len(draft_ended_receptions(now))
    return report


def sweep_weekly_digest(now: datetime) -> SweepReport:
    """The weekly 接待预告 to followers who opted in, once a week (DIGEST_WEEKLY_DAY/TIME)."""
    from app.notify.digests import queue_weekly_digests

    report = SweepReport("每周接待预告")
    queued, followers = queue_weekly_digests(now)
    report.queued = queued
    report.counts["有预告的关注者"] = followers
    return report


def sweep_staff_digest(now: datetime) -> SweepReport:
    """The daily work summary to each station's and unit's staff with work waiting (DIGEST_DAILY_TIME)."""
    from app.notify.digests import queue_staff_digests

    report = SweepReport("工作人员每日提醒")
    queued, unbound = queue_staff_digests(now)
    report.queued = queued
    report.counts[UNBOUND_STAFF] = len(unbound)
    if unbound:
        report.notes.append("未绑定微信：" + "、".join(unbound[:10]) + ("等" if len(unbound) > 10 else ""))
    return report


def sweep_outbox(now: datetime) -> SweepReport:
    """Send what is due."""
    from app.notify.sender import drain

    result = drain(limit=5000)
    report = SweepReport("发件箱")
    report.counts = {
        "已发送": result.sent,
        "无法送达": result.undeliverable,
        "重试": result.retrying,
        "放弃": result.dead,
    }
    return report


def sweep_cleanup(now: datetime) -> SweepReport:
    """Delete sent rows older than ``OUTBOX_KEEP_SENT_DAYS``; failures stay for staff to see."""
    days = int(current_app.config.get("OUTBOX_KEEP_SENT_DAYS", 90))
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        delete(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < cutoff)
    )
    report = SweepReport("清理")
    report.counts["删除已发送"] = result.rowcount or 0
    return report


def sweep_analytics(now: datetime) -> SweepReport:
    """民意研判: rebuild the stored months whose opinions changed since the last refresh."""
    from app.analytics.refresh import refresh_aggregates
    from app.analytics.report import build_common_font

    result = refresh_aggregates()
    if not current_app.testing:
        build_common_font()  # once per installation: the monthly report's cut-down CJK font
    report = SweepReport("民意研判汇总")
    report.counts = {
        "重算月份": len(result.months),
        "指标行": result.opinion_rows,
        "热词行": result.word_rows,
    }
    return report


def sweep_retention(now: datetime) -> SweepReport:
    """Anonymise closed opinions older than ``RETENTION_DAYS`` (app/security/retention.py)."""
    from app.security.retention import run_retention

    result = run_retention()
    report = SweepReport("数据保留")
    report.counts = {"匿名化留言": len(result.opinions), "匿名化预约": result.bookings}
    return report


# In the order --once runs them: generate first (its announcements are then reminded and sent).
SWEEPS: dict[str, Callable[[datetime], SweepReport]] = {
    "service_days": sweep_service_days,
    "deputy_reminders": sweep_deputy_reminders,
    "overdue": sweep_overdue_opinions,
    "ledger_drafts": sweep_ledger_drafts,
    "weekly_digest": sweep_weekly_digest,
    "staff_digest": sweep_staff_digest,
    "outbox": sweep_outbox,
    "cleanup": sweep_cleanup,
    "analytics": sweep_analytics,
    "retention": sweep_retention,
}


def run_sweep(name: str, now: datetime | None = None) -> SweepReport:
    """Run one sweep in its own transaction, committed; rolled back and re-raised on error."""
    try:
        report = SWEEPS[name](now or local_now())
        db.session.commit()
        return report
    except Exception:
        db.session.rollback()
        raise


def run_all(now: datetime | None = None) -> list[SweepReport]:
    """Every sweep once (``flask scheduler run --once``); one failing sweep does not stop the rest."""
    reports = []
    for name in SWEEPS:
        try:
            reports.append(run_sweep(name, now))
        except Exception as exc:
            log.exception("sweep %s failed", name)
            reports.append(SweepReport(name, notes=[f"失败：{exc}"]))
    return reports


# --- APScheduler ----------------------------------------------------------------------


def _job(app: Flask, lock: SchedulerLock, name: str) -> None:
    with app.app_context():
        try:
            if not lock.hold():
                return  # another scheduler of this deployment is the active one
            report = run_sweep(name)
            if report.queued or any(report.counts.values()):
                log.info(report.line())
        except Exception:
            log.exception("scheduled sweep %s failed", name)
        finally:
            db.session.remove()


def build_scheduler(app: Flask, *, blocking: bool = False):
    """APScheduler with every sweep; a missed run is coalesced into one catch-up run."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from app.timeutil import LOCAL_TZ

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        timezone=LOCAL_TZ, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
    )
    lock = SchedulerLock(app)
    scheduler.jobs_lock = lock  # type: ignore[attr-defined]
    soon = datetime.now(LOCAL_TZ) + timedelta(seconds=5)
    plan = {
        # On start, then on the first of each month (三(二)2: one service day a month).
        "service_days": (CronTrigger(day=1, hour=6, timezone=LOCAL_TZ), soon),
        "deputy_reminders": (IntervalTrigger(minutes=10, timezone=LOCAL_TZ), soon),
        "overdue": (CronTrigger(hour=8, timezone=LOCAL_TZ), soon),
        # Receptions end at any hour; their drafts should be waiting when staff look.
        "ledger_drafts": (IntervalTrigger(minutes=15, timezone=LOCAL_TZ), soon),
        # Digests are due from their configured moment; a run every 15 minutes sends each once.
        "weekly_digest": (IntervalTrigger(minutes=15, timezone=LOCAL_TZ), soon),
        "staff_digest": (IntervalTrigger(minutes=15, timezone=LOCAL_TZ), soon),
        "outbox": (IntervalTrigger(seconds=20, timezone=LOCAL_TZ), soon),
        "cleanup": (CronTrigger(hour=3, minute=30, timezone=LOCAL_TZ), None),
        "analytics": (IntervalTrigger(minutes=15, timezone=LOCAL_TZ), soon),
        "retention": (CronTrigger(hour=3, minute=45, timezone=LOCAL_TZ), None),
    }
    for name, (trigger, first_run) in plan.items():
        scheduler.add_job(_job, trigger, args=(app, lock, name), id=name, name=name)
        if first_run is not None:
            scheduler.add_job(_job, "date", run_date=first_run, args=(app, lock, name), id=f"{name}:start")
    return scheduler


def start_in_process(app: Flask) -> None:
    """In the embedded default, run the scheduler inside the web process (SCHEDULER_IN_PROCESS)."""
    if not app.config.get("SCHEDULER_IN_PROCESS") or app.testing:
        return
    if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
        import sys

        # Of the `flask …` commands only `flask run` serves; `db upgrade`, `outbox drain` or
        # `scheduler run` (which runs its own) must not start one. The lock covers the rest.
        words = set(sys.argv[1:])
        if "run" not in words or words & {"scheduler", "outbox"}:
            return
    if app.extensions.get("scheduler") is not None:
        return
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    import atexit

    def stop() -> None:
        scheduler.shutdown(wait=False)
        with app.app_context():
            scheduler.jobs_lock.release()

    atexit.register(stop)

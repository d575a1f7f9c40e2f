"""``flask outbox …``: deliver the pushes waiting in the outbox."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.models_base import utcnow
from app.notify.sender import DrainReport, drain, next_due_at, pending_count

outbox_cli = AppGroup("outbox", help="消息发件箱：把待发送的微信消息发出去。")

# How long --wait sleeps at most between looks, so rows queued meanwhile go out promptly.
POLL_S = 1.0


def _seconds_until(moment) -> float:
    if moment is None:
        return POLL_S
    if moment.tzinfo is None:  # SQLite drops the (UTC) zone
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return max(0.05, (moment - utcnow()).total_seconds())


@outbox_cli.command("drain")
@click.option("--limit", default=1000, show_default=True, help="一轮最多处理的条数。")
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=0,
    metavar="SECONDS",
    help="持续发送（按退避时间重试），直到没有待发送消息或时间用完。",
)
@click.option(
    "--forever",
    is_flag=True,
    help="常驻运行（systemd 服务）：一直发送新到期的消息，数据库中断后自动恢复，"
    "收到 SIGTERM 后发完当前一轮再退出。",
)
def drain_command(limit: int, wait_s: float, forever: bool) -> None:
    """Send what is due now; with --wait keep going until nothing is pending or time is up."""
    if forever:
        _drain_forever(limit)
        return
    deadline = time.monotonic() + max(0.0, wait_s)
    total = DrainReport()
    while True:
        report = drain(limit)
        total.add(report)
        if wait_s <= 0 or pending_count() == 0:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if report.handled < limit:  # nothing more due right now: sleep until the next one is
            time.sleep(min(remaining, POLL_S, _seconds_until(next_due_at())))
    click.echo(total.summary())
    left = pending_count()
    if left:
        click.echo(f"仍有 {left} 条待发送（等待重试或稍后到期）。")
    for error in total.errors[:5]:
        click.echo(f"错误：{error}", err=True)


# After a failed round (database restarting, a bug), wait this long before the next one.
FAILURE_PAUSE_S = 5.0


def _drain_forever(limit: int) -> None:
    """The long-running worker: drain, sleep until the next row is due, repeat; survive outages."""
    import logging
    import signal

    from app.extensions import db

    log = logging.getLogger("app.notify.worker")
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True  # finish the row in hand (its commit), then leave

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("outbox worker started (limit %s a round)", limit)
    while not stopping:
        try:
            report = drain(limit)
            if report.handled:
                log.info("outbox: %s", report.summary())
            pause = 0.0 if report.handled >= limit else min(POLL_S, _seconds_until(next_due_at()))
            db.session.commit()
        except Exception as exc:  # the database restarting must not end the worker
            log.warning("outbox round failed, retrying in %ss: %s", FAILURE_PAUSE_S, exc)
            try:
                db.session.rollback()
            except Exception:
                log.debug("rollback failed", exc_info=True)
            db.session.remove()
            pause = FAILURE_PAUSE_S
        end = time.monotonic() + pause
        while not stopping and time.monotonic() < end:
            time.sleep(min(0.2, end - time.monotonic()))
    log.info("outbox worker stopped")


scheduler_cli = AppGroup("scheduler", help="定时任务：服务日生成、代表提醒、逾期督办、发件箱发送与清理。")


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="每项任务各执行一次后退出。")
def scheduler_run(once: bool) -> None:
    """Run the scheduler in this process (production), or every sweep once with --once."""
    from flask import current_app

    from app.notify.scheduler import build_scheduler, run_all

    if once:
        # Sweeps are idempotent (dedup keys), so --once is safe even beside a running scheduler.
        for report in run_all():
            click.echo(report.line())
        return
    scheduler = build_scheduler(current_app._get_current_object(), blocking=True)
    click.echo("调度器已启动（Ctrl+C 退出）；同一部署只有持有锁的调度器执行任务。")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        scheduler.jobs_lock.release()

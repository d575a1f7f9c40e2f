"""What the fault drills and the load test share: private services, servers, a world, residents.

- ``PrivateRedis`` / ``PrivatePostgres``: a redis-server and a PostgreSQL cluster of their own
  on free ports, in a temporary directory, that a drill may stop and restart. The machine's
  shared PostgreSQL (5432) and Redis (6379) are never touched.
- ``Gunicorn``, ``Process``, ``mock_wechat``, ``free_port``, ``sa_url`` come from
  ``scripts/benchlib.py`` (shared with the benchmarks) and are re-exported here.
- ``prepare_world`` migrates a database and opens stations with a bookable reception tomorrow.
- ``Resident`` journeys — H5 pages, the mini-program API, WeChat pushes — record every
  request (route, status, latency) and every acknowledgement (a booking code, a tracking
  number) in a ``Recorder``; ``missing_acknowledged`` checks each one is in the database.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.benchlib import (  # noqa: E402, F401  (also re-exported for the drills and the load test)
    BENCH_FIELD_KEY,
    BIN,
    Gunicorn,
    Process,
    ScratchDatabase,
    free_port,
    mock_wechat,
    percentile,
    sa_url,
    wait_for_port,
)

WECHAT_TOKEN = "drill-token"  # noqa: S105 - the drill servers' WECHAT_TOKEN


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes -----------------------------------------------------------------------------


class PrivateRedis:
    """redis-server on a free port, no persistence (it holds nothing we may not lose)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir),
        ]  # fmt: skip
        self.process = Process(command, log=self.workdir / f"redis-{self.port}.log").start()
        if not wait_for_port(self.port, 10):
            raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGKILL)  # as abrupt as an outage


def _pg_bindir() -> Path:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("initdb not found (apt-get install postgresql)")
    return found[-1].parent


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb) on a free port; runs as ``postgres`` when we are root."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.bindir = _pg_bindir()
        # Directly under the system temp dir: the postgres user must reach it (workdir is root's, 0700).
        self.base = Path(tempfile.mkdtemp(prefix="jzd-drill-pgdata-"))
        self.data = self.base / "data"
        self.logfile = self.base / "postgres.log"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + list(command), capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-locale")  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\nmax_connections = 200\n"
                "shared_buffers = 64MB\n"
            )

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        engine = create_engine(sa_url(self.admin_url), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def outbox_worker(env: dict, workdir: Path, web: Gunicorn) -> Process:
    """``flask outbox drain --forever`` beside ``web``, its metrics in the same multiprocess folder."""
    return Process(
        [str(BIN / "flask"), "--app", "wsgi", "outbox", "drain", "--forever"],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"prometheus-{web.port}")},
        log=workdir / "outbox.log",
    ).start()


def app_env(database_url: str, redis_url: str | None, wechat_base: str, **extra: str) -> dict:
    """The environment of a server under test: like production, but on plain HTTP."""
    env = {
        **os.environ,
        # "staging": production's settings except Secure cookies (the drills speak plain HTTP).
        "APP_ENV": "staging",
        "SECRET_KEY": "drill-secret-key-0123456789abcdef",
        "FIELD_ENCRYPTION_KEY": BENCH_FIELD_KEY,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://jzd.example.cn",
        "WECHAT_TOKEN": WECHAT_TOKEN,
        "WECHAT_API_BASE": wechat_base,
        "SCHEDULER_IN_PROCESS": "0",
        "LOG_FORMAT": "json",
        # Behind "nginx": each simulated resident comes from an address of their own.
        "TRUSTED_PROXIES": "1",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    """Stations with one announced, bookable reception tomorrow each."""

    codes: list[str]
    receptions: dict[str, int]  # station code → reception id


def prepare_world(database_url: str, stations: int = 30, capacity: int = 20) -> World:
    """Migrate the database and open ``stations`` stations, each with a reception tomorrow."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.receptions.models import Reception
    from app.regions.service import create_region
    from app.stations.service import create_station
    from app.timeutil import local_now

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None, "SCHEDULER_IN_PROCESS": False}
    )
    tomorrow: date = local_now().date() + timedelta(days=1)
    with app.app_context():
        upgrade()
        from app.workdays.service import sync_from_library

        sync_from_library()
        tag = uuid.uuid4().hex[:6].upper()
        city = create_region(code=f"L{tag}0", name="演练市", parent=None)
        district = create_region(code=f"L{tag}1", name="演练区", parent=city)
        town = create_region(code=f"L{tag}2", name="演练街道", parent=district)
        codes, receptions = [], {}
        for i in range(stations):
            village = create_region(code=f"L{tag}V{i:03d}", name=f"演练社区{i}", parent=town)
            station = create_station(
                region=village,
                kind="station",
                data={"name": f"演练社区{i}人大代表联络站", "address": f"演练路{i}号"},
            )
            reception = Reception(
                station=station,
                date=tomorrow,
                start=clock(8, 30),
                end=clock(11, 30),
                kind="service_day",
                topic="代表联系服务群众日",
                slot_minutes=30,
                slot_capacity=capacity,
                status="announced",
            )
            db.session.add(reception)
            db.session.flush()
            codes.append(station.code)
            receptions[station.code] = reception.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return World(codes, receptions)


# --- recording -----------------------------------------------------------------------------


@dataclass
class Sample:
    at: float  # monotonic seconds
    route: str
    status: int  # 0: no answer (connection refused, timeout)
    ms: float
    outcome: str  # ok | full (409) | unavailable (503) | sorry (/wechat "try later") | error
    # Anything but ok and full counts as an error in the load test.


@dataclass
class Recorder:
    """Every request and every acknowledgement, from all client threads."""

    samples: list[Sample] = field(default_factory=list)
    bookings: list[str] = field(default_factory=list)  # acknowledged booking codes
    opinions: list[str] = field(default_factory=list)  # acknowledged tracking numbers
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample, problem: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if problem and len(self.problems) < 2000:
                self.problems.append(problem)

    def ack(self, kind: str, value: str) -> None:
        with self.lock:
            (self.bookings if kind == "booking" else self.opinions).append(value)

    def report(self, elapsed: float | None = None) -> dict:
        """Per route: count, errors, p50 and p99 in ms; and the overall throughput."""
        by_route: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            by_route[sample.route].append(sample)
        rows = {}
        for route, samples in sorted(by_route.items()):
            ms = sorted(s.ms for s in samples)
            rows[route] = {
                "count": len(samples),
                "errors": sum(s.outcome not in ("ok", "full") for s in samples),
                "p50": statistics.median(ms),
                "p99": percentile(ms, 0.99),
                "statuses": dict(sorted(_count(s.status for s in samples).items())),
            }
        return rows


def _count(values) -> dict:
    out: dict = defaultdict(int)
    for v in values:
        out[v] += 1
    return out


def print_table(recorder: Recorder, elapsed: float) -> dict:
    rows = recorder.report()
    total = len(recorder.samples)
    errors = sum(r["errors"] for r in rows.values())
    print(f"\n{'route':<40} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for route, r in rows.items():
        statuses = " ".join(f"{k}:{v}" for k, v in r["statuses"].items())
        print(f"{route:<40} {r['count']:>6} {r['errors']:>6} {r['p50']:>8.1f} {r['p99']:>8.1f}  {statuses}")
    all_ms = sorted(s.ms for s in recorder.samples) or [0.0]
    p99 = percentile(all_ms, 0.99)
    print(
        f"{'all':<40} {total:>6} {errors:>6} {statistics.median(all_ms):>8.1f} {p99:>8.1f}"
        f"  ({total / elapsed:.1f} requests/s over {elapsed:.1f} s)"
    )
    return {"total": total, "errors": errors, "p99": p99, "rows": rows}


def missing_acknowledged(database_url: str, recorder: Recorder) -> tuple[list[str], list[str]]:
    """Booking codes and tracking numbers we were given that the database does not have."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sa_url(database_url))
    with engine.connect() as conn:
        have_b = set(conn.execute(text("SELECT code FROM bookings")).scalars())
        have_o = set(conn.execute(text("SELECT tracking_no FROM opinions")).scalars())
    engine.dispose()
    return (
        [c for c in recorder.bookings if c not in have_b],
        [n for n in recorder.opinions if n not in have_o],
    )


# --- residents -----------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SLOT_RE = re.compile(r'name="slot" value="([^"]+)" required(?! disabled)')
TRACK_RE = re.compile(r"/t/([A-Za-z0-9-]+)")
OPINIONS = [
    "小区门口的路灯坏了两个多星期，晚上老人出行很不方便，希望尽快修复。",
    "建议在菜场旁增设非机动车停车点，现在电动车乱停影响通行。",
    "学校门口上下学时段拥堵严重，希望增派交警或志愿者疏导。",
    "社区卫生服务站周末不开门，希望能安排周末轮值。",
]


class Resident:
    """One resident's visit: scan, read, maybe book, maybe leave an opinion (H5, API or WeChat)."""

    def __init__(self, base_url: str, world: World, recorder: Recorder, number: int, rng: random.Random):
        self.base = base_url
        self.world = world
        self.rec = recorder
        self.n = number
        self.rng = rng
        self.code = rng.choice(world.codes)
        self.http = requests.Session()
        # Each resident comes from an address of their own (nginx's X-Forwarded-For).
        self.http.headers["X-Forwarded-For"] = (
            f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        )
        self.mobile = f"139{number % 10**8:08d}"

    def _call(self, route: str, method: str, path: str, ok=(200,), **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, self.base + path, timeout=15, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            ms = (time.perf_counter() - started) * 1000
            self.rec.add(Sample(time.monotonic(), route, 0, ms, "error"), f"{route}: {type(exc).__name__}")
            return None
        ms = (time.perf_counter() - started) * 1000
        status = response.status_code
        if status in ok:
            outcome = "ok"
        elif status == 409:
            outcome = "full"  # the slot filled up meanwhile: a correct answer
        elif status == 503:
            outcome = "unavailable"  # "try again later": clean, nothing acknowledged
        else:
            outcome = "error"
        problem = f"{route}: {status} {response.text[:120]!r}" if outcome not in ("ok", "full") else None
        self.rec.add(Sample(time.monotonic(), route, status, ms, outcome), problem)
        return response if outcome == "ok" else None

    # H5 pages (the plaque's QR opened in WeChat's browser or any phone browser)
    def h5(self, book: bool, opine: bool) -> None:
        if self._call("GET /s/<code>", "GET", f"/s/{self.code}") is None:
            return
        if book:
            page = self._call("GET /s/<code>/book", "GET", f"/s/{self.code}/book")
            if page is not None:
                csrf, slots = CSRF_RE.search(page.text), SLOT_RE.findall(page.text)
                if csrf and slots:
                    done = self._call(
                        "POST /s/<code>/book",
                        "POST",
                        f"/s/{self.code}/book",
                        ok=(303,),
                        data={
                            "csrf_token": csrf.group(1),
                            "slot": self.rng.choice(slots),
                            "name": f"居民{self.n}",
                            "mobile": self.mobile,
                            "topic": "反映小区问题",
                        },
                    )
                    if done is not None:
                        code = done.headers["Location"].split("/b/")[1].split("?")[0]
                        self.rec.ack("booking", code)
                        self._call("GET /b/<code>", "GET", f"/b/{code}")
        if opine:
            page = self._call("GET /s/<code>/opinion", "GET", f"/s/{self.code}/opinion")
            csrf = CSRF_RE.search(page.text) if page is not None else None
            if csrf:
                done = self._call(
                    "POST /s/<code>/opinion",
                    "POST",
                    f"/s/{self.code}/opinion",
                    ok=(303,),
                    data={
                        "csrf_token": csrf.group(1),
                        "content": self.rng.choice(OPINIONS),
                        "category": "",
                        "deputy": "",
                        "name": f"居民{self.n}",
                        "mobile": self.mobile,
                    },
                )
                if done is not None:
                    number = TRACK_RE.search(done.headers["Location"]).group(1)
                    self.rec.ack("opinion", number)
                    self._call("GET /t/<no>", "GET", f"/t/{number}")

    # the mini-program
    def api(self, book: bool, opine: bool) -> None:
        login = self._call(
            "POST /api/v1/auth/login", "POST", "/api/v1/auth/login", json={"code": f"load-{uuid.uuid4().hex}"}
        )
        if login is None:
            return
        self.http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        if self._call("GET /api/v1/stations/<code>", "GET", f"/api/v1/stations/{self.code}") is None:
            return
        listing = self._call(
            "GET /api/v1/stations/<code>/receptions", "GET", f"/api/v1/stations/{self.code}/receptions"
        )
        if book and listing is not None:
            items = listing.json()["items"]
            open_slots = [
                (r["id"], s["start"]) for r in items for s in r["slots"] if s["open"] and s["available"]
            ]
            if open_slots:
                reception_id, start = self.rng.choice(open_slots)
                done = self._call(
                    "POST /api/v1/bookings",
                    "POST",
                    "/api/v1/bookings",
                    ok=(201,),
                    json={
                        "reception_id": reception_id,
                        "slot_start": start,
                        "name": f"居民{self.n}",
                        "mobile": self.mobile,
                        "topic": "咨询",
                    },
                )
                if done is not None:
                    self.rec.ack("booking", done.json()["code"])
        if opine:
            done = self._call(
                "POST /api/v1/opinions",
                "POST",
                "/api/v1/opinions",
                ok=(201,),
                json={
                    "station_code": self.code,
                    "content": self.rng.choice(OPINIONS),
                    "contact_name": f"居民{self.n}",
                    "contact_mobile": self.mobile,
                },
            )
            if done is not None:
                self.rec.ack("opinion", done.json()["tracking_no"])

    # the official account: WeChat's servers push the scan and the message to /wechat
    def wechat(self, opine: bool) -> None:
        openid = f"oLoad{self.n:08d}{uuid.uuid4().hex[:8]}"
        now = int(time.time())
        scan = (
            f"<xml><ToUserName><![CDATA[gh_drill]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[{self.code}]]></EventKey>"
            f"<Ticket><![CDATA[TICKET]]></Ticket></xml>"
        )
        self._push(scan, expect_tracking=False)
        text = f"留言 {self.rng.choice(OPINIONS)}" if opine else self.rng.choice(["值班", "进度"])
        message = (
            f"<xml><ToUserName><![CDATA[gh_drill]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{now + 1}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{self.rng.randrange(10**15, 10**16)}</MsgId></xml>"
        )
        self._push(message, expect_tracking=opine)

    def _push(self, xml: str, expect_tracking: bool) -> None:
        timestamp, nonce = str(int(time.time())), str(self.rng.randrange(10**9))
        signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()  # noqa: S324
        path = f"/wechat?signature={signature}&timestamp={timestamp}&nonce={nonce}"
        started = time.perf_counter()
        try:
            response = self.http.post(
                self.base + path, data=xml.encode(), headers={"Content-Type": "text/xml"}, timeout=15
            )
        except requests.RequestException as exc:
            ms = (time.perf_counter() - started) * 1000
            self.rec.add(Sample(time.monotonic(), "POST /wechat", 0, ms, "error"), f"/wechat: {exc}")
            return
        ms = (time.perf_counter() - started) * 1000
        body = response.text
        if response.status_code != 200:
            outcome = "error"
        elif "稍后再试" in body:
            outcome = "sorry"  # "busy, try again": nothing was acknowledged
        else:
            outcome = "ok"
        problem = f"/wechat: {response.status_code} {body[:160]!r}" if outcome != "ok" else None
        self.rec.add(Sample(time.monotonic(), "POST /wechat", response.status_code, ms, outcome), problem)
        if outcome == "ok" and expect_tracking:
            found = TRACK_RE.search(body)
            if found:
                self.rec.ack("opinion", found.group(1))

    def visit(self) -> None:
        """The morning's mix: 60% H5, 25% mini-program, 15% official account."""
        roll = self.rng.random()
        book, opine = self.rng.random() < 0.4, self.rng.random() < 0.3
        try:
            if roll < 0.60:
                self.h5(book, opine)
            elif roll < 0.85:
                self.api(book, opine)
            else:
                self.wechat(opine)
        finally:
            self.http.close()


def run_residents(
    base_url: str,
    world: World,
    recorder: Recorder,
    count: int,
    seconds: float,
    threads: int = 32,
    seed: int = 2026,
    stop: threading.Event | None = None,
) -> float:
    """``count`` residents arriving at random over ``seconds``; returns the wall time taken."""
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(seed)
    arrivals = sorted(rng.uniform(0, seconds) for _ in range(count))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for number, at in enumerate(arrivals):
            if stop is not None and stop.is_set():
                break
            delay = started + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            resident = Resident(base_url, world, recorder, number, random.Random(seed * 100003 + number))
            pool.submit(resident.visit)
    return time.monotonic() - started


class BackgroundLoad:
    """Residents arriving steadily in a thread while a drill breaks things."""

    def __init__(self, base_url: str, world: World, residents: int, seconds: float, threads: int = 16):
        self.recorder = Recorder()
        self.started = time.monotonic()
        self.thread = threading.Thread(
            target=run_residents,
            args=(base_url, world, self.recorder, residents, seconds, threads),
            daemon=True,
        )

    def start(self) -> BackgroundLoad:
        self.started = time.monotonic()
        self.thread.start()
        return self

    def join(self) -> float:
        self.thread.join()
        return time.monotonic() - self.started

    def between(self, start: float, end: float) -> list[Sample]:
        """Samples answered between two monotonic times."""
        return [s for s in self.recorder.samples if start <= s.at < end]


def health(base_url: str) -> tuple[int, dict]:
    """``GET /healthz``: status and body (0 and {} when nothing answered)."""
    try:
        response = requests.get(base_url + "/healthz", timeout=10)
        return response.status_code, response.json()
    except (requests.RequestException, ValueError):
        return 0, {}


class Verdict:
    """Collects a drill's checks; ``ok`` when all passed."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, passed: bool, what: str) -> None:
        say(("PASS  " if passed else "FAIL  ") + what)
        if not passed:
            self.failures.append(what)

    @property
    def ok(self) -> bool:
        return not self.failures

"""Settings, read once from the environment.

The embedded default needs nothing set: SQLite under ``instance/``, no Redis, the
WeChat API pointed at the built-in mock. Production (``APP_ENV=production``) must set
at least ``SECRET_KEY`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production
REAL_WECHAT_API = "https://api.weixin.qq.com"


# Flask-Limiter strings such as "5/minute;30/day" (defaults in app/public/limits.py, app/api/residents.py).
RATE_LIMIT_SETTINGS = (
    "PUBLIC_LIMIT_OPINION_RESIDENT",
    "PUBLIC_LIMIT_BOOKING_RESIDENT",
    "PUBLIC_LIMIT_CANCEL_RESIDENT",
    "PUBLIC_LIMIT_PER_ADDRESS",
    "API_LIMIT_BOOKING_RESIDENT",
    "API_LIMIT_BOOKING_ADDRESS",
    "API_LIMIT_OPINION_RESIDENT",
    "API_LIMIT_OPINION_ADDRESS",
    "API_LIMIT_STAFF_TOKEN",
    "API_LIMIT_STAFF_TOKEN_ADDRESS",
    "CONSOLE_LIMIT_LOGIN_ADDRESS",
)


class ConfigError(RuntimeError):
    """The environment describes a setup the service refuses to run with."""


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the common spellings of a PostgreSQL URL.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment, then apply overrides."""
    env = os.environ
    overrides = overrides or {}
    app_env = overrides.get("APP_ENV", env.get("APP_ENV", "development"))
    default_db = "sqlite:///" + str(Path(instance_path) / "jiazhandian.db")
    cfg: dict = {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(env.get("DATABASE_URL", default_db)),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "WECHAT_APPID": env.get("WECHAT_APPID", "wxdemo0000000000"),
        "WECHAT_SECRET": env.get("WECHAT_SECRET", "demo-secret"),
        "WECHAT_TOKEN": env.get("WECHAT_TOKEN", "demo-token"),
        "WECHAT_AES_KEY": env.get("WECHAT_AES_KEY") or None,
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", "").rstrip("/") or None,
        # Where the in-app mock of the WeChat API is mounted outside production.
        "WECHAT_MOCK_PREFIX": "/_wechat_mock",
        "MINIAPP_APPID": env.get("MINIAPP_APPID", "wxminidemo000000"),
        "MINIAPP_SECRET": env.get("MINIAPP_SECRET", "demo-mini-secret"),
        "DEMO_PASSWORD": env.get("DEMO_PASSWORD", "demo-pass-2026"),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER", str(Path(instance_path) / "uploads")),
        # A deputy photo or resident photo is re-encoded anyway; 5 MB is plenty for a phone shot.
        "MAX_IMAGE_BYTES": int(env.get("MAX_IMAGE_BYTES", 5 * 1024 * 1024)),
        "MAX_RECORD_BYTES": int(env.get("MAX_RECORD_BYTES", 15 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 16 * 1024 * 1024)),
        # No ping on every checkout: app/db_pool.py pings only connections that sat idle.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Cookies (session, remember-me, the resident's identity) only over HTTPS: on by default
        # in production, off for the plain-HTTP development server; production refuses "0".
        "COOKIE_SECURE": _flag(env.get("COOKIE_SECURE"), default=app_env == "production"),
        # Residents' phone numbers are encrypted with this Fernet key (app/security/crypto.py);
        # unset outside production: a key derived from SECRET_KEY, with a warning.
        "FIELD_ENCRYPTION_KEY": env.get("FIELD_ENCRYPTION_KEY") or None,
        # Console and staff-API sign-in: after this many failures within the window the
        # username is locked for LOGIN_LOCKOUT_SECONDS (app/security/lockout.py).
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES", 5)),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env.get("LOGIN_FAILURE_WINDOW_SECONDS", 900)),
        "LOGIN_LOCKOUT_SECONDS": int(env.get("LOGIN_LOCKOUT_SECONDS", 900)),
        # Closed opinions older than this are anonymised (flask retention run, the scheduler).
        "RETENTION_DAYS": int(env.get("RETENTION_DAYS", 1095)),
        "WTF_CSRF_TIME_LIMIT": None,
        "PER_PAGE": 20,
        # WeChat template / subscribe-message IDs by purpose (app/notify/messages.py fills them).
        "WECHAT_TEMPLATES": {
            "opinion_update": env.get("WECHAT_TPL_OPINION_UPDATE", "TPL_OPINION_UPDATE"),
            "reception_announced": env.get("WECHAT_TPL_RECEPTION", "TPL_RECEPTION"),
            "deputy_reminder": env.get("WECHAT_TPL_DEPUTY_REMINDER", "TPL_DEPUTY_REMINDER"),
            "overdue": env.get("WECHAT_TPL_OVERDUE", "TPL_OVERDUE"),
            "weekly_digest": env.get("WECHAT_TPL_WEEKLY_DIGEST", "TPL_WEEKLY_DIGEST"),
            "staff_digest": env.get("WECHAT_TPL_STAFF_DIGEST", "TPL_STAFF_DIGEST"),
            "binding": env.get("WECHAT_TPL_BINDING", "TPL_BINDING"),
        },
        # Working days a handling unit gets when a category sets none.
        "DEFAULT_DEADLINE_WORKDAYS": int(env.get("DEFAULT_DEADLINE_WORKDAYS", 15)),
        # Proxies in front (nginx): how many X-Forwarded-* hops to trust for the client address.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", 0)),
        # 附件2 asks for 方正大标宋; Noto Serif CJK SC Bold (Debian fonts-noto-cjk) is the open
        # serif closest to it. Index 2 of the collection is the Simplified Chinese face.
        "PLAQUE_FONT": env.get("PLAQUE_FONT", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
        "PLAQUE_FONT_INDEX": int(env.get("PLAQUE_FONT_INDEX", 2)),
        # Generated 代表联系服务群众日: hours, bookable slots, deputies on duty (at least).
        "SERVICE_DAY_START": env.get("SERVICE_DAY_START", "09:00"),
        "SERVICE_DAY_END": env.get("SERVICE_DAY_END", "11:30"),
        "SERVICE_DAY_SLOT_MINUTES": int(env.get("SERVICE_DAY_SLOT_MINUTES", 30)),
        "SERVICE_DAY_SLOT_CAPACITY": int(env.get("SERVICE_DAY_SLOT_CAPACITY", 5)),
        "SERVICE_DAY_DEPUTIES": int(env.get("SERVICE_DAY_DEPUTIES", 2)),
        # The outbox sender (app/notify/sender.py): pushes a second across all workers (0 = no
        # limit), attempts before an unexplained error gives up, back-off, days sent rows are kept.
        "OUTBOX_RATE_PER_SECOND": float(env.get("OUTBOX_RATE_PER_SECOND", 100)),
        "OUTBOX_MAX_ATTEMPTS": int(env.get("OUTBOX_MAX_ATTEMPTS", 8)),
        "OUTBOX_MAX_RETRYABLE_ATTEMPTS": int(env.get("OUTBOX_MAX_RETRYABLE_ATTEMPTS", 24)),
        "OUTBOX_RETRY_BASE_S": float(env.get("OUTBOX_RETRY_BASE_S", 30)),
        "OUTBOX_RETRY_MAX_S": float(env.get("OUTBOX_RETRY_MAX_S", 3600)),
        "OUTBOX_KEEP_SENT_DAYS": int(env.get("OUTBOX_KEEP_SENT_DAYS", 90)),
        # Rows a worker claims at once, threads sending them, how long a claim lasts before a
        # crashed worker's rows are claimable again (keep it well under WeChat's 10 minutes),
        # and how long after an unanswered send retries may still reuse its client_msg_id.
        "OUTBOX_BATCH_SIZE": int(env.get("OUTBOX_BATCH_SIZE", 50)),
        "OUTBOX_SEND_THREADS": int(env.get("OUTBOX_SEND_THREADS", 8)),
        "OUTBOX_LEASE_S": int(env.get("OUTBOX_LEASE_S", 120)),
        "OUTBOX_AMBIGUOUS_WINDOW_S": int(env.get("OUTBOX_AMBIGUOUS_WINDOW_S", 480)),
        # The scheduler (app/notify/scheduler.py) runs inside the web process only in the embedded
        # default; production runs `flask scheduler run` as its own process.
        "SCHEDULER_IN_PROCESS": env.get("SCHEDULER_IN_PROCESS", "1" if app_env == "development" else "0")
        in ("1", "true", "yes"),
        # Deputy reminders: "3d" three days before, "eve" the evening before, "morning" the day itself.
        "REMINDER_LEADS": env.get("REMINDER_LEADS", "3d,eve,morning"),
        "REMINDER_EVENING": env.get("REMINDER_EVENING", "19:00"),
        "REMINDER_MORNING": env.get("REMINDER_MORNING", "07:30"),
        # Operations (app/observability.py): log lines as JSON in production, text otherwise;
        # who may read /metrics: a bearer token, or a client address inside these networks.
        "LOG_FORMAT": env.get("LOG_FORMAT", "json" if app_env == "production" else "text"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "METRICS_ALLOW_NETWORKS": env.get("METRICS_ALLOW_NETWORKS", "127.0.0.1/32,::1/128"),
        # 公告接待时间 "事先提前预告": announcing fewer days ahead is allowed but warned about.
        "ANNOUNCE_MIN_DAYS": int(env.get("ANNOUNCE_MIN_DAYS", 3)),
        # Digests: subscribers' weekly one (weekday 0 = Monday, local time), staff's daily one.
        "DIGEST_WEEKLY_DAY": int(env.get("DIGEST_WEEKLY_DAY", 0)),
        "DIGEST_WEEKLY_TIME": env.get("DIGEST_WEEKLY_TIME", "08:00"),
        "DIGEST_DAILY_TIME": env.get("DIGEST_DAILY_TIME", "08:30"),
        # One-time WeChat binding codes (QR and link) for deputies and staff: minutes valid.
        "BINDING_TTL_MINUTES": int(env.get("BINDING_TTL_MINUTES", 30)),
    }
    # Optional tuning, read only when set; each module keeps its documented default otherwise.
    for name in RATE_LIMIT_SETTINGS:
        if env.get(name):
            cfg[name] = env[name]
    for name in ("API_TOKEN_MAX_AGE", "API_STAFF_TOKEN_MAX_AGE"):
        if env.get(name):
            cfg[name] = int(env[name])
    cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that is down or restarting must fail a request fast (503), not hang it.
        options = cfg["SQLALCHEMY_ENGINE_OPTIONS"] = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("connect_args", {"connect_timeout": int(env.get("DATABASE_CONNECT_TIMEOUT", 5))})
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg["REDIS_URL"] or "memory://")
    cfg["SESSION_COOKIE_SECURE"] = cfg["REMEMBER_COOKIE_SECURE"] = bool(cfg["COOKIE_SECURE"])
    # HSTS only where the service is reached over HTTPS.
    cfg.setdefault("HSTS_ENABLED", cfg["APP_ENV"] == "production" and bool(cfg["COOKIE_SECURE"]))
    if not cfg["WECHAT_API_BASE"]:
        # Production talks to WeChat; everything else runs offline against the built-in mock.
        if cfg["APP_ENV"] == "production":
            cfg["WECHAT_API_BASE"] = REAL_WECHAT_API
        else:
            cfg["WECHAT_API_BASE"] = cfg["PUBLIC_BASE_URL"] + cfg["WECHAT_MOCK_PREFIX"]
    return cfg


def check_config(cfg: dict) -> None:
    """Refuse settings that would be unsafe in production."""
    if cfg["APP_ENV"] != "production":
        return
    if not cfg["SECRET_KEY"] or cfg["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(cfg["SECRET_KEY"]) < 16:
        raise ConfigError(
            "APP_ENV=production 需要设置 SECRET_KEY（至少 16 个字符的随机串），拒绝以默认密钥启动。"
        )
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ConfigError("APP_ENV=production 需要 DATABASE_URL 指向 PostgreSQL。")
    from app.security.crypto import parse_keys

    try:
        keys = parse_keys(cfg.get("FIELD_ENCRYPTION_KEY"))
    except ValueError:
        keys = None
    if not keys:
        raise ConfigError(
            "APP_ENV=production 需要设置 FIELD_ENCRYPTION_KEY（Fernet 密钥，用 "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' "
            "生成），居民手机号加密存储，拒绝以开发密钥启动。"
        )
    if not cfg.get("COOKIE_SECURE"):
        raise ConfigError("APP_ENV=production 不允许 COOKIE_SECURE=0：Cookie 只能经 HTTPS 传送。")

"""Django settings, read from ``PROFILESYNC_*`` environment variables.

Every setting has a default that gives the embedded installation (SQLite in the
data directory), so a newcomer needs no configuration; production sets
``PROFILESYNC_DATABASE_URL`` to PostgreSQL. docs/configuration.md lists them all.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from profilesync.hosts import parse_allowed_hosts

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PROFILESYNC_DATA_DIR", "./var")).resolve()


def _private_data_dir() -> None:
    """The data dir holds the database, sessions, token digests and the secret key: only
    the account running profilesync may enter it (0700), whatever the umask."""
    DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    if DATA_DIR.stat().st_uid == os.geteuid() and DATA_DIR.stat().st_mode & 0o077:
        DATA_DIR.chmod(0o700)


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (0600), or make it so. SQLite creates
    its -wal and -shm files with the database file's own mode."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_uid == os.geteuid() and path.stat().st_mode & 0o077:
        path.chmod(0o600)


def _secret_key() -> str:
    """Return the configured key, or one generated once and kept in the data dir.

    Keeping it on disk matters: bind passwords are encrypted with a key derived
    from it, so a new key on every start would make them unreadable.
    """
    configured = os.environ.get("PROFILESYNC_SECRET_KEY")
    if configured:
        return configured
    _private_data_dir()
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def _database() -> dict:
    url = os.environ.get("PROFILESYNC_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'profilesync.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        _private_data_dir()
        if config["NAME"] and config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _private_file(Path(config["NAME"]))
        config["CONN_MAX_AGE"] = 0
        # WAL lets the web pages read while a sync writes; IMMEDIATE avoids the
        # "database is locked" upgrade race between two writers.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        config["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    return config


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("PROFILESYNC_DEBUG", "") == "1"
# The host names answered (others get 400): see profilesync/hosts.py.
ALLOWED_HOSTS = parse_allowed_hosts(os.environ.get("PROFILESYNC_ALLOWED_HOSTS"))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "profilesync",
    "profilesync.directories",
    "profilesync.profiles",
    "profilesync.sync",
    "profilesync.accounts",
    "profilesync.writeback",
    "profilesync.api",
    "django_tasks",
    "django_tasks_db",
    "profilesync.scheduling",
    "profilesync.adminpages",
    "csp",
    "profilesync.monitoring",
    "profilesync.live",
]

MIDDLEWARE = [
    "profilesync.monitoring.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "profilesync.urls"
WSGI_APPLICATION = "profilesync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "profilesync.accounts.context.roles",
            ],
        },
    },
]

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("PROFILESYNC_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served by the app itself (WhiteNoise) straight from the packages'
# static folders: no collectstatic step and no separate web server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("PROFILESYNC_MEDIA_DIR", DATA_DIR / "media")).resolve()
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "profilesync": {
            "handlers": ["console"],
            "level": os.environ.get("PROFILESYNC_LOG_LEVEL", "WARNING"),
        }
    },
}

# How many directory entries the sync maps, diffs and writes at a time; also the
# LDAP page size unless a directory sets its own.
PROFILESYNC_SYNC_BATCH_SIZE = int(os.environ.get("PROFILESYNC_SYNC_BATCH_SIZE", "1000"))

# How long the change history (per person: what each run changed, own edits and their
# write-back outcome) is kept; older rows are pruned by the change_history_prune job.
PROFILESYNC_CHANGE_HISTORY_DAYS = int(os.environ.get("PROFILESYNC_CHANGE_HISTORY_DAYS", "90"))

# When a directory tells us neither its time (currentTime) nor its latest write
# (contextCSN), an incremental watermark is taken from this server's clock minus
# this margin, so clock skew up to the margin cannot hide a change.
PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS = int(
    os.environ.get("PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS", "900"))

# How an incremental run finds changes in Active Directory: "usn" (uSNChanged on the
# same domain controller, the default) or "timestamp" (whenChanged, not replicated and
# one-second granular). profilesync/sync/usn.py explains the choice.
PROFILESYNC_AD_CHANGE_TRACKING = os.environ.get("PROFILESYNC_AD_CHANGE_TRACKING", "usn")
if PROFILESYNC_AD_CHANGE_TRACKING not in ("usn", "timestamp"):
    raise ImproperlyConfigured(
        f"PROFILESYNC_AD_CHANGE_TRACKING is {PROFILESYNC_AD_CHANGE_TRACKING!r}; set it to usn "
        f"(the default) or timestamp")

# Background work: tasks queued in the database, run by `profilesync worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# A running sync holds a lease for this long and renews it this often; a worker that
# dies stops renewing, and the next run takes over once the lease has expired.
PROFILESYNC_SYNC_LEASE_SECONDS = float(os.environ.get("PROFILESYNC_SYNC_LEASE_SECONDS", "600"))
PROFILESYNC_SYNC_LEASE_RENEW_SECONDS = float(
    os.environ.get("PROFILESYNC_SYNC_LEASE_RENEW_SECONDS", "60"))
# Live updates (profilesync.live): a listener's lease, taken over this long after its
# worker dies, and how often the holder renews it.
PROFILESYNC_LIVE_LEASE_SECONDS = float(os.environ.get("PROFILESYNC_LIVE_LEASE_SECONDS", "30"))
PROFILESYNC_LIVE_LEASE_RENEW_SECONDS = float(
    os.environ.get("PROFILESYNC_LIVE_LEASE_RENEW_SECONDS", "5"))
# How often each worker looks for directories whose listener nobody runs.
PROFILESYNC_LIVE_CHECK_SECONDS = float(os.environ.get("PROFILESYNC_LIVE_CHECK_SECONDS", "5"))
# Active Directory: wake the listener by the DC's change notification where it lists it
# ("on"), or only poll uSNChanged ("off").
PROFILESYNC_LIVE_AD_NOTIFICATION = os.environ.get("PROFILESYNC_LIVE_AD_NOTIFICATION", "on") != "off"
# How often each worker's scheduler looks for a due slot (`profilesync worker --schedule-interval`).
PROFILESYNC_SCHEDULER_INTERVAL_SECONDS = float(
    os.environ.get("PROFILESYNC_SCHEDULER_INTERVAL_SECONDS", "10"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "people"
# Directory users log in with their directory password; local accounts (the first
# administrator) with a local one.
AUTHENTICATION_BACKENDS = [
    "profilesync.accounts.backends.DirectoryBackend",
    "django.contrib.auth.backends.ModelBackend",
    # What each role may do (accounts/permissions.py); it signs nobody in.
    "profilesync.accounts.permissions.RolePermissionBackend",
]
# Failed logins allowed per user name and per address within the window.
PROFILESYNC_LOGIN_WINDOW_SECONDS = int(os.environ.get("PROFILESYNC_LOGIN_WINDOW_SECONDS", "900"))
PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER = int(
    os.environ.get("PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER", "5"))
PROFILESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("PROFILESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS", "30"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# -- HTTPS and security headers (docs/security.md) --------------------------------------
# Served over HTTPS (directly or behind a proxy that terminates TLS): cookies are sent
# only over HTTPS, and browsers are told to use HTTPS only (HSTS) for this long.
PROFILESYNC_HTTPS = os.environ.get("PROFILESYNC_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PROFILESYNC_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("PROFILESYNC_HSTS_SECONDS", "31536000")) \
    if PROFILESYNC_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False  # other services of the domain are not ours to decide
# Behind a reverse proxy: the header it sets to "https" for HTTPS requests (e.g.
# X-Forwarded-Proto). Only set it when the proxy always sets (or strips) that header.
_PROXY_HEADER = os.environ.get("PROFILESYNC_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_HEADER.upper().replace("-", "_"), "https") if _PROXY_HEADER else None)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, pictures and requests from this
# site only; no inline script or style, no plugins, no framing, forms post here only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Caches hold what several processes must see while it changes, e.g. the progress of
# a running sync (its database writes are invisible until the directory's part commits).
# One machine: files in the data dir. Several machines: Redis, shared by all of them.
if os.environ.get("PROFILESYNC_REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["PROFILESYNC_REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache")}}

# --- Monitoring: metrics, health, alerts, log format (profilesync/monitoring/) ---------------
# docs/configuration.md ("Monitoring and alerts") explains each; docs/operations.md how to use them.
# prometheus-client's multiprocess mode: every process (gunicorn's workers, the worker) keeps
# its counters in files here, and /metrics adds them up. Set before prometheus_client is
# imported anywhere, which reads it once at import.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "metrics"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# Who may read /metrics: these addresses or networks (comma-separated), or a caller sending
# "Authorization: Bearer <token>" with the token in PROFILESYNC_METRICS_TOKEN (or _TOKEN_FILE).
PROFILESYNC_METRICS_ALLOW = os.environ.get("PROFILESYNC_METRICS_ALLOW", "127.0.0.1/8,::1")
PROFILESYNC_METRICS_TOKEN = os.environ.get("PROFILESYNC_METRICS_TOKEN", "")
if os.environ.get("PROFILESYNC_METRICS_TOKEN_FILE"):
    PROFILESYNC_METRICS_TOKEN = Path(os.environ["PROFILESYNC_METRICS_TOKEN_FILE"]).read_text().strip()
# Every worker records a heartbeat this often; /readyz fails when the newest is older than the
# maximum age. "auto" requires a worker when a syncable directory exists; "on" and "off" force it.
PROFILESYNC_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("PROFILESYNC_WORKER_HEARTBEAT_SECONDS", "15"))
PROFILESYNC_WORKER_HEARTBEAT_MAX_AGE_SECONDS = float(
    os.environ.get("PROFILESYNC_WORKER_HEARTBEAT_MAX_AGE_SECONDS", "120"))
PROFILESYNC_READY_REQUIRES_WORKER = os.environ.get("PROFILESYNC_READY_REQUIRES_WORKER", "auto")
# Alert rules. "No successful sync" fires after this many seconds without one (empty: twice
# the sync job's schedule interval); pending write-backs alert when older than the next one.
PROFILESYNC_ALERT_SYNC_STALE_SECONDS = os.environ.get("PROFILESYNC_ALERT_SYNC_STALE_SECONDS", "")
PROFILESYNC_ALERT_PENDING_WRITE_SECONDS = float(
    os.environ.get("PROFILESYNC_ALERT_PENDING_WRITE_SECONDS", str(24 * 3600)))
# Webhook deliveries: attempts, the first wait between them (doubled each time), timeout.
PROFILESYNC_WEBHOOK_ATTEMPTS = int(os.environ.get("PROFILESYNC_WEBHOOK_ATTEMPTS", "4"))
PROFILESYNC_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("PROFILESYNC_WEBHOOK_BACKOFF_SECONDS", "2"))
PROFILESYNC_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("PROFILESYNC_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Where alerts link to: the address people open profilesync at (empty: paths only).
PROFILESYNC_BASE_URL = os.environ.get("PROFILESYNC_BASE_URL", "").rstrip("/")
# Alert mail through Django's mail backend (SMTP unless PROFILESYNC_EMAIL_BACKEND says otherwise).
EMAIL_BACKEND = os.environ.get("PROFILESYNC_EMAIL_BACKEND",
                               "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("PROFILESYNC_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("PROFILESYNC_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("PROFILESYNC_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PROFILESYNC_EMAIL_PASSWORD", "")
if os.environ.get("PROFILESYNC_EMAIL_PASSWORD_FILE"):
    EMAIL_HOST_PASSWORD = Path(os.environ["PROFILESYNC_EMAIL_PASSWORD_FILE"]).read_text().strip()
EMAIL_USE_TLS = os.environ.get("PROFILESYNC_EMAIL_STARTTLS", "") == "1"
EMAIL_USE_SSL = os.environ.get("PROFILESYNC_EMAIL_SSL", "") == "1"
EMAIL_TIMEOUT = float(os.environ.get("PROFILESYNC_EMAIL_TIMEOUT_SECONDS", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("PROFILESYNC_EMAIL_FROM", "profilesync@localhost")
# Logs: "plain" (default) or "json", one object per line with run, directory and event.
PROFILESYNC_LOG_FORMAT = os.environ.get("PROFILESYNC_LOG_FORMAT", "plain")
if PROFILESYNC_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"PROFILESYNC_LOG_FORMAT is {PROFILESYNC_LOG_FORMAT!r}; set it to plain (the default) or json")
LOGGING["formatters"]["json"] = {"()": "profilesync.monitoring.json_logs.JsonLineFormatter"}
LOGGING["handlers"]["console"]["formatter"] = PROFILESYNC_LOG_FORMAT
# --- end of monitoring settings ---------------------------------------------------------

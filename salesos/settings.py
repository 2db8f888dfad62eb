"""SalesOS settings. Everything that differs between machines comes from the environment."""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import secrets
import sys
import sysconfig
import warnings
from pathlib import Path

import dj_database_url
import limits
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("SALESOS_TESTING")
# Local development (`make run` sets DEVELOPMENT=1): the conveniences of DEBUG (a throwaway secret
# key, localhost hosts, static files from the source tree, plain HTTP, the demo-login hint) with
# DEBUG itself off, so errors show the app's own 404/403/500 pages, never Django's technical ones.
DEVELOPMENT = env_bool("DEVELOPMENT", False) or DEBUG

_INSECURE_DEV_KEY = "django-insecure-salesos-local-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
SECRET_KEY_FROM_ENVIRONMENT = bool(SECRET_KEY)
if not SECRET_KEY:
    # Management commands still work without one; serving does not (salesos/wsgi.py refuses, and
    # `check --deploy` reports salesos.E001), so a production server cannot start with a
    # throwaway key by accident.
    SECRET_KEY = _INSECURE_DEV_KEY if (DEVELOPMENT or TESTING) else "unset-" + secrets.token_urlsafe(48)

MAP_TILES_URL_ENV = os.environ.get("MAP_TILES_URL", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEVELOPMENT or TESTING) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "guardian",
    "django_q",
    "leaflet",
    "simple_history",
    "axes",
    "django_fsm_log",
    "salesos",
    "territories",
    "routing",
    "planning",
    "analytics",
    "pages",
]

MIDDLEWARE = [
    # First: /healthz answers before the HTTPS redirect, the host check, sessions and throttling.
    "salesos.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads the post: the rule builder's views take longer posts.
    "salesos.form_fields.FormFieldsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pages.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salesos.context_processors.navigation",
                "planning.context_processors.approvals",
                "planning.context_processors.proposals",
            ],
        },
    }
]

WSGI_APPLICATION = "salesos.wsgi.application"
ASGI_APPLICATION = "salesos.asgi.application"

# --- Database -------------------------------------------------------------------------------
# SQLite file by default (WAL + busy timeout so the web server and the task worker can write at
# the same time); PostgreSQL when DATABASE_URL says so.
SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# PostgreSQL's planner is told that reading a row through an index costs about as much as reading
# it in sequence (its default of 4 assumes spinning disks): the database is in memory or on SSD, and
# with the default it scanned the whole account table to list one territory's accounts.
# Empty leaves the server's own setting.
PG_RANDOM_PAGE_COST = os.environ.get("PG_RANDOM_PAGE_COST", "1.1")
try:
    if PG_RANDOM_PAGE_COST and float(PG_RANDOM_PAGE_COST) <= 0:
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"PG_RANDOM_PAGE_COST={PG_RANDOM_PAGE_COST!r} is not a positive number.") from None
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PG_RANDOM_PAGE_COST:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c random_page_cost={float(PG_RANDOM_PAGE_COST)}".strip()
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy
                # timeout instead of failing with "database is locked" on lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Messages live in the session, not a signed cookie: an integration key is shown once in one.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Login throttling (django-axes) -----------------------------------------------------------
# Failed sign-ins are counted per username + client address (in the database, so every web
# process sees them) on the app's login page and the admin's alike. At LOGIN_FAILURE_LIMIT
# failures the pair is locked for LOGIN_LOCKOUT_MINUTES, even for the right password; a success
# before that clears the count. `manage.py axes_reset` unlocks everyone.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "salesos.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "salesos.middleware.login_locked_out"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEVELOPMENT or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEVELOPMENT or TESTING
if DEVELOPMENT or TESTING:
    # Development serves from the source tree through the finders; no collectstatic output yet.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")

# --- Security (strict unless DEVELOPMENT) ---------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEVELOPMENT and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Content-Security-Policy (Django's own middleware): scripts, styles, fonts and requests from our
# own origin only; no inline <script>, style="" or on*= handlers anywhere (templates keep them in
# static/js and static/css; tests/test_templates_csp.py holds every template to it), no eval.
# data: images are Bootstrap's SVG icons in its CSS. The map's tile server, when set, may serve images.
_tiles_origin = re.match(r"^(https?://[^/]+)", MAP_TILES_URL_ENV)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *([_tiles_origin.group(1).replace("{s}", "*")] if _tiles_origin else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy (django-permissions-policy): powerful features the app never uses, off.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
}

# Behind a reverse proxy that terminates TLS (BEHIND_PROXY=1), the proxy says the original scheme
# in X-Forwarded-Proto and the client's address in X-Forwarded-For (salesos.middleware.client_ip).
# Without a proxy those headers come from the client and are not trusted.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Email ----------------------------------------------------------------------------------
# EMAIL_HOST set: SMTP; otherwise messages are printed to the console (EMAIL_BACKEND overrides).
_email_backend = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
_email_options: dict = {}
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": 15,
    }
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SalesOS <salesos@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background tasks (django-q2) -----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER: dict = {
    # The queue's name: environments sharing one Redis keep apart by naming their queues apart.
    "name": os.environ.get("Q_NAME", "salesos"),
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 3600,
    "retry": 3700,
    "queue_limit": 50,
    "label": "Tasks",
    "catch_up": False,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5
if TESTING:
    Q_CLUSTER["sync"] = True

# --- Sharded full re-routes (routing/batch/shards.py) ---------------------------------------------
# A full re-route of at least ROUTING_SHARD_FROM accounts splits into account-id ranges of
# ROUTING_SHARD_SIZE accounts, each its own task on any worker; smaller ones run in one process.
ROUTING_SHARD_FROM = int(os.environ.get("ROUTING_SHARD_FROM", "1000000"))
ROUTING_SHARD_SIZE = int(os.environ.get("ROUTING_SHARD_SIZE", "250000"))
# A shard still running this many seconds after its attempt started is taken for lost (its worker
# died) and queued again by the watchdog; far longer than a shard takes (about a minute at 250,000).
ROUTING_SHARD_TIMEOUT = int(os.environ.get("ROUTING_SHARD_TIMEOUT", "900"))
if ROUTING_SHARD_SIZE < 1 or ROUTING_SHARD_FROM < 1 or ROUTING_SHARD_TIMEOUT < 1:
    raise ImproperlyConfigured(
        "ROUTING_SHARD_SIZE, ROUTING_SHARD_FROM and ROUTING_SHARD_TIMEOUT must be positive whole numbers."
    )

# --- Lead-routing API rate limits (routing/ratelimit.py) --------------------------------------
# Each a `limits` string ("120/minute", "10/second", "5000/day"); empty turns that limit off.
# Over a limit the API answers 429 with Retry-After. Counted in the database: one count for all
# web processes.
API_RATE_LIMIT_PER_ADDRESS = os.environ.get("API_RATE_LIMIT_PER_ADDRESS", "600/minute")
API_RATE_LIMIT_PER_TOKEN = os.environ.get("API_RATE_LIMIT_PER_TOKEN", "1200/minute")
API_RATE_LIMIT_AUTH_FAILURES = os.environ.get("API_RATE_LIMIT_AUTH_FAILURES", "20/minute")
for _name in ("API_RATE_LIMIT_PER_ADDRESS", "API_RATE_LIMIT_PER_TOKEN", "API_RATE_LIMIT_AUTH_FAILURES"):
    try:
        if globals()[_name]:
            limits.parse(globals()[_name])
    except ValueError:
        raise ImproperlyConfigured(f'{_name}={globals()[_name]!r} is not a rate such as "120/minute".') from None

# --- Maps (django-leaflet) ------------------------------------------------------------------
# The tile layer is a setting: OpenStreetMap when online, none (our own GeoJSON on a blank
# base) behind a firewall.
MAP_TILES_URL = MAP_TILES_URL_ENV

# --- Stored dashboard figures (analytics/figures.py) ----------------------------------------------
# Seconds after which the performance, comparison and forecast pages ask for their stored figures
# to be rebuilt (a schedule does the same every 5 minutes); the pages show the figures' age.
ANALYTICS_FIGURES_MAX_AGE = int(os.environ.get("ANALYTICS_FIGURES_MAX_AGE", "600"))

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (39.5, -98.35),
    "DEFAULT_ZOOM": 4,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 14,
    "TILES": [("Map", MAP_TILES_URL, {"attribution": "&copy; OpenStreetMap contributors"})] if MAP_TILES_URL else [],
    "RESET_VIEW": False,
}

# django-leaflet's admin module needs GDAL/GEOS; use the libraries inside the pyogrio and
# shapely wheels so the app starts on a machine with no system GDAL.
_site = sysconfig.get_paths()["purelib"]
_gdal = sorted(glob.glob(os.path.join(_site, "pyogrio.libs", "libgdal*.so*")))
_geos = sorted(glob.glob(os.path.join(_site, "shapely.libs", "libgeos_c*.so*")))
if _gdal and "GDAL_LIBRARY_PATH" not in os.environ:
    GDAL_LIBRARY_PATH = _gdal[0]
if _geos and "GEOS_LIBRARY_PATH" not in os.environ:
    GEOS_LIBRARY_PATH = _geos[0]

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- SalesOS --------------------------------------------------------------------------------
SALESOS_DEMO_PASSWORD = "salesos-demo"  # used only by `manage.py seed_demo`
# The organisation's name as customers know it (the reassignment customer notices).
SALESOS_COMPANY_NAME = os.environ.get("SALESOS_COMPANY_NAME", "SalesOS")
# How long after a plan is archived it may be re-activated (the previous plan, the same way).
PLAN_REACTIVATION_GRACE_DAYS = int(os.environ.get("PLAN_REACTIVATION_GRACE_DAYS", "30"))

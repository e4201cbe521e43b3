"""Argus settings. The environment is read through `argus.env` only."""

from __future__ import annotations

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from argus import env

BASE_DIR = env.BASE_DIR

DEBUG = env.env_bool("DEBUG", False)
SECRET_KEY = env.env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "argus-insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105

# Tenants live at <slug>.<ARGUS_BASE_DOMAIN>; the bare base domain is the public site.
ARGUS_BASE_DOMAIN = env.env_str("ARGUS_BASE_DOMAIN", "localhost")
ARGUS_PUBLIC_SCHEME = env.env_str("ARGUS_PUBLIC_SCHEME", "http" if DEBUG else "https")
# Port appended to links between hosts (public site -> tenant) when not served on 80/443.
ARGUS_PUBLIC_PORT = env.env_str("ARGUS_PUBLIC_PORT", "")
ALLOWED_HOSTS = env.env_list(
    "ALLOWED_HOSTS", [ARGUS_BASE_DOMAIN, f".{ARGUS_BASE_DOMAIN}", "127.0.0.1"]
)

SHARED_APPS = [
    "django_tenants",
    "apps.core",
    "apps.accounts",
    "apps.organizations",
    "apps.billing",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]
TENANT_APPS = [
    "apps.projects",
    "apps.audit",
    "apps.generated_tests",
    "apps.test_runs",
    "apps.production_events",
    "apps.risk_scores",
    "apps.healing",
    "apps.integrations",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "organizations.Organization"
TENANT_DOMAIN_MODEL = "organizations.Domain"
PUBLIC_SCHEMA_URLCONF = "argus.urls_public"
ROOT_URLCONF = "argus.urls"
# Signup takes a pre-migrated schema from a pool of spares (apps.organizations.schema_pool),
# so provisioning time stays flat as migrations and tenants grow.
ARGUS_SPARE_SCHEMAS = env.env_int("ARGUS_SPARE_SCHEMAS", 3)
TENANT_MULTIPROCESSING_MAX_PROCESSES = 2
# `SET search_path` once per connection and tenant switch, not before every statement (half of the
# statements of webhook processing). Safe because django-tenants forgets the path on ROLLBACK and
# ROLLBACK TO SAVEPOINT, which revert a SET issued inside them (tests/test_tenant_search_path.py).
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "apps.core.middleware.HealthCheckMiddleware",
    "apps.organizations.middleware.TenantHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.organizations.middleware.MembershipMiddleware",
    "apps.core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
]

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
                "apps.organizations.context_processors.tenant",
            ],
        },
    },
]

WSGI_APPLICATION = "argus.wsgi.application"
ASGI_APPLICATION = "argus.asgi.application"

DATABASES = {"default": dj_database_url.parse(env.database_url(), conn_max_age=60)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("TEST", {})["NAME"] = env.env_str("ARGUS_TEST_DATABASE", "test_argus")

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Login lockout: this many failures lock the account and the IP for LOGIN_LOCKOUT_SECONDS.
LOGIN_LOCKOUT_FAILURES = 5
LOGIN_LOCKOUT_SECONDS = 15 * 60
INVITATION_TTL_DAYS = 7

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".argus" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.env_str("MEDIA_ROOT", str(BASE_DIR / ".argus" / "media"))
MEDIA_URL = "/media/"
# Run artifacts (screenshots, DOM snapshots, logs, reports) go to Django's default storage:
# the filesystem under MEDIA_ROOT, or any S3-compatible bucket when ARGUS_S3_BUCKET is set.
# Either way they are served only through the authenticated artifact views, never from MEDIA_URL.
_S3_BUCKET = env.env_str("ARGUS_S3_BUCKET")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _S3_BUCKET,
                "endpoint_url": env.env_str("ARGUS_S3_ENDPOINT_URL") or None,
                "region_name": env.env_str("ARGUS_S3_REGION") or None,
                "access_key": env.env_str("ARGUS_S3_ACCESS_KEY_ID") or None,
                "secret_key": env.env_str("ARGUS_S3_SECRET_ACCESS_KEY") or None,
                "default_acl": "private",
                "querystring_auth": True,
            },
        }
        if _S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the finders so a fresh checkout needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env.env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env.env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.env_str("DEFAULT_FROM_EMAIL", f"Argus <noreply@{ARGUS_BASE_DOMAIN}>")

# Security. Production mode (DEBUG off) turns on HTTPS-only cookies and HSTS;
# ARGUS_HTTPS=0 is for a production-mode server that runs on plain HTTP (tests, local).
ARGUS_HTTPS = env.env_bool("ARGUS_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = ARGUS_HTTPS
CSRF_COOKIE_SECURE = ARGUS_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31_536_000 if ARGUS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = ARGUS_HTTPS
SECURE_SSL_REDIRECT = ARGUS_HTTPS and env.env_bool("ARGUS_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Forms on the public site redirect to the organization's host (signup, login): allow that host.
_TENANT_ORIGINS = " ".join(
    f"{scheme}://*.{ARGUS_BASE_DOMAIN}:*" for scheme in (("https",) if ARGUS_HTTPS else ("http", "https"))
)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    f"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self' {_TENANT_ORIGINS}"
)
# Swagger UI and Redoc style their elements inline and Redoc runs a blob: worker; only the docs pages get this.
API_DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "worker-src 'self' blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"
)
CSRF_TRUSTED_ORIGINS = env.env_list(
    "CSRF_TRUSTED_ORIGINS",
    [f"{scheme}://{host}" for scheme in ("http", "https") for host in (ARGUS_BASE_DOMAIN, f"*.{ARGUS_BASE_DOMAIN}")],
)

# Redis: cache, Channels layer, Celery broker, lockout counters.
REDIS_URL = env.redis_url()
CACHES = {
    # Tenant data: every key is prefixed with the current schema.
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Platform-wide state that belongs to no organization (login lockout, sign-in hand-off).
    "platform": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "platform",
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 reads with a 5 s socket timeout, the same as the layer's blocking pop: wait longer,
        # or an idle socket's consumer dies with a TimeoutError (django/channels_redis#422).
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 10}], "prefix": "argus:channels"},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Browser work has its own queue so a worker's concurrency on it equals the number of browsers.
CELERY_TASK_ROUTES = {
    "test_runs.execute_result": {"queue": "browser"},
    "test_runs.execute_command": {"queue": "browser"},
}
# A task's broker message becomes visible again after this long if its worker vanished without
# acking (late acks): longer than the longest hard time limit, so a slow test is never run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    # Tenant-aware beat: one platform-level tick walks the tenants and enqueues what is due.
    "test-runs-dispatch-schedules": {"task": "test_runs.dispatch_due_schedules", "schedule": 30.0},
    # Results whose worker stopped heart-beating are re-queued or failed with a reason.
    "test-runs-reap-stale": {"task": "test_runs.reap_stale_results", "schedule": 30.0},
    # Deliveries left pending (a lost trigger, a worker that died) are picked up again.
    "production-events-sweep-pending": {"task": "production_events.sweep_pending", "schedule": 30.0},
    # Risk trends move as days pass, even without new events: recalculate every project hourly.
    "risk-scores-recalculate-all": {"task": "risk_scores.recalculate_all", "schedule": 3600.0},
    # Outbox events whose trigger was lost, or whose retry is due, get a dispatch task.
    "integrations-sweep-events": {"task": "integrations.sweep_events", "schedule": 30.0},
}

# Production error intake (apps/production_events/intake.py, fastpath.py).
ARGUS_WEBHOOK_MAX_BYTES = env.env_int("ARGUS_WEBHOOK_MAX_BYTES", 1024 * 1024)
# How long a web process may reuse an intake endpoint it looked up; a rotation or disable applies within it.
ARGUS_WEBHOOK_ENDPOINT_CACHE_MS = env.env_int("ARGUS_WEBHOOK_ENDPOINT_CACHE_MS", 1000)
ARGUS_WEBHOOK_DB_CONNECTIONS = env.env_int("ARGUS_WEBHOOK_DB_CONNECTIONS", 4)
ARGUS_WEBHOOK_WRITERS = env.env_int("ARGUS_WEBHOOK_WRITERS", 2)
# Tasks that share one organization's backlog of deliveries (one per worker process is the useful maximum).
ARGUS_INTAKE_PROCESSORS = env.env_int("ARGUS_INTAKE_PROCESSORS", 2)

# Execution engine.
SELENIUM_REMOTE_URL = env.env_str("SELENIUM_REMOTE_URL")
# Each worker process starts its next (fresh) browser while the current test runs.
ARGUS_BROWSER_PREWARM = env.env_bool("ARGUS_BROWSER_PREWARM", not SELENIUM_REMOTE_URL)
ARGUS_CHROMIUM_BINARY = env.env_str("ARGUS_CHROMIUM_BINARY", "/usr/bin/chromium")
ARGUS_CHROMEDRIVER = env.env_str("ARGUS_CHROMEDRIVER", "/usr/bin/chromedriver")
# Hard limit for one test on one device (the Celery task is killed past it), and the default step timeout.
ARGUS_TEST_TIME_LIMIT = env.env_int("ARGUS_TEST_TIME_LIMIT", 600)
ARGUS_STEP_TIMEOUT_MS = env.env_int("ARGUS_STEP_TIMEOUT_MS", 10_000)
# The longest one browser command may take: a hung chromedriver fails the test as a browser error (and
# the run's retry gets a fresh browser) instead of holding the worker until the time limit. Above the
# longest step timeout (120 s), since a navigation command waits for as long as its step allows.
ARGUS_BROWSER_COMMAND_TIMEOUT = env.env_int("ARGUS_BROWSER_COMMAND_TIMEOUT", 150)
# A running result whose worker has not heart-beaten for this long is considered lost.
ARGUS_RESULT_STALE_SECONDS = env.env_int("ARGUS_RESULT_STALE_SECONDS", 90)
# How many times the reaper re-queues a lost result before failing it with a reason.
ARGUS_RESULT_MAX_REQUEUES = env.env_int("ARGUS_RESULT_MAX_REQUEUES", 1)
# Command runs (any-framework runner): where workspaces are unpacked, and the allowed project paths.
ARGUS_WORKSPACE_ROOT = env.env_str("ARGUS_WORKSPACE_ROOT", str(BASE_DIR / ".argus" / "workspaces"))
# Command runs execute arbitrary code as the worker's OS user. Fine for a self-hosted team; on a
# shared multi-tenant installation turn them off, or route test_runs.execute_command to sandboxed workers.
ARGUS_COMMAND_RUNS_ENABLED = env.env_bool("ARGUS_COMMAND_RUNS_ENABLED", True)
# A command run may only use a project workspace path inside one of these directories.
ARGUS_WORKSPACE_PATHS = env.env_list("ARGUS_WORKSPACE_PATHS", [ARGUS_WORKSPACE_ROOT])
ARGUS_COMMAND_TIME_LIMIT = env.env_int("ARGUS_COMMAND_TIME_LIMIT", 1800)
ARGUS_UPLOAD_MAX_BYTES = env.env_int("ARGUS_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)
# The demo shop (demo_shop/) that `make run` serves and the demo suite targets.
ARGUS_DEMO_SHOP_URL = env.env_str("ARGUS_DEMO_SHOP_URL", "http://127.0.0.1:8001/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.organizations.permissions.IsMember"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Argus API",
    "DESCRIPTION": (
        "Autonomous end-to-end web testing. Every path is served on your organization's host "
        "(`https://<slug>.<base domain>`). Authenticate with `Authorization: Bearer <API key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.organizations.models.Role",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django_tenants": {"level": "WARNING"}},
}

"""Django settings, driven by environment variables (see README "Configuration")."""

from __future__ import annotations

from pathlib import Path

from parley.config.env import (
    celery_url,
    data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
PARLEY_DATA_DIR = data_dir()

DEBUG = env_bool("PARLEY_DEBUG", False)
# The demo key only ever protects a local demo; `parley up` refuses it when PARLEY_ENV=production.
SECRET_KEY = env_str("PARLEY_SECRET_KEY", "parley-insecure-demo-secret-key-change-me-0123456789")
PARLEY_ENV = env_str("PARLEY_ENV", "development")
ENCRYPTION_KEY = env_str("PARLEY_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = env_list("PARLEY_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("PARLEY_CSRF_TRUSTED_ORIGINS", [])
PUBLIC_URL = env_str("PARLEY_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "parley.core",
    "parley.accounts",
    "parley.customers",
    "parley.conversations",
    "parley.connectors",
    "parley.realtime",
    "parley.assistants",
    "parley.orchestrator",
    "parley.llm",
    "parley.knowledge",
    "parley.tools",
    "parley.handover",
    "parley.commerce",
    "parley.voice",
    "parley.intelligence",
    "parley.analytics",
    "parley.audit",
    "parley.web",
]

MIDDLEWARE = [
    "parley.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parley.config.urls"
ASGI_APPLICATION = "parley.config.asgi.application"
WSGI_APPLICATION = None

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
            ]
        },
    }
]

_database_url = env_str("DATABASE_URL", "")
if not _database_url:
    # Settings never start servers; `parley up`, `parley manage` and the test plugin do,
    # and export DATABASE_URL for every process they start.
    _database_url = "postgresql://postgres:@127.0.0.1:5432/postgres"
DATABASES = {"default": parse_database_url(_database_url)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = PARLEY_DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The dashboard is built with base /static/app/, the widget app with /static/widget/.
STATICFILES_DIRS = [
    (prefix, str(p))
    for prefix, p in [("app", REPO_DIR / "frontend" / "dist"), ("widget", REPO_DIR / "widget" / "dist")]
    if p.exists()
]
MEDIA_ROOT = Path(env_str("PARLEY_MEDIA_ROOT", str(PARLEY_DATA_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PARLEY_MAX_REQUEST_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# Upload limits (bytes), refused with 413 before the body is read (parley/core/uploads.py, docs/uploads.md).
MAX_UPLOAD_BYTES = env_int("PARLEY_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)  # web-chat visitor files
MAX_MEDIA_BYTES = env_int("PARLEY_MAX_MEDIA_BYTES", 25 * 1024 * 1024)  # channel media downloads (WhatsApp, Messenger, ...)
MAX_DATASET_UPLOAD_BYTES = env_int("PARLEY_MAX_DATASET_UPLOAD_BYTES", 200 * 1024 * 1024)  # dataset imports
UPLOAD_ROUTE_LIMITS = [
    (r"^/api/v1/webchat/[^/]+/uploads/?$", MAX_UPLOAD_BYTES),
    # The knowledge app reads the same variable (parley/knowledge/conf.py).
    (r"^/api/v1/knowledge/documents/upload/?$", env_int("PARLEY_KNOWLEDGE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
    (r"^/api/v1/dataset-imports/?$", MAX_DATASET_UPLOAD_BYTES),
]
UPLOAD_MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Malware scanning of stored uploads and media through ClamAV's clamd: host:port or a unix socket path; unset = off.
CLAMD_ADDRESS = env_str("PARLEY_CLAMD_ADDRESS", "")
CLAMD_FAIL_OPEN = env_bool("PARLEY_CLAMD_FAIL_OPEN", False)  # clamd unreachable: refuse files (default) or accept them unscanned
CLAMD_TIMEOUT_S = float(env_str("PARLEY_CLAMD_TIMEOUT_S", "30"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("PARLEY_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "parley.accounts.authentication.ApiKeyAuthentication",
        "parley.accounts.authentication.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["parley.accounts.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "parley.core.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "parley.core.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")  # type: ignore[attr-defined]

SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": "Self-hosted AI customer support and conversation intelligence.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
    "APPEND_COMPONENTS": {"securitySchemes": {"ApiKey": {"type": "http", "scheme": "bearer", "description": "Parley API key"}}},
    "SECURITY": [{"ApiKey": []}],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 30},
    }
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "parley",
    }
}

# Celery: one Redis broker, named queues per kind of work (see parley/config/celery.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", celery_url(REDIS_URL))
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", celery_url(REDIS_URL))
CELERY_TASK_ALWAYS_EAGER = False
CELERY_HEALTH_TIMEOUT = float(env_str("PARLEY_WORKER_PING_TIMEOUT", "2.0"))
# How long a process trusts an API key it has checked (revoking through Parley evicts it at once).
PARLEY_API_KEY_CACHE_SECONDS = float(env_str("PARLEY_API_KEY_CACHE_SECONDS", "5"))

LLM_BASE_URL = env_str("PARLEY_LLM_BASE_URL", "")
LLM_MODEL = env_str("PARLEY_LLM_MODEL", "")
LLM_API_KEY = env_str("PARLEY_LLM_API_KEY", "")

PARLEY_LOG_LEVEL = env_str("PARLEY_LOG_LEVEL", "INFO")
PARLEY_LOG_FORMAT = env_str("PARLEY_LOG_FORMAT", "json")
LOGGING_CONFIG = None
from parley.core.logging import configure_logging  # noqa: E402

configure_logging(PARLEY_LOG_LEVEL, PARLEY_LOG_FORMAT)

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Serve static files (dashboard, widget, admin) straight from the app and package folders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

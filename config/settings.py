"""Settings, read only from environment variables (see README "Configuration").

Development and production differ only by environment. Every variable is read through
``_env`` so that a bad value stops start-up with a message naming the variable.
"""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def _env(name: str, cast: str = "str", **kwargs: Any) -> Any:
    """Read one variable with django-environ, naming the variable when its value is bad."""
    try:
        return getattr(env, cast)(name, **kwargs)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # environ raises ValueError, KeyError, … depending on the cast
        raise ImproperlyConfigured(f"Environment variable {name} has a bad value: {exc}") from exc


DEBUG = _env("DEBUG", "bool", default=False)
SECRET_KEY = _env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Environment variable SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"
ALLOWED_HOSTS = _env("ALLOWED_HOSTS", "list", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = _env("CSRF_TRUSTED_ORIGINS", "list", default=[])
# Demo mode prints and shows the demo accounts' passwords; never on in production.
DEMO_MODE = _env("DEMO_MODE", "bool", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "incidents",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
FORM_RENDERER = "config.forms.FormRenderer"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": _env("DATABASE_URL", "db", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"].get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured("Environment variable DATABASE_URL must be a postgres:// or sqlite:/// URL.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env("DATABASE_POOL", "bool", default=False):
    # psycopg's pool replaces persistent connections; Django requires CONN_MAX_AGE=0 with it.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = True
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Locks out an account and address after repeated failed logins (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env("LOGIN_FAILURE_LIMIT", "int", default=5)
AXES_COOLOFF_TIME = _env("LOGIN_COOLOFF_HOURS", "float", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Staff must confirm sign-in with a TOTP code (django-otp); on by default when DEBUG is off.
OTP_REQUIRED_FOR_STAFF = _env("OTP_REQUIRED_FOR_STAFF", "bool", default=not DEBUG)
OTP_TOTP_ISSUER = "Override Watch"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:home"
LOGOUT_REDIRECT_URL = "incidents:home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    # Raw transcript uploads are private evidence: stored outside anything that is served.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": _env("UPLOADS_DIR", default=str(VAR_DIR / "uploads"))},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Size limits. A pasted transcript up to TRANSCRIPT_MAX_BYTES gets a field error, not a bare 400,
# so the request body may hold a little more than that before Django refuses it.
TRANSCRIPT_MAX_BYTES = _env("TRANSCRIPT_MAX_BYTES", "int", default=20 * 1024 * 1024)
TRANSCRIPT_MAX_TURNS = _env("TRANSCRIPT_MAX_TURNS", "int", default=5000)
# Archives (Inspect .eval logs) are checked before anything is unpacked.
TRANSCRIPT_MAX_ARCHIVE_MEMBERS = _env("TRANSCRIPT_MAX_ARCHIVE_MEMBERS", "int", default=10_000)
TRANSCRIPT_MAX_UNCOMPRESSED_BYTES = _env("TRANSCRIPT_MAX_UNCOMPRESSED_BYTES", "int", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * TRANSCRIPT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Content-Security-Policy: no inline script or style anywhere; untrusted text can never run.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _env("SECURE_COOKIES", "bool", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _env("BEHIND_TLS_PROXY", "bool", default=False) else None
)

_email = _env("EMAIL_URL", "email_url", default="consolemail://")
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"]}}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": _email.get("EMAIL_HOST", "localhost"),
        "port": _email.get("EMAIL_PORT", 25),
        "username": _email.get("EMAIL_HOST_USER", ""),
        "password": _email.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": 30,
    }
elif _email["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # django-environ drops the path's leading slash (filemail:///tmp/mail gives "tmp/mail").
    MAILERS["default"]["OPTIONS"] = {"file_path": "/" + _email["EMAIL_FILE_PATH"].lstrip("/")}
# Webhook URLs must resolve to public addresses, unless this is on (tests, private deployments).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = _env("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "bool", default=False)
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", default="Override Watch <noreply@localhost>")
SITE_URL = _env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Celery: with no broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = _env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker never gives up on a broker outage
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True  # acks_late redelivers; tasks are idempotent
CELERY_TASK_IGNORE_RESULT = True  # no result backend
CELERY_TASK_TIME_LIMIT = 240  # below the outbox's 5-minute claim
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# A shared cache (Redis in production: CACHE_URL=redis://…) backs API throttling across processes.
CACHES = {"default": _env("CACHE_URL", "cache_url", default="locmemcache://")}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle", "api.throttling.AnonymousRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": _env("API_ANON_RATE", default="120/min"),
        "user": _env("API_USER_RATE", default="600/min"),
        "transcript_parse": _env("API_PARSE_RATE", default="30/min"),
        "submit": _env("API_SUBMIT_RATE", default="20/hour"),
    },
    # Without this a client could rotate X-Forwarded-For to escape per-address limits.
    "NUM_PROXIES": _env("API_NUM_PROXIES", "int", default=0),
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.OrjsonRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Override Watch API",
    "DESCRIPTION": "The public incident registry for AI instruction overrides.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "incidents.models.Status",
        "OverrideTypeEnum": "incidents.models.OverrideType",
        "EventActionEnum": "incidents.models.IncidentEvent.Action",
        "VendorResponseKindEnum": "incidents.models.VendorResponse.Kind",
        "CommentKindEnum": "incidents.models.Comment.Kind",
        "TranscriptFormatEnum": "incidents.transcripts.format_choices",
    },
    # The default enum hook, then the error answers every operation shares (401, 429, …).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_shared_errors",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", default="INFO")},
}

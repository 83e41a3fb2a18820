"""Settings for Mentorship, read from the environment.

One file for every environment. Local defaults just work (SQLite under ``var/``,
in-process tasks, local-memory cache, console email); production sets
``DJANGO_DEBUG=0`` and must provide ``DJANGO_SECRET_KEY``. Every variable is
listed in README.md.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-local-development-only")
else:
    # Production must never run on a guessable key: refuse to start without one.
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(set DJANGO_DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Absolute base for links that leave the request (emails, calendar invites).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")
GOOGLE_LOGIN_ENABLED = bool(GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET)

INSTALLED_APPS = [
    "mentorship.apps.MentorshipAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    *(["allauth.socialaccount.providers.google"] if GOOGLE_LOGIN_ENABLED else []),
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "accounts",
    "mentorship",
    "scheduling",
    "reviews",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "mentorship.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mentorship.middleware.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TimezoneMiddleware",
]

ROOT_URLCONF = "mentorship.urls"
WSGI_APPLICATION = "mentorship.wsgi.application"

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
                "mentorship.context_processors.roles",
            ],
        },
    },
]

# Widgets may use project templates (templates/accounts/widgets/…).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -----------------------------------------------------------------
# SQLite by default (a file under the git-ignored var/), PostgreSQL via DATABASE_URL.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # BEGIN IMMEDIATE takes the write lock up front, so two writers queue
        # instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The scheduling SQL (slot engine, booking, /sessions/) runs through
    # server-binding cursors (scheduling.slots.prepared_cursor): psycopg
    # prepares a statement once a connection has run it this many times, and
    # PostgreSQL stops planning it on every run. Django's own cursors bind on
    # the client and never prepare. Behind a connection pooler in transaction
    # mode, set DATABASE_PREPARE_THRESHOLD=off.
    # Those statements have the same plan for every user (an index walk by
    # the owner's id), so PostgreSQL is told to keep the generic plan instead
    # of planning each run again for its parameters (which it otherwise does
    # for these: a custom plan looks cheaper on paper, not in time).
    threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["prepare_threshold"] = (
        None if threshold.lower() in ("off", "none", "") else int(threshold)
    )
    generic = "-c plan_cache_mode=force_generic_plan"
    options["options"] = f"{options.get('options', '')} {generic}".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------
# Redis when REDIS_URL is set (shared by every web process, which allauth's rate
# limits need in production); local memory otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Users and sign-in ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "DJANGO_PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_DISPLAY = "accounts.models.display_name"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Mentorship] "
# The emailed reset link signs the user in: the way back in when failed
# sign-ins by others have paused their account (accounts/adapters.py).
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
# allauth's rate limits are on by default and use the cache above; listed here
# so the limits we rely on are visible (and overridable in tests). A refused
# request gets templates/429.html with status 429.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Failed password sign-ins, counted by accounts/adapters.py (the rule is
    # written down there): per address, per address and account, per account
    # (but not from the addresses the account signed in from lately).
    "login_failed": "10/m/ip,100/h/ip",
    "login_failed_ip_account": "5/5m/key,30/d/key",
    "login_failed_account": "30/h/key,100/d/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}

# The client address the rate limits count by. Without a proxy it is the
# connection's (REMOTE_ADDR) and X-Forwarded-For is ignored: anyone can send
# it. Behind our own proxy (DJANGO_BEHIND_PROXY=1) every connection comes from
# the proxy, so the client is the X-Forwarded-For entry our proxy appended,
# the last one (DJANGO_TRUSTED_PROXY_COUNT from the end with more proxies of
# ours in a chain); entries before it are the client's to forge.
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
ALLAUTH_TRUSTED_PROXY_COUNT = env.int(
    "DJANGO_TRUSTED_PROXY_COUNT", default=1 if BEHIND_PROXY else 0
)

SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_PROVIDERS = {}
if GOOGLE_LOGIN_ENABLED:
    SOCIALACCOUNT_PROVIDERS["google"] = {
        "APPS": [{"client_id": GOOGLE_CLIENT_ID, "secret": GOOGLE_CLIENT_SECRET, "key": ""}],
        "SCOPE": ["openid", "profile", "email"],
        "AUTH_PARAMS": {"access_type": "online"},
        "OAUTH_PKCE_ENABLED": True,
        "VERIFIED_EMAIL": True,
    }

# --- Internationalisation and time ------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Uploaded avatars are served by Django itself unless a front proxy serves MEDIA_ROOT.
SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ------------------------------------------------------------------------
# EMAIL_URL: smtp://host:25, smtp+tls://user:password@host:587 (STARTTLS),
# smtp+ssl://user:password@host:465,
# consolemail:// or dummymail://. Debug prints mail to the console by default.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
if DEBUG and "EMAIL_URL" not in env:
    # The console, readable: links (the address confirmation's above all) on
    # one line each, not the raw MIME (core/mail.py).
    EMAIL_BACKEND = "core.mail.ReadableConsoleBackend"
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST", "localhost")
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mentorship <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
ADMINS = [("Admins", address) for address in env.list("DJANGO_ADMINS", default=[])]

# --- Celery -------------------------------------------------------------------------
# With no broker configured, tasks run eagerly in the web process so that one
# command runs the whole product.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# socket_timeout: a broker that accepts connections but never answers must not
# hold a booking request; the publish fails, the outbox row waits for the sweep.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
}
CELERY_BEAT_SCHEDULE = {
    # Sessions move upcoming → active → completed by the clock. Pages read the
    # clock themselves, so a late or missed run changes nothing users see.
    "advance-session-statuses": {
        "task": "scheduling.tasks.advance_session_statuses",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Reminders are found by polling the database, not by far-future ETA tasks.
    "send-due-reminders": {
        "task": "scheduling.tasks.send_due_reminders",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Busy times from connected calendars, so the slot engine never calls them.
    "sync-calendars": {
        "task": "scheduling.tasks.sync_all_calendars",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
    # Session events a lost push left missing or stale in mentors' calendars.
    "reconcile-calendar-events": {
        "task": "scheduling.tasks.reconcile_calendar_events",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Holds nobody confirmed in time. Pages and bookings read the clock; this
    # only tidies the rows up.
    "expire-booking-holds": {
        "task": "scheduling.tasks.expire_booking_holds",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # Outbox rows still pending (broker down at commit, a lost retry) go out here.
    "sweep-notifications": {
        "task": "scheduling.tasks.sweep_notifications",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
# Publishing when the broker is down must not hold a request for long: the
# outbox row stays pending and the sweep enqueues it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}

# --- Calendar connections ----------------------------------------------------------------
# Fernet keys for calendar tokens and passwords at rest, newest first
# (scheduling/crypto.py). Required when DJANGO_DEBUG is off.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# CalDAV servers on loopback over plain http (development and tests only).
CALDAV_ALLOW_LOCAL_HTTP = env.bool("CALDAV_ALLOW_LOCAL_HTTP", default=False)

# --- Google Calendar ----------------------------------------------------------------------
# A grant of its own (calendar scopes, offline access) with the same OAuth client
# as Google sign-in (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET); its redirect URI,
# SITE_URL + /calendars/google/callback/, must be registered on that client.
# The endpoints are settings only so that tests can point them at a local fake.
GOOGLE_OAUTH_AUTHORIZE_URL = env.str(
    "GOOGLE_OAUTH_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_CALENDAR_API_URL = env.str(
    "GOOGLE_CALENDAR_API_URL", default="https://www.googleapis.com/calendar/v3"
).rstrip("/")
# The narrowest that work: write session events, read free/busy (times only, no
# event details), list calendars so the mentor can choose (names only).
GOOGLE_CALENDAR_SCOPES = [
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
]

# --- Notifications ----------------------------------------------------------------------
# Attempts per email before the row is marked failed (then retried from the admin).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)

# --- Booking ----------------------------------------------------------------------------
MEETING_PROVIDER = env.str("MEETING_PROVIDER", default="scheduling.meetings.JitsiMeetProvider")
MEETING_BASE_URL = env.str("MEETING_BASE_URL", default="https://meet.jit.si")
# The right-hand side of calendar event UIDs (``<uid>@ICAL_UID_DOMAIN``).
ICAL_UID_DOMAIN = env.str("ICAL_UID_DOMAIN", default="mentorship.local")
# How many upcoming sessions one mentee may hold, in all and with one mentor.
MAX_UPCOMING_SESSIONS_PER_MENTEE = env.int("MAX_UPCOMING_SESSIONS_PER_MENTEE", default=10)
MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR = env.int("MAX_UPCOMING_SESSIONS_WITH_ONE_MENTOR", default=3)
# A visitor who books without an account holds the time this long, until they
# follow the link emailed to them; one hold per address, and this many new
# holds per client address an hour.
BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=30)
GUEST_HOLDS_PER_ADDRESS_PER_HOUR = env.int("GUEST_HOLDS_PER_ADDRESS_PER_HOUR", default=5)

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The Content-Security-Policy header sent on every response (see
# mentorship/middleware.py): only our own static files, no inline code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'" + (" https://accounts.google.com" if GOOGLE_LOGIN_ENABLED else ""),
    ]
)

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, for this host, for path "/".
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        USE_X_FORWARDED_HOST = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "WARNING"},
        "django.security": {"level": "WARNING"},
    },
}

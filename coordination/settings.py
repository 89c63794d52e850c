"""Settings for Skyddsnät, read from the environment.

Every variable is documented in deploy/env.example. DEBUG is off unless asked for; without DEBUG the
system refuses to start without a secret key and serves only over HTTPS.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from coordination.audit_tracking import tracked_models
from coordination.env import database_from_url, env_bool, env_int, env_list, env_str, keystore_url_beside

# Lets admin classes be written as admin.ModelAdmin[Model] for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("SKYDDSNAT_DEBUG", default=False)

SECRET_KEY = env_str("SKYDDSNAT_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SKYDDSNAT_SECRET_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` (see deploy/env.example)."
        )
    # Only the local demo (DEBUG on) may run on a published key.
    SECRET_KEY = "django-insecure-demo-key-only-for-the-local-demo-never-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("SKYDDSNAT_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

# HTTPS is the default whenever DEBUG is off; the local demo on http://127.0.0.1 runs without it.
HTTPS = env_bool("SKYDDSNAT_HTTPS", default=not DEBUG)
# Behind our own nginx the client address is the right-most X-Forwarded-For entry, which nginx sets;
# anything further left was written by the client and is never trusted.
BEHIND_PROXY = env_bool("SKYDDSNAT_BEHIND_PROXY", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "guardian",
    "auditlog",
    "access",
    "cases",
    "coordination",
]

MIDDLEWARE = [
    "access.middleware.NoStoreOnErrorsMiddleware",
    "access.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Who made each model change (django-auditlog), with the client address taken the trusted way.
    "access.auditing.AuditlogMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "access.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "access.middleware.AbsoluteSessionLifetimeMiddleware",
    # A case whose key a half-finished gallring destroyed: a page saying so, not a server error.
    "cases.middleware.ShreddedCaseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # django-axes must come last so it sees the outcome of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coordination.urls"
WSGI_APPLICATION = "coordination.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_CONN_MAX_AGE = env_int("SKYDDSNAT_CONN_MAX_AGE", 600)
_DATABASE_URL = env_str("DATABASE_URL", "sqlite:///var/skyddsnat.sqlite3")
DATABASES = {
    "default": database_from_url(_DATABASE_URL, base_dir=BASE_DIR, conn_max_age=_CONN_MAX_AGE),
    # The wrapped per-case data keys live in a database of their own, backed up on a short cycle.
    # Gallring deletes a case's key there, so restoring an older backup of the main database can never
    # bring the case's data back (crypto-shredding). See deploy/env.example.
    "keys": database_from_url(
        env_str("SKYDDSNAT_KEYSTORE_URL") or keystore_url_beside(_DATABASE_URL),
        base_dir=BASE_DIR,
        conn_max_age=_CONN_MAX_AGE,
    ),
}
DATABASE_ROUTERS = ["cases.routers.KeystoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------------
AUTH_USER_MODEL = "access.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Answers user.has_perm(perm, case): guardian's stored grants, checked against live disclosures.
    "cases.permissions.CasePermissionBackend",
]
# No guardian anonymous user: anonymous visitors never reach a case, so they need no row either.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False
# django-auditlog: the tracked models, constant masking, JSON changes (access/auditing.py).
AUDITLOG_INCLUDE_TRACKING_MODELS = tracked_models()
AUDITLOG_MASK_CALLABLE = "access.auditing.constant_mask"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_REMOTE_ADDR = False
# What signs the audit trail's checkpoints (access/checkpoints.py): the key provider's Ed25519 keys.
AUDIT_SIGNING_KEYS = "cases.keys.audit_signing_keys"
# Every audit event from this id on must carry a MAC (access/audit.py). 1 on a new installation; a
# trail written before MACs (or before a signing key was configured) sets the id of its first event
# with one, which `manage.py verify_audit` names when it finds an event without.
AUDIT_MAC_REQUIRED_FROM = env_int("SKYDDSNAT_AUDIT_MAC_REQUIRED_FROM", 1, minimum=1)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Kept only so that a password hashed another way can still be verified once and re-hashed.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "access:login"

# Lockout after repeated failures (wrong password or wrong code), with a cool-off rather than for good.
AXES_FAILURE_LIMIT = env_int("SKYDDSNAT_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SKYDDSNAT_LOCKOUT_MINUTES", 15, minimum=1))
# Locked per account, not per address: municipal offices share one egress address behind NAT, and an
# address lockout would let one mistyping colleague (or an attacker) shut out a whole office. Spraying
# many accounts is bounded by the per-account limit and shows in the audit trail.
AXES_LOCKOUT_PARAMETERS = ["username"]
# guardian.W001 wants guardian's own backend; cases.permissions.CasePermissionBackend wraps it so that
# a stored grant counts only while the disclosure behind it is in force.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "guardian.W001"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
# A username no account has is counted under a keyed hash of it (it may be a mistyped password).
AXES_USERNAME_CALLABLE = "access.lockout.lockout_username"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "access.network.client_ip"
AXES_LOCKOUT_CALLABLE = "access.views.locked_out"

OTP_TOTP_ISSUER = "Skyddsnät"
# Wherever django-otp's admin would show a device, it shows no key (the TOTP admin is also unregistered).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# How long a password-verified login may wait for its second factor.
SECOND_FACTOR_WINDOW = timedelta(minutes=5)
# How long an enrolment link (a new user's, or after a login reset) can be used, once.
ENROLMENT_LINK_HOURS = env_int("SKYDDSNAT_ENROLMENT_LINK_HOURS", 24, minimum=1)
# How long an opened link's page may wait for its password and code.
ENROLMENT_WINDOW = timedelta(minutes=30)

# --- Sessions and cookies -------------------------------------------------------------------------
# A 15-minute idle timeout: every request renews the expiry, fifteen quiet minutes end the session.
SESSION_COOKIE_AGE = env_int("SKYDDSNAT_IDLE_TIMEOUT_SECONDS", 15 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
# However active, a session ends this long after its login (access/middleware.py).
SESSION_MAX_AGE = timedelta(hours=env_int("SKYDDSNAT_SESSION_MAX_HOURS", 10, minimum=1))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "skyddsnat_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "skyddsnat_csrf"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
CSRF_TRUSTED_ORIGINS = env_list("SKYDDSNAT_CSRF_TRUSTED_ORIGINS")

# --- Security headers -----------------------------------------------------------------------------
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SKYDDSNAT_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and env_bool("SKYDDSNAT_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with our own form posts
# and Django's CSRF check refuses them. Other sites still get no referrer at all.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script or style anywhere: everything comes from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- Case records -----------------------------------------------------------------------------
# Gallring: a closed case is purged this many years after its last entry, unless under legal hold.
RETENTION_YEARS = env_int("SKYDDSNAT_RETENTION_YEARS", 5, minimum=1)
# Nödåtkomst: how long an emergency access lasts.
EMERGENCY_ACCESS_MINUTES = env_int("SKYDDSNAT_EMERGENCY_ACCESS_MINUTES", 60, minimum=5)
# The emergency search finds any agency's case, so it is an oracle by design: at most this many
# searches per user in any hour; the one beyond is refused and shown to the granskare.
EMERGENCY_SEARCHES_PER_HOUR = env_int("SKYDDSNAT_EMERGENCY_SEARCHES_PER_HOUR", 10, minimum=1)

# --- Notifications by e-mail ------------------------------------------------------------------------
# Off unless configured. The message says only that something waits (coordination/notifications.py).
NOTIFY_BY_EMAIL = env_bool("SKYDDSNAT_NOTIFY_BY_EMAIL", default=False)
EMAIL_HOST = env_str("SKYDDSNAT_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("SKYDDSNAT_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("SKYDDSNAT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("SKYDDSNAT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("SKYDDSNAT_EMAIL_TLS", default=True)
DEFAULT_FROM_EMAIL = env_str("SKYDDSNAT_EMAIL_FROM", "skyddsnat@localhost")
# Enrolment links go by e-mail only. The demo (DEBUG) prints its e-mails in the terminal instead.
EMAIL_BACKEND = (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "sv"
# Each language is named in itself, so someone who reads no Swedish can still find English.
LANGUAGES = [("sv", "Svenska"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("SKYDDSNAT_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# --- Logging --------------------------------------------------------------------------------------
# Plain records to stderr for systemd/journald. No request bodies, no personal data: the request
# logger's 4xx/5xx messages carry only the path, and paths never hold personal data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line is redacted of personnummer-shaped digit runs (access/redaction.py): a 404 logs its
    # path, runserver its request line with the query string.
    "formatters": {
        "plain": {
            "()": "access.redaction.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env_str("SKYDDSNAT_LOG_LEVEL", "INFO")},
    # django-axes announces itself at every start; its lockout warnings (usernames masked) remain.
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's own defaults give these loggers handlers of their own (console, mail_admins and
        # runserver's request lines), which would bypass the redaction: every line goes through ours.
        "django": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
ADMINS: list[tuple[str, str]] = []

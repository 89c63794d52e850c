"""Settings for the test suite: the production settings with a few test-only overrides."""

import os

os.environ.setdefault("SKYDDSNAT_SECRET_KEY", "test-secret-key-not-for-any-real-system-0123456789")
os.environ.setdefault("SKYDDSNAT_HTTPS", "false")
os.environ.setdefault("SKYDDSNAT_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from coordination.settings import *  # noqa: E402, F403

# Argon2 is deliberately slow; the tests hash hundreds of passwords. tests/access/test_passwords.py
# checks that the real settings use Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only


class InvalidTemplateVariable(str):
    """Fail loudly on a misspelt template variable instead of rendering an empty string."""

    def __mod__(self, other: object) -> str:
        raise NameError(f"Unknown template variable {other!r}")


TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")  # type: ignore[index]  # noqa: F405

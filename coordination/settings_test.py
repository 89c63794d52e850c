"""Settings for the test suite: the production settings with a few test-only overrides."""

import os

os.environ.setdefault("SKYDDSNAT_SECRET_KEY", "test-secret-key-not-for-any-real-system-0123456789")
os.environ.setdefault("SKYDDSNAT_HTTPS", "false")
os.environ.setdefault("SKYDDSNAT_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Fixed test keys (base64 of 32 bytes each); the tests swap in others where rotation is the subject.
os.environ.setdefault("SKYDDSNAT_KEKS", "t1:" + "dGVzdC1rZWstdmVyc2lvbi0xLWZvci10ZXN0cy0wMDE=")
os.environ.setdefault("SKYDDSNAT_KEK_CURRENT", "t1")
os.environ.setdefault("SKYDDSNAT_BLIND_INDEX_KEY", "dGVzdC1ibGluZC1pbmRleC1rZXktZm9yLXRlc3RzLTA=")
os.environ.setdefault("SKYDDSNAT_PSEUDONYM_KEY", "dGVzdC1wc2V1ZG9ueW0ta2V5LWZvci10aGUtdGVzdHM=")
os.environ.setdefault("SKYDDSNAT_AUDIT_SIGNING_KEYS", "ta1:dGVzdC1hdWRpdC1zaWduaW5nLXNlZWQtZm9yLXRlc3Q=")

from coordination.settings import *  # noqa: E402, F403

# Argon2 is deliberately slow; the tests hash hundreds of passwords. tests/access/test_passwords.py
# checks that the real settings use Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only


class InvalidTemplateVariable(str):
    """Fail loudly on a misspelt template variable instead of rendering an empty string."""

    def __mod__(self, other: object) -> str:
        raise NameError(f"Unknown template variable {other!r}")


TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")  # type: ignore[index]  # noqa: F405

"""The name django-axes counts failures under (settings.AXES_USERNAME_CALLABLE).

People type their password into the username field. django-axes stores the attempted username in its
own tables, so an attempt under a name no account has is stored as a keyed hash of it instead: the
lockout still counts repeated attempts under that name, and the tables never hold what was typed. A
real account keeps its username, so an operator can see and lift its lockout (axes_reset_username).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from access.models import User

UNKNOWN_PREFIX = "okänd:"


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str | None:
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        typed = credentials.get(field)
    elif request is not None:
        typed = getattr(request, "data", request.POST).get(field)
    else:
        typed = None
    if not isinstance(typed, str) or not typed:
        return None
    if User._default_manager.filter(**{User.USERNAME_FIELD: typed}).exists():
        return typed
    digest = hmac.new(settings.SECRET_KEY.encode(), typed.encode(), hashlib.sha256).hexdigest()
    return UNKNOWN_PREFIX + digest[:32]

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: load the keys now so a server without them fails at start, not at
# the first case someone opens.
from cases.keys import key_provider  # noqa: E402

key_provider()

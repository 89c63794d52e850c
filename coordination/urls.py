from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.i18n import set_language

from access.decorators import public_view
from coordination.views.start import start


@public_view
def _admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    # The admin's own login form knows nothing of TOTP; everyone logs in through ours.
    return redirect_to_login(request.GET.get("next", "/admin/"))


admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.site_header = "Skyddsnät – administration"
admin.site.site_title = "Skyddsnät"

urlpatterns = [
    path("", start, name="start"),
    path("konto/", include("access.urls")),
    # Case pages under /arenden/, and the review of emergency access under /granskning/.
    path("", include("cases.urls")),
    # The granskare's views over the audit trail; /granskning/nodatkomster/ above stays with cases.
    path("granskning/", include("access.compliance.urls")),
    # Referrals, action plans and coordination meetings (coordination/routes.py).
    path("", include("coordination.routes")),
    # User administration: the systemadministratör's work, and the second person's confirmations.
    path("administration/", include("access.administration_urls")),
    path("sprak/", public_view(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]

"""URLs of the cross-agency work, namespace "coordination". Each part keeps its own list."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401 - used by the parts below as they grow

from coordination.nulagesbild import views as nulagesbild_views
from coordination.views import actions as action_views
from coordination.views import meetings as meeting_views
from coordination.views import notifications as notification_views
from coordination.views import referrals as referral_views

app_name = "coordination"

# Förfrågningar om samverkan (coordination/views/referrals.py) and the user's notifications
# (coordination/views/notifications.py). Only UUIDs and case references in these URLs.
referral_patterns: list[URLPattern] = [
    path("samverkan/forfragningar/", referral_views.referral_inbox, name="referral_inbox"),
    path("samverkan/forfragningar/skickade/", referral_views.referral_sent, name="referral_sent"),
    path("samverkan/forfragningar/ny/<case:reference>/", referral_views.referral_send, name="referral_send"),
    path(
        "samverkan/forfragningar/<uuid:referral_id>/", referral_views.referral_detail, name="referral_detail"
    ),
    path(
        "samverkan/forfragningar/<uuid:referral_id>/acceptera/",
        referral_views.referral_accept,
        name="referral_accept",
    ),
    path(
        "samverkan/forfragningar/<uuid:referral_id>/avvisa/",
        referral_views.referral_reject,
        name="referral_reject",
    ),
    path(
        "samverkan/forfragningar/<uuid:referral_id>/aterkalla/",
        referral_views.referral_revoke,
        name="referral_revoke",
    ),
    path(
        "samverkan/forfragningar/<uuid:referral_id>/klar/",
        referral_views.referral_complete,
        name="referral_complete",
    ),
    path("samverkan/aviseringar/", notification_views.notification_list, name="notifications"),
    path("samverkan/aviseringar/lasta/", notification_views.notifications_read, name="notifications_read"),
    path(
        "samverkan/aviseringar/<uuid:notification_id>/last/",
        notification_views.notification_read,
        name="notification_read",
    ),
]

# Åtgärdsplan, the case's coordination page and the start page parts (coordination/views/actions.py).
action_patterns: list[URLPattern] = [
    path("arenden/<case:reference>/samverkan/", action_views.case_coordination, name="case_coordination"),
    path("arenden/<case:reference>/samverkan/atgarder/ny/", action_views.action_add, name="action_add"),
    path(
        "arenden/<case:reference>/samverkan/atgarder/<uuid:action_id>/avsluta/",
        action_views.action_close,
        name="action_close",
    ),
    path(
        "arenden/<case:reference>/samverkan/atgarder/<uuid:action_id>/ansvarig/",
        action_views.action_reassign,
        name="action_reassign",
    ),
]

# Samverkansmöten and their PDFs (coordination/views/meetings.py). Meetings and agenda items by UUID.
meeting_patterns: list[URLPattern] = [
    path("samverkan/moten/", meeting_views.meetings, name="meetings"),
    path("samverkan/moten/nytt/", meeting_views.meeting_create, name="meeting_create"),
    path("samverkan/moten/<uuid:meeting_id>/", meeting_views.meeting_detail, name="meeting_detail"),
    path("samverkan/moten/<uuid:meeting_id>/dagordning/", meeting_views.agenda_add, name="agenda_add"),
    path(
        "samverkan/moten/<uuid:meeting_id>/dagordning/<uuid:item_id>/ta-bort/",
        meeting_views.agenda_remove,
        name="agenda_remove",
    ),
    path(
        "samverkan/moten/<uuid:meeting_id>/dagordning/<uuid:item_id>/protokoll/",
        meeting_views.minutes_edit,
        name="meeting_minutes",
    ),
    path(
        "samverkan/moten/<uuid:meeting_id>/dagordning/<uuid:item_id>/atgarder/ny/",
        meeting_views.action_add,
        name="meeting_action_add",
    ),
    path("samverkan/moten/<uuid:meeting_id>/narvaro/", meeting_views.attendance, name="meeting_attendance"),
    path("samverkan/moten/<uuid:meeting_id>/installa/", meeting_views.meeting_cancel, name="meeting_cancel"),
    path("samverkan/moten/<uuid:meeting_id>/genomfort/", meeting_views.meeting_held, name="meeting_held"),
    path("samverkan/moten/<uuid:meeting_id>/motesunderlag/", meeting_views.meeting_pdf, name="meeting_pdf"),
    path(
        "arenden/<case:reference>/sammanfattning/pdf/",
        meeting_views.case_summary_pdf,
        name="case_summary_pdf",
    ),
]

# Nulägesbild (coordination/nulagesbild/views.py): the chef's drafts and releases, by UUID.
nulagesbild_patterns: list[URLPattern] = [
    path("nulagesbild/", nulagesbild_views.nulagesbild_index, name="nulagesbild"),
    path("nulagesbild/generera/", nulagesbild_views.nulagesbild_generate, name="nulagesbild_generate"),
    path(
        "nulagesbild/utkast/<uuid:draft_id>/", nulagesbild_views.nulagesbild_draft, name="nulagesbild_draft"
    ),
    path(
        "nulagesbild/utkast/<uuid:draft_id>/publicera/",
        nulagesbild_views.nulagesbild_release,
        name="nulagesbild_release",
    ),
    path(
        "nulagesbild/utkast/<uuid:draft_id>/kasta/",
        nulagesbild_views.nulagesbild_discard,
        name="nulagesbild_discard",
    ),
    path("nulagesbild/<uuid:release_id>/", nulagesbild_views.nulagesbild_detail, name="nulagesbild_detail"),
    path(
        "nulagesbild/<uuid:release_id>/hamta/<file_format:fmt>/",
        nulagesbild_views.nulagesbild_download,
        name="nulagesbild_download",
    ),
]

urlpatterns = [*referral_patterns, *action_patterns, *meeting_patterns, *nulagesbild_patterns]

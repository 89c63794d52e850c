"""The chef's pages: generate a draft, review it, release it, list and download releases.

Only a chef reaches them (403 for every other role: the pages exist, they are not for them). Nothing
here reads a case: a draft is counted from the pseudonymous statistics records, and the pages show
the published content only, the same that the files are made from.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from access.models import Membership
from cases.actions import CaseActionError
from cases.views.common import AuthenticatedRequest
from coordination.nulagesbild.forms import PeriodForm
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease
from coordination.nulagesbild.release import (
    FORMATS,
    PERIOD_NOT_ENDED,
    chef_membership,
    do_discard_draft,
    do_download_release,
    do_generate_draft,
    do_release_draft,
    is_releasable,
)
from coordination.nulagesbild.render_html import render_fragment
from coordination.pdf_fonts import PdfFontMissingError


def require_chef(request: AuthenticatedRequest) -> Membership:
    membership = chef_membership(request.user)
    if membership is None:
        raise PermissionDenied
    return membership


def _index(request: AuthenticatedRequest, form: PeriodForm, status: int = 200) -> HttpResponse:
    drafts = NulagesbildDraft.objects.select_related("created_by").defer("content")
    releases = NulagesbildRelease.objects.select_related("released_by").defer("content")
    return render(
        request,
        "coordination/nulagesbild/index.html",
        {"form": form, "drafts": drafts, "releases": releases},
        status=status,
    )


@require_GET
@never_cache
def nulagesbild_index(request: AuthenticatedRequest) -> HttpResponse:
    require_chef(request)
    return _index(request, PeriodForm())


@require_POST
def nulagesbild_generate(request: AuthenticatedRequest) -> HttpResponse:
    membership = require_chef(request)
    form = PeriodForm(request.POST)
    if not form.is_valid():
        return _index(request, form, status=400)
    try:
        draft = do_generate_draft(
            form.cleaned_data["period"], acting_user=request.user, membership=membership, request=request
        )
    except CaseActionError as error:
        form.add_error(None, str(error))
        return _index(request, form, status=400)
    return redirect("coordination:nulagesbild_draft", draft_id=draft.pk)


@require_GET
@never_cache
def nulagesbild_draft(request: AuthenticatedRequest, draft_id: uuid.UUID) -> HttpResponse:
    require_chef(request)
    draft = NulagesbildDraft.objects.select_related("created_by").filter(pk=draft_id).first()
    if draft is None:
        raise Http404
    return render(
        request,
        "coordination/nulagesbild/draft.html",
        {
            "draft": draft,
            "fragment": _fragment(draft),
            "releasable": is_releasable(draft.period),
            "period_not_ended": PERIOD_NOT_ENDED,
        },
    )


@require_POST
def nulagesbild_release(request: AuthenticatedRequest, draft_id: uuid.UUID) -> HttpResponse:
    membership = require_chef(request)
    try:
        release = do_release_draft(
            draft_id,
            reviewed_sha256=request.POST.get("sha256", ""),
            acting_user=request.user,
            membership=membership,
            request=request,
        )
    except CaseActionError as error:
        messages.error(request, str(error))
        if NulagesbildDraft.objects.filter(pk=draft_id).exists():
            return redirect("coordination:nulagesbild_draft", draft_id=draft_id)
        return redirect("coordination:nulagesbild")
    messages.success(request, _("Nulägesbilden är publicerad."))
    return redirect("coordination:nulagesbild_detail", release_id=release.pk)


@require_POST
def nulagesbild_discard(request: AuthenticatedRequest, draft_id: uuid.UUID) -> HttpResponse:
    membership = require_chef(request)
    try:
        do_discard_draft(draft_id, acting_user=request.user, membership=membership, request=request)
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Utkastet är kastat."))
    return redirect("coordination:nulagesbild")


@require_GET
@never_cache
def nulagesbild_detail(request: AuthenticatedRequest, release_id: uuid.UUID) -> HttpResponse:
    require_chef(request)
    release = NulagesbildRelease.objects.select_related("released_by").filter(pk=release_id).first()
    if release is None:
        raise Http404
    return render(
        request,
        "coordination/nulagesbild/release.html",
        {"release": release, "fragment": _fragment(release), "formats": FORMATS},
    )


@require_GET
@never_cache
def nulagesbild_download(request: AuthenticatedRequest, release_id: uuid.UUID, fmt: str) -> HttpResponse:
    membership = require_chef(request)
    release = NulagesbildRelease.objects.filter(pk=release_id).first()
    if release is None or fmt not in FORMATS:
        raise Http404
    try:
        rendered = do_download_release(
            release, fmt, acting_user=request.user, membership=membership, request=request
        )
    except PdfFontMissingError:
        messages.error(
            request,
            _(
                "PDF:en kan inte skapas just nu: ett typsnitt saknas på servern. "
                "Kontakta systemadministratören."
            ),
        )
        return redirect("coordination:nulagesbild_detail", release_id=release.pk)
    response = HttpResponse(rendered.data, content_type=rendered.content_type)
    response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
    return response


def _fragment(published: NulagesbildDraft | NulagesbildRelease) -> str:
    # Made by render_html from the published content, every text in it escaped there.
    return mark_safe(render_fragment(published.published()))  # noqa: S308

"""The case's coordination page (``arenden/<reference>/samverkan/``) and the action plan on it.

Access → action → response. The case is fetched through cases.policy (404 for "missing" and "not
yours" alike); what the reader may do with the plan comes from coordination.action_plan (the rules are
documented there). The descriptions are shown only through ``read_action_plan``, which audits the read.

The page is built from sections (``<section aria-labelledby=...>``): the action plan here; referrals and
meetings add their own sections beside it.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from access.models import Membership
from cases.actions import CaseActionError
from cases.choices import CaseStatus, InformationCategory
from cases.permissions import CaseAccess
from cases.policy import access_case_with_rights
from cases.views.common import AuthenticatedRequest
from coordination.action_plan import (
    DESCRIPTION_MAX_LENGTH,
    PlanRights,
    casework_members,
    do_add_action,
    do_close_action,
    do_reassign_action,
    plan_rights,
    read_action_plan,
)
from coordination.models import Action, ActionStatus
from coordination.referrals import case_referrals

PLAN_ANCHOR = "#atgardsplan"


def _person_name(membership: Membership) -> str:
    return membership.user.get_full_name() or membership.user.get_username()


def _owner_value(membership: Membership) -> str:
    # The agency and the person together: one may work in two agencies that may own the action.
    return f"{membership.agency.code}:{membership.user.public_id}"


class ActionForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("Åtgärd"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Vad ska göras? Skriv bara det som behövs för att utföra åtgärden."),
    )
    owner = forms.ChoiceField(label=gettext_lazy("Ansvarig"))
    due_on = forms.DateField(
        label=gettext_lazy("Klart senast"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, members: list[Membership], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = {_owner_value(member): member for member in members}
        grouped: dict[str, list[tuple[str, str]]] = {}
        for member in members:
            grouped.setdefault(member.agency.name, []).append((_owner_value(member), _person_name(member)))
        cast("forms.ChoiceField", self.fields["owner"]).choices = list(grouped.items())

    def clean_due_on(self) -> datetime.date:
        due_on: datetime.date = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("Datumet har redan passerat."))
        return due_on

    def chosen_owner(self) -> Membership:
        return self.members[self.cleaned_data["owner"]]


def _default_owner(access: CaseAccess, members: list[Membership]) -> str | None:
    """The reader themself, preferably in the agency they act in, if they may own the action."""
    acting = access.membership
    if acting is None:
        return None
    own = [member for member in members if member.user_id == acting.user_id]
    own.sort(key=lambda member: member.agency_id != acting.agency_id)
    return _owner_value(own[0]) if own else None


def _page(
    request: AuthenticatedRequest, access: CaseAccess, rights: PlanRights, form: ActionForm | None = None
) -> HttpResponse:
    case = access.case
    plan = read_action_plan(case, user=request.user, request=request) if rights.sees else None
    is_closed = case.status == CaseStatus.CLOSED
    if form is None and rights.can_add and not is_closed:
        members = casework_members(agency.pk for agency in rights.assignable)
        form = ActionForm(members=members, initial={"owner": _default_owner(access, members)})
    context = {
        "case": case,
        "access": access,
        "plan_rights": rights,
        "plan": plan,
        "action_form": form,
        "case_is_closed": is_closed,
        "closing": {"done": ActionStatus.DONE.value, "cancelled": ActionStatus.CANCELLED.value},
        # The referrals section (coordination/referrals.py decides which the reader may see).
        "referrals": list(case_referrals(access)),
        "can_send": access.can_write,
        # The summary as a PDF for a meeting (the page behind the link asks for a reason and checks access).
        "offers_summary_pdf": access.via != "emergency" and access.sees(InformationCategory.SUMMARY),
    }
    return render(request, "coordination/actions/case_coordination.html", context)


def _to_page(reference: str) -> HttpResponse:
    return redirect(reverse("coordination:case_coordination", args=[reference]) + PLAN_ANCHOR)


@require_GET
@never_cache
def case_coordination(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    access = access_case_with_rights(request.user, reference)
    return _page(request, access, plan_rights(request.user, access))


@require_POST
@sensitive_post_parameters("description")
@never_cache
def action_add(request: AuthenticatedRequest, reference: str) -> HttpResponse:
    access = access_case_with_rights(request.user, reference)
    rights = plan_rights(request.user, access)
    if not rights.can_add:
        raise PermissionDenied
    form = ActionForm(request.POST, members=casework_members(agency.pk for agency in rights.assignable))
    if form.is_valid():
        owner = form.chosen_owner()
        # The owning agency hands work to any agency that sees the plan; another agency only to itself.
        acting = access.membership if access.via == "owner" else rights.managing.get(owner.agency_id)
        try:
            if acting is None:
                raise CaseActionError(_("Du kan inte lägga till åtgärder i det här ärendets åtgärdsplan."))
            do_add_action(
                access.case,
                acting_user=request.user,
                membership=acting,
                agency=owner.agency,
                owner=owner.user,
                due_on=form.cleaned_data["due_on"],
                description=form.cleaned_data["description"],
                request=request,
            )
        except CaseActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Åtgärden är tillagd i åtgärdsplanen."))
            return _to_page(access.case.reference)
    return _page(request, access, rights, form)


def _managed_action(
    request: AuthenticatedRequest, reference: str, action_id: uuid.UUID
) -> tuple[CaseAccess, Action, Membership]:
    """The action, for a caseworker of its own agency: 404 to those who do not see the plan (the
    action does not exist for them), 403 to those who see it but may not change it."""
    access = access_case_with_rights(request.user, reference)
    rights = plan_rights(request.user, access)
    if not rights.sees:
        raise Http404
    action = Action.objects.filter(case=access.case, pk=action_id).select_related("case__agency").first()
    if action is None:
        raise Http404
    membership = rights.membership_for(action)
    if membership is None:
        raise PermissionDenied
    return access, action, membership


@require_POST
@never_cache
def action_close(request: AuthenticatedRequest, reference: str, action_id: uuid.UUID) -> HttpResponse:
    access, action, membership = _managed_action(request, reference, action_id)
    status = request.POST.get("status", "")
    try:
        do_close_action(
            action, acting_user=request.user, membership=membership, status=status, request=request
        )
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        if status == ActionStatus.DONE:
            messages.success(request, _("Åtgärden är markerad som klar."))
        else:
            messages.success(request, _("Åtgärden är struken."))
    return _to_page(access.case.reference)


@require_POST
@never_cache
def action_reassign(request: AuthenticatedRequest, reference: str, action_id: uuid.UUID) -> HttpResponse:
    access, action, membership = _managed_action(request, reference, action_id)
    chosen = request.POST.get("owner", "")
    candidates = {str(member.user.public_id): member.user for member in casework_members([action.agency_id])}
    owner = candidates.get(chosen)
    try:
        if owner is None:
            raise CaseActionError(_("Välj en handläggare eller samordnare vid den ansvariga myndigheten."))
        do_reassign_action(
            action, acting_user=request.user, membership=membership, owner=owner, request=request
        )
    except CaseActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Åtgärden har fått en ny ansvarig."))
    return _to_page(access.case.reference)

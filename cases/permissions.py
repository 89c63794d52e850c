"""Who may see what of a case, decided in one place.

Three ways to a case, each checked on its own line so coverage proves every branch:
1. casework (handläggare, samordnare) in the owning agency: everything, read and write;
2. a disclosure in force to an agency where the user does casework: exactly the disclosed categories,
   read-only, plus the agency's own contribution. The grant is stored with django-guardian (per case,
   per agency group) and counts only while the disclosure behind it is in force, so revocation, a
   withdrawn consent or expiry removes access at once;
3. emergency access by this user, unexpired: read-only.
With protected identity, identity is shown to the owning agency only, whatever else applies.
Chef, granskare and systemadministratör roles never reach a case this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.backends import BaseBackend
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, remove_perm

from access.groups import agency_group
from access.models import CASEWORK_ROLES, Agency, Membership, User
from cases.choices import InformationCategory
from cases.models import Case, CaseGroupObjectPermission, Disclosure, EmergencyAccess

ALL_CATEGORIES = frozenset(InformationCategory.values)
CATEGORY_PERMISSIONS: dict[str, str] = {
    InformationCategory.IDENTITY.value: "view_case_identity",
    InformationCategory.VIOLENCE.value: "view_case_violence",
    InformationCategory.SUMMARY.value: "view_case_summary",
    InformationCategory.RISK.value: "view_case_risk",
    InformationCategory.MEASURES.value: "view_case_measures",
    InformationCategory.CHILDREN.value: "view_case_children",
}
PERMISSION_CATEGORIES = {permission: category for category, permission in CATEGORY_PERMISSIONS.items()}


@dataclass(frozen=True)
class CaseAccess:
    case: Case
    via: str  # "owner", "disclosure" or "emergency"
    membership: Membership | None
    categories: frozenset[str]

    @property
    def is_owner(self) -> bool:
        return self.via == "owner"

    @property
    def can_write(self) -> bool:
        return self.is_owner

    @property
    def can_contribute(self) -> bool:
        """The owning agency and disclosed-to agencies write their own contribution; emergency
        access is read-only (it now carries a membership, for the audit trail, but never writes)."""
        return self.via in ("owner", "disclosure") and self.membership is not None

    def sees(self, category: str) -> bool:
        return category in self.categories

    def permission_codenames(self) -> set[str]:
        codenames = {"view_case", *(CATEGORY_PERMISSIONS[category] for category in self.categories)}
        if self.can_contribute:
            codenames.add("contribute_to_case")
        return codenames


def _casework_memberships(user: User) -> list[Membership]:
    return list(
        Membership.objects.active().select_related("agency").filter(user=user, role__in=CASEWORK_ROLES)
    )


def _visible_categories(case: Case, categories: set[str], *, is_owner: bool) -> frozenset[str]:
    if not is_owner and case.person.has_protected_identity:
        categories = categories - {InformationCategory.IDENTITY}
    return frozenset(categories)


def case_access(user: User, case: Case) -> CaseAccess | None:
    """What ``user`` may do with ``case`` right now, or None: the one answer every view relies on."""
    if not user.is_authenticated or not user.is_active:
        return None
    memberships = _casework_memberships(user)
    owner = next((m for m in memberships if m.agency_id == case.agency_id), None)
    if owner is not None:
        return CaseAccess(case, "owner", owner, _visible_categories(case, set(ALL_CATEGORIES), is_owner=True))
    disclosed = disclosed_categories(user, case, memberships)
    if disclosed:
        membership, categories = disclosed
        return CaseAccess(
            case, "disclosure", membership, _visible_categories(case, categories, is_owner=False)
        )
    emergency = EmergencyAccess.objects.active().filter(case=case, user=user).order_by("-started_at").first()
    if emergency is not None:
        # Read-only, every category but a protected identity; every one is reviewed by a granskare.
        acting = next((m for m in memberships if m.agency_id == emergency.agency_id), None)
        return CaseAccess(
            case, "emergency", acting, _visible_categories(case, set(ALL_CATEGORIES), is_owner=False)
        )
    return None


def disclosed_categories(
    user: User, case: Case, memberships: list[Membership]
) -> tuple[Membership, set[str]] | None:
    """Categories disclosed to one of the user's agencies and in force, and also stored as guardian
    grants for that agency's group; both must agree, or nothing is shown."""
    by_agency: dict[int, set[str]] = {}
    agency_ids = {membership.agency_id for membership in memberships}
    for disclosure in Disclosure.objects.active().filter(case=case, recipient__in=agency_ids):
        by_agency.setdefault(disclosure.recipient_id, set()).update(disclosure.categories)
    best: tuple[Membership, set[str]] | None = None
    for membership in memberships:
        if membership.agency_id not in by_agency:
            continue
        # The grant must be the recipient agency's own, not one held through another of the user's groups.
        granted = set(ObjectPermissionChecker(agency_group(membership.agency)).get_perms(case))
        if "view_case" not in granted:
            continue
        allowed = {c for c in by_agency[membership.agency_id] if CATEGORY_PERMISSIONS[c] in granted}
        # A user in two recipient agencies acts through the one that received the most.
        if best is None or len(allowed) > len(best[1]):
            best = (membership, allowed)
    return best


def sync_case_permissions(case: Case) -> None:
    """Rebuild the guardian grants of ``case`` from its disclosures in force (after a disclosure,
    a revocation or an expiry)."""
    wanted: dict[int, set[str]] = {}
    for disclosure in Disclosure.objects.active().filter(case=case):
        wanted.setdefault(disclosure.recipient_id, set()).update(
            ["view_case", "contribute_to_case", *(CATEGORY_PERMISSIONS[c] for c in disclosure.categories)]
        )
    CaseGroupObjectPermission.objects.filter(content_object=case).exclude(
        group__name__in=[agency_group(agency).name for agency in Agency.objects.filter(pk__in=wanted)]
    ).delete()
    for agency in Agency.objects.filter(pk__in=wanted):
        group = agency_group(agency)
        existing = set(
            CaseGroupObjectPermission.objects.filter(content_object=case, group=group).values_list(
                "permission__codename", flat=True
            )
        )
        for codename in wanted[agency.pk] - existing:
            assign_perm(f"cases.{codename}", group, case)
        for codename in existing - wanted[agency.pk]:
            remove_perm(f"cases.{codename}", group, case)


class CasePermissionBackend(BaseBackend):
    """``user.has_perm("cases.view_case_risk", case)`` answered by ``case_access``: guardian's stored
    grants, in force only while a disclosure is. Never a model-wide permission (accept_global_perms is
    effectively off: without an object the answer is no)."""

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if not isinstance(obj, Case):
            return False
        access = case_access(user_obj, obj)
        if access is None:
            return False
        app_label, _dot, codename = perm.rpartition(".")
        return app_label in ("", "cases") and codename in access.permission_codenames()

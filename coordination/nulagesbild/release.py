"""The nulägesbild's workflow: generate a draft, release it, download a release, export from the command
line. Each is a ``do_*`` action in one transaction with its audit entry (access.audit.record_event);
if the audit entry cannot be written nothing is created and nothing is handed out.

Who: a chef, in any agency where they are one (the nulägesbild covers the whole municipality, so any
chef may generate, review and release, and the audit entry names the membership they acted in). The
command line acts as the system (actor None). Audit details hold the period, the SHA-256 of the content
and counts of cells: never a count of the statistics itself, never anything about a case.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.audit import record_event
from access.models import Membership, Role, User
from cases.actions import CaseActionError
from coordination.nulagesbild.aggregate import count_period
from coordination.nulagesbild.content import (
    UnprotectedReleaseError,
    build_content,
    canonical_json,
    content_hash,
)
from coordination.nulagesbild.models import NulagesbildDraft, NulagesbildRelease
from coordination.nulagesbild.periods import Period, PeriodError
from coordination.nulagesbild.render_csv import render_csv
from coordination.nulagesbild.render_html import render_document
from coordination.nulagesbild.render_pdf import render_pdf

FORMATS = ("html", "pdf", "csv")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
OBJECT_TYPE = "nulagesbild"
PERIOD_NOT_ENDED = gettext_lazy(
    "Perioden är inte slut än. Ett utkast för en pågående period kan granskas, men nulägesbilden kan "
    "publiceras först när perioden är slut."
)


@dataclass(frozen=True)
class Rendered:
    data: bytes
    content_type: str
    filename: str


def chef_membership(user: User) -> Membership | None:
    """The membership a chef acts in (the first of their agencies by name), or None for anyone else."""
    return (
        Membership.objects.active()
        .select_related("agency")
        .filter(user=user, role=Role.CHEF)
        .order_by("agency__name")
        .first()
    )


def _today() -> datetime.date:
    return timezone.localdate()


def generate(
    period: Period, *, today: datetime.date | None = None, secondary: bool = True
) -> tuple[str, str]:
    """The canonical content for ``period`` counted now, and its SHA-256."""
    day = today or _today()
    period.check_started(day)
    canonical = canonical_json(build_content(count_period(period, day), period, secondary=secondary))
    return canonical, content_hash(canonical)


def is_releasable(period: Period) -> bool:
    """Whether a draft of ``period`` may be released today (only once the period is over)."""
    return period.has_ended(_today())


def _cell_counts(canonical: str) -> dict[str, int]:
    method: dict[str, Any] = json.loads(canonical)["method"]
    return {f"cells_{name}": int(value) for name, value in method["cells"].items()}


def render(canonical: str, fmt: str) -> bytes:
    content = json.loads(canonical)
    if fmt == "html":
        return render_document(content).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(content)
    if fmt == "csv":
        return render_csv(content)
    raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")


def filename(period: Period, fmt: str) -> str:
    return f"nulagesbild-{period.slug}.{fmt}"


@transaction.atomic
def do_generate_draft(
    period: Period,
    *,
    acting_user: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> NulagesbildDraft:
    try:
        canonical, sha256 = generate(period)
    except PeriodError as error:
        raise CaseActionError(_("Perioden har inte börjat än.")) from error
    except UnprotectedReleaseError as error:
        raise CaseActionError(
            _(
                "Nulägesbilden kan inte tas fram för perioden: röjandekontrollen kunde inte skydda alla "
                "små antal, så inget utkast har skapats. Kontakta systemadministratören."
            )
        ) from error
    draft = NulagesbildDraft.objects.create(
        year=period.year, half=period.half, content=canonical, sha256=sha256, created_by=acting_user
    )
    record_event(
        "nulagesbild.generate",
        actor=acting_user,
        request=request,
        membership=membership,
        object_type=OBJECT_TYPE,
        object_reference=str(draft.pk),
        details={"period": period.slug, "sha256": sha256, **_cell_counts(canonical)},
    )
    return draft


@transaction.atomic
def do_release_draft(
    draft_id: uuid.UUID,
    *,
    reviewed_sha256: str,
    acting_user: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> NulagesbildRelease:
    """Publish exactly the draft the chef reviewed: its content is copied unchanged into an immutable
    release (and the draft removed). ``reviewed_sha256`` is the hash shown on the review page, so a
    draft that is not the one reviewed is never released."""
    draft = NulagesbildDraft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        raise CaseActionError(_("Utkastet finns inte längre; det kan redan vara publicerat eller kastat."))
    if not draft.is_intact() or draft.sha256 != reviewed_sha256:
        raise CaseActionError(
            _("Utkastet är inte det som granskades. Granska det igen innan det publiceras.")
        )
    if not is_releasable(draft.period):
        raise CaseActionError(str(PERIOD_NOT_ENDED))
    release = NulagesbildRelease(
        year=draft.year,
        half=draft.half,
        content=draft.content,
        sha256=draft.sha256,
        released_by=acting_user,
        draft_id=draft.pk,
    )
    release.save()
    draft.delete()
    record_event(
        "nulagesbild.release",
        actor=acting_user,
        request=request,
        membership=membership,
        object_type=OBJECT_TYPE,
        object_reference=str(release.pk),
        details={
            "period": release.period.slug,
            "sha256": release.sha256,
            "draft": str(draft_id),
            **_cell_counts(release.content),
        },
    )
    return release


@transaction.atomic
def do_discard_draft(
    draft_id: uuid.UUID, *, acting_user: User, membership: Membership, request: HttpRequest | None = None
) -> None:
    draft = NulagesbildDraft.objects.select_for_update().filter(pk=draft_id).first()
    if draft is None:
        raise CaseActionError(_("Utkastet finns inte längre; det kan redan vara publicerat eller kastat."))
    period, sha256 = draft.period, draft.sha256
    draft.delete()
    record_event(
        "nulagesbild.discard",
        actor=acting_user,
        request=request,
        membership=membership,
        object_type=OBJECT_TYPE,
        object_reference=str(draft_id),
        details={"period": period.slug, "sha256": sha256},
    )


@transaction.atomic
def do_download_release(
    release: NulagesbildRelease,
    fmt: str,
    *,
    acting_user: User,
    membership: Membership,
    request: HttpRequest | None = None,
) -> Rendered:
    """The release as a file, made again from its stored content, after checking the content still has
    the hash it was released with; audited before anything is handed out."""
    if fmt not in FORMATS:
        raise CaseActionError(_("Okänt format."))
    if not release.is_intact():
        raise CaseActionError(_("Publiceringens innehåll stämmer inte med dess kontrollsumma."))
    record_event(
        "nulagesbild.download",
        actor=acting_user,
        request=request,
        membership=membership,
        object_type=OBJECT_TYPE,
        object_reference=str(release.pk),
        details={"period": release.period.slug, "sha256": release.sha256, "format": fmt},
    )
    return Rendered(render(release.content, fmt), CONTENT_TYPES[fmt], filename(release.period, fmt))


@transaction.atomic
def do_export(period: Period, fmt: str, *, today: datetime.date | None = None) -> Rendered:
    """The nulägesbild for ``period`` as a file, for the command line and scheduled reports: the same
    content and the same rendering as a release, audited as the system (no actor)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    canonical, sha256 = generate(period, today=today)
    record_event(
        "nulagesbild.export",
        actor=None,
        object_type=OBJECT_TYPE,
        details={"period": period.slug, "sha256": sha256, "format": fmt, **_cell_counts(canonical)},
    )
    return Rendered(render(canonical, fmt), CONTENT_TYPES[fmt], filename(period, fmt))

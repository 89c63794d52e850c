"""Drafts and releases of the nulägesbild.

A draft is what a chef generated and is reviewing; a release is what was published, and it never
changes: the row refuses updates and deletes (and on PostgreSQL a trigger refuses them from any role,
coordination/migrations/0002). Both keep only the published content (content.py), as canonical JSON,
and its SHA-256; nothing in them leads back to a case.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import User
from coordination.nulagesbild.content import content_hash
from coordination.nulagesbild.periods import Period


class ReleaseImmutableError(Exception):
    """A release is never changed or deleted once it exists."""


class _Published(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    year = models.PositiveSmallIntegerField(_("år"))
    half = models.PositiveSmallIntegerField(_("halvår"), null=True, blank=True)
    # The canonical JSON of content.build_content; the SHA-256 covers exactly these characters (UTF-8).
    content = models.TextField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True

    @property
    def period(self) -> Period:
        return Period(self.year, self.half)

    def published(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.content)
        return loaded

    def is_intact(self) -> bool:
        return content_hash(self.content) == self.sha256


class NulagesbildDraft(_Published):
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("utkast till nulägesbild")
        verbose_name_plural = _("utkast till nulägesbilder")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(half__isnull=True) | Q(half__in=[1, 2]), name="nulagesbild_draft_half"
            )
        ]

    def __str__(self) -> str:
        return f"nulägesbild draft {self.pk}"


class NulagesbildRelease(_Published):
    released_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField(default=timezone.now)
    # The draft the chef reviewed; the draft itself is deleted when it becomes this release.
    draft_id = models.UUIDField()

    class Meta:
        verbose_name = _("publicerad nulägesbild")
        verbose_name_plural = _("publicerade nulägesbilder")
        ordering = ["-released_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(half__isnull=True) | Q(half__in=[1, 2]), name="nulagesbild_release_half"
            )
        ]

    def __str__(self) -> str:
        return f"nulägesbild release {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReleaseImmutableError("A released nulägesbild is never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ReleaseImmutableError("A released nulägesbild is never deleted.")

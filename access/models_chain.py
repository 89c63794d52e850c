"""What guards the audit trail itself: signed checkpoints and the record of each verification.

Both are append-only like the trail (on PostgreSQL a trigger refuses UPDATE and DELETE, see the
migration that installs it). They hold hashes, ids and times, never a decrypted value.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditCheckpoint(models.Model):
    """An Ed25519 signature over the chain's head at one moment: the last event's id and hash.

    Whoever rewrites the database can recompute every hash of the chain, but cannot sign a checkpoint
    without the signing key, which lives with the key provider, not in the database. Each checkpoint
    also signs the previous checkpoint's signature, so one cannot be removed from the middle unseen.
    Exported to a file the granskare keeps, they also reveal a trail rolled back to an older state.
    """

    event_id = models.BigIntegerField(_("sista händelse"))
    entry_hash = models.CharField(max_length=64)
    # How many events the chain held up to and including event_id when it was signed.
    event_count = models.BigIntegerField(_("antal händelser"))
    created_at = models.DateTimeField(_("signerad"))
    key_version = models.CharField(_("nyckelversion"), max_length=40)
    previous_signature = models.CharField(max_length=128, blank=True)
    signature = models.CharField(max_length=128, unique=True)

    class Meta:
        verbose_name = _("kontrollpunkt")
        verbose_name_plural = pgettext_lazy("plural", "kontrollpunkter")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at event {self.event_id}"


class AuditVerification(models.Model):
    """One run of verify_audit: what it checked and what it found (shown on the granskare's panel)."""

    started_at = models.DateTimeField(_("startad"))
    finished_at = models.DateTimeField(_("klar"))
    full = models.BooleanField(_("hela kedjan"), default=False)
    from_event_id = models.BigIntegerField(null=True, blank=True)
    to_event_id = models.BigIntegerField(null=True, blank=True)
    checked = models.BigIntegerField(_("kontrollerade händelser"), default=0)
    ok = models.BooleanField(_("hel"))
    first_broken_event_id = models.BigIntegerField(null=True, blank=True)
    problem = models.CharField(_("fel"), max_length=500, blank=True)
    checkpoint = models.ForeignKey(
        AuditCheckpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Signed like a checkpoint (access/checkpoints.py, verification_message): a row anyone with INSERT
    # wrote is not believed. Empty on rows written before signing (never believed either).
    key_version = models.CharField(max_length=20, blank=True, default="")
    signature = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        verbose_name = _("verifiering")
        verbose_name_plural = pgettext_lazy("plural", "verifieringar")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"verification {self.pk}: {'ok' if self.ok else 'broken'}"

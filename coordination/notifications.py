"""Telling a user that something waits: a row in the app, and an e-mail only if one is configured.

The in-app notification names its kind and links to the object; the page behind the link checks access
as every page does. The e-mail never says who or what: only that something waits in Skyddsnät, because
mail passes through systems outside our control (invariant 7: no personal data in e-mails).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from access.models import User
from coordination.models import Action, Meeting, Notification, Referral

EMAIL_SUBJECT = "Skyddsnät: något väntar på dig"
EMAIL_BODY = (
    "Något väntar på dig i Skyddsnät. Logga in för att se vad.\n\n"
    "Det här meddelandet skickas automatiskt och innehåller medvetet inga uppgifter om ärenden "
    "eller personer."
)


def notify(
    users: Iterable[User],
    kind: str,
    *,
    referral: Referral | None = None,
    meeting: Meeting | None = None,
    action: Action | None = None,
    exclude: User | None = None,
) -> list[Notification]:
    """One notification per active user (never to ``exclude``, usually whoever caused it). Must run in
    the transaction of what it tells about; the e-mails go only once that has committed."""
    recipients = {
        user.pk: user for user in users if user.is_active and (exclude is None or user.pk != exclude.pk)
    }
    created = Notification.objects.bulk_create(
        Notification(user=user, kind=kind, referral=referral, meeting=meeting, action=action)
        for user in recipients.values()
    )
    addresses = sorted({user.email for user in recipients.values() if user.email})
    if settings.NOTIFY_BY_EMAIL and addresses:
        transaction.on_commit(lambda: _send(addresses))
    return created


def _send(addresses: list[str]) -> None:
    with translation.override("sv"):
        for address in addresses:
            # One message per address: recipients never see each other.
            send_mail(EMAIL_SUBJECT, EMAIL_BODY, None, [address], fail_silently=True)


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()

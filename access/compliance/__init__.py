"""The granskare's (compliance officer's) views over the audit trail.

Every page and export starts from ``AuditEvent.objects.visible_to_auditor(user)`` and records its own
read in the trail, in the same transaction. The granskare sees who did what to which reference, when,
from where and on what grounds; the trail holds no case contents, and nothing here opens a case.
Like the rest of ``access``, this package knows nothing of ``cases``.
"""

"""The longest text each field of a case may hold, in characters.

One list for every way in: the forms show these limits, the actions enforce them whoever calls them,
and the importer checks them before anything is written. A summary is read on screen, in a meeting
pack and in a PDF; far beyond these sizes those break long before the database does.
"""

NAME_MAX_LENGTH = 200
# As typed, separators included (ÅÅÅÅMMDD-NNNN is 13).
IDENTITY_NUMBER_MAX_LENGTH = 20
CONTACT_MAX_LENGTH = 500
SAFE_CONTACT_MAX_LENGTH = 1000
ADDRESS_MAX_LENGTH = 500
# A summary or an agency's contribution (the whole text of one version).
TEXT_MAX_LENGTH = 50_000
OVERRIDE_REASON_MAX_LENGTH = 2000
# The notes of a risk assessment, a protective measure or an incident.
NOTES_MAX_LENGTH = 5000
# The longest version an instrument may be given ("2", "3:e upplagan").
INSTRUMENT_VERSION_MAX_LENGTH = 20
# The longest note a reader may add to a download's reason (coordination/meeting_forms.py).
EXPORT_NOTE_MAX_LENGTH = 500

"""Importing cases from the documented JSON format (docs/import-format.md), for agencies leaving spreadsheets.

Two steps that never mix:

- ``validate_import`` (validation.py) checks the whole file and returns every problem at once, each
  named by record number and field path and never by value: the values are names and identity numbers,
  and error output ends up in terminals, scroll-back and support tickets.
- ``do_import_cases`` (runner.py) opens every case through the ordinary ``do_*`` actions, so an imported
  case is sealed, counted and audited exactly like one opened by hand, all in one transaction.
"""

from cases.importing.format import (
    CASE_FIELDS,
    CHILDREN_FIELDS,
    CLASSIFICATION_FIELDS,
    FORMAT_NAME,
    INCIDENT_FIELDS,
    MEASURE_FIELDS,
    PERSON_FIELDS,
    RISK_FIELDS,
    CaseRow,
    ImportFailed,
    ImportProblem,
    ImportRefused,
    ImportRejected,
    load_import_file,
)
from cases.importing.runner import do_import_cases, membership_for_import
from cases.importing.validation import format_problems, validate_import

__all__ = [
    "CASE_FIELDS",
    "CHILDREN_FIELDS",
    "CLASSIFICATION_FIELDS",
    "FORMAT_NAME",
    "INCIDENT_FIELDS",
    "MEASURE_FIELDS",
    "PERSON_FIELDS",
    "RISK_FIELDS",
    "CaseRow",
    "ImportFailed",
    "ImportProblem",
    "ImportRefused",
    "ImportRejected",
    "do_import_cases",
    "format_problems",
    "load_import_file",
    "membership_for_import",
    "validate_import",
]

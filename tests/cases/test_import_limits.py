"""import_cases holds imports to the forms' limits: every text field, the file's size and its nesting.

A file that breaks one of them is refused with a clear message (where, how long, what is allowed; never
the text) and nothing is imported. The actions enforce the same limits whoever calls them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from access.models import Membership, User
from cases import actions
from cases.actions import CaseActionError
from cases.forms import IncidentForm, PersonForm, ProtectiveMeasureForm, RiskAssessmentForm, VersionedTextForm
from cases.importing import format as import_format
from cases.importing.validation import TEXT_LIMITS
from cases.limits import NOTES_MAX_LENGTH, TEXT_MAX_LENGTH
from cases.models import Case
from tests.cases.test_import import DOCS, assert_nothing_imported, example, refused, run, write

pytestmark = pytest.mark.django_db

MARKER = "Lång-text-markör"

# Where each text field of the format sits in the example file: (path in the file, key, the field).
PLACES = [
    (("cases", 0), "summary"),
    (("cases", 0, "person"), "name"),
    (("cases", 0, "person"), "identity_number"),
    (("cases", 0, "person"), "contact"),
    (("cases", 0, "person"), "safe_contact"),
    (("cases", 0, "person"), "address"),
    (("cases", 0, "risk_assessments", 0), "instrument_version"),
    (("cases", 0, "risk_assessments", 0), "override_reason"),
    (("cases", 0, "risk_assessments", 0), "notes"),
    (("cases", 0, "protective_measures", 0), "notes"),
    (("cases", 0, "protective_measures", 0), "responsible_agency"),
    (("cases", 0, "incidents", 0), "notes"),
]


def _object_at(data: dict[str, Any], where: tuple[Any, ...]) -> dict[str, Any]:
    obj: Any = data
    for step in where:
        obj = obj[step]
    assert isinstance(obj, dict)
    return obj


def _dotted(where: tuple[Any, ...], key: str) -> str:
    """The path an error names: cases[1].risk_assessments[1].notes (positions from 1)."""
    text = ""
    for step in where:
        text += f"[{step + 1}]" if isinstance(step, int) else (f".{step}" if text else step)
    return f"{text}.{key}"


def _long_text(length: int) -> str:
    return (MARKER + " " + "x" * length)[:length]


class TestTextLimits:
    @pytest.mark.parametrize(("where", "key"), PLACES, ids=[_dotted(w, k) for w, k in PLACES])
    def test_one_character_too_many_is_refused_by_length_and_nothing_is_imported(
        self, tmp_path: Path, handlaggare: User, where: tuple[Any, ...], key: str
    ) -> None:
        data = example()
        limit = TEXT_LIMITS[key]
        _object_at(data, where)[key] = _long_text(limit + 1)
        message = refused(write(tmp_path, data))
        assert (
            f"record 1: {_dotted(where, key)}: is {limit + 1} characters long; at most {limit} are allowed."
            in (message)
        )
        assert MARKER[:8] not in message, "the refusal shows the text"
        assert_nothing_imported()

    def test_every_text_field_of_the_format_has_a_limit(self) -> None:
        # Every field the format reads as text is one of the places above, and has a limit.
        assert {key for _, key in PLACES} == set(TEXT_LIMITS)

    def test_a_summary_at_the_limit_imports_and_its_page_opens(
        self, tmp_path: Path, handlaggare: User, login_client: Any
    ) -> None:
        data = example()
        data["cases"] = data["cases"][:1]
        paragraphs = ("Stycke " + "y" * 990 + "\n\n") * 60
        data["cases"][0]["summary"] = paragraphs[:TEXT_MAX_LENGTH].strip()
        output = run(write(tmp_path, data), "--verbosity", "2")
        (reference,) = re.findall(r"record 1: (VR-\S+)", output)
        client: Client = login_client(handlaggare)
        response = client.get(reverse("cases:detail", args=[reference]))
        assert response.status_code == 200
        assert response.content.decode().count("Stycke ") >= 49

    def test_a_nul_character_is_refused_and_not_shown(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        data["cases"][1]["incidents"] = [{"occurred_on": "2024-01-05", "notes": MARKER + "\x00 mer"}]
        message = refused(write(tmp_path, data))
        assert "record 2: cases[2].incidents[1].notes: contains a NUL character" in message
        assert MARKER[:8] not in message
        assert_nothing_imported()

    def test_the_forms_have_the_same_limits(self) -> None:
        """One limit per field, whichever way the text comes in."""

        def length(form_class: type[forms.BaseForm], name: str) -> int | None:
            field = form_class.base_fields[name]
            assert isinstance(field, forms.CharField)
            return field.max_length

        for name in ("name", "identity_number", "contact", "safe_contact", "address"):
            assert length(PersonForm, name) == TEXT_LIMITS[name], name
        assert length(RiskAssessmentForm, "instrument_version") == TEXT_LIMITS["instrument_version"]
        assert length(RiskAssessmentForm, "override_reason") == TEXT_LIMITS["override_reason"]
        for form_class in (RiskAssessmentForm, ProtectiveMeasureForm, IncidentForm):
            assert length(form_class, "notes") == TEXT_LIMITS["notes"], form_class.__name__
        assert length(VersionedTextForm, "text") == TEXT_LIMITS["summary"]

    def test_the_documentation_states_each_limit(self) -> None:
        rows = re.findall(r"^\| `(\w+)` \| text[^|]*\|([^|]*)\|$", DOCS.read_text(encoding="utf-8"), re.M)
        documented: dict[str, set[int]] = {}
        for name, text in rows:
            if name == "format":  # one fixed value, not text typed in
                continue
            found = re.search(r"at most ([\d,]+) characters", text, re.I)
            assert found, f"docs/import-format.md gives no limit for {name}"
            documented.setdefault(name, set()).add(int(found.group(1).replace(",", "")))
        assert documented == {name: {limit} for name, limit in TEXT_LIMITS.items()}


class TestTheActionsEnforceTheLimits:
    """Whoever calls them (a form, the importer, a script): the limit is the action's own rule."""

    def test_a_summary_over_the_limit_is_refused(
        self, case: Case, handlaggare_membership: Membership
    ) -> None:
        with pytest.raises(CaseActionError, match="högst 50000 tecken"):
            actions.do_save_summary(
                case,
                text="z" * (TEXT_MAX_LENGTH + 1),
                based_on=0,
                acting_user=handlaggare_membership.user,
                membership=handlaggare_membership,
            )
        assert not case.summary_versions.exists()

    def test_incident_notes_over_the_limit_are_refused(
        self, case: Case, handlaggare_membership: Membership
    ) -> None:
        with pytest.raises(CaseActionError):
            actions.do_add_incident(
                case,
                occurred_on=case.opened_on,
                forms=[],
                notes="z" * (NOTES_MAX_LENGTH + 1),
                acting_user=handlaggare_membership.user,
                membership=handlaggare_membership,
            )
        assert not case.incidents.exists()

    def test_a_name_over_the_limit_is_refused(self, case: Case, handlaggare_membership: Membership) -> None:
        from cases.records import PersonData

        with pytest.raises(CaseActionError):
            actions.do_update_person(
                case,
                person=PersonData(name="N" * (TEXT_LIMITS["name"] + 1)),
                acting_user=handlaggare_membership.user,
                membership=handlaggare_membership,
            )


class TestTheFile:
    def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(
        self, tmp_path: Path, handlaggare: User
    ) -> None:
        path = tmp_path / "huge.json"
        with path.open("wb") as file:
            file.truncate(import_format.MAX_FILE_BYTES + 1)
        message = refused(path)
        assert "is larger than 64 MB, the most one import reads. Split it into several files" in message
        assert_nothing_imported()

    def test_a_file_at_the_size_limit_is_read(self, tmp_path: Path, handlaggare: User) -> None:
        text = json.dumps(example(), ensure_ascii=False)
        path = tmp_path / "exact.json"
        path.write_text(text, encoding="utf-8")
        size = path.stat().st_size
        assert import_format.load_import_file(path, max_bytes=size) == example()
        with pytest.raises(import_format.ImportRefused, match="is larger than"):
            import_format.load_import_file(path, max_bytes=size - 1)

    def test_a_deeply_nested_file_is_a_clear_refusal(self, tmp_path: Path, handlaggare: User) -> None:
        # Deep enough to overflow the parser's stack (it raised RecursionError before the check).
        depth = max(100_000, sys.getrecursionlimit() * 20)
        path = tmp_path / "deep.json"
        path.write_text('{"format": "skyddsnat-import", "cases": ' + "[" * depth + "]" * depth + "}", "utf-8")
        message = refused(path)
        assert "nests arrays or objects more than 8 levels deep" in message
        assert_nothing_imported()

    def test_nesting_beyond_the_format_is_refused_even_where_it_would_parse(
        self, tmp_path: Path, handlaggare: User
    ) -> None:
        data = example()
        data["cases"][0]["classification"]["children"]["age_bands"] = [[[[["0-2"]]]]]
        assert "more than 8 levels deep" in refused(write(tmp_path, data))

    def test_brackets_in_text_are_not_nesting(self, tmp_path: Path, handlaggare: User) -> None:
        data = example()
        data["cases"][0]["summary"] = 'Citat: "[[[[[[[[[[{{{{{{{{{{" och \\ slut'
        assert "Imported 3 case(s)" in run(write(tmp_path, data))

    def test_nesting_is_measured_outside_strings(self) -> None:
        assert import_format.nesting_depth('{"a": "[[[\\"{{", "b": [[1]]}') == 3
        assert import_format.nesting_depth("[" * 50 + "]" * 50) == 50

"""The rules of a classification hold whichever way it comes in: the form, the importer and the actions
(any other caller) each refuse every rule of ``cases.records.CLASSIFICATION_RULES``.

The nulägesbild's disclosure control counts on them: a reader knows every case has a context and that
"witnessed" and "orosanmälan" need children, so a file that could record otherwise would make the
published relations false. Before, the importer took a case with no context, children details with no
children, and the three derived flags by hand.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from django.utils import timezone

from access.models import Membership
from cases import records
from cases.actions import CaseActionError, do_open_case, do_update_classification
from cases.forms import ClassificationForm
from cases.importing import ImportRejected, validate_import
from cases.models import Case
from cases.records import Children, Classification, PersonData
from tests.cases.test_import import example

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PARTNER = ["vinr_partner"]


def breaking(rule: str) -> Classification:
    """A classification that breaks exactly ``rule``."""
    samples = {
        records.CONTEXT_REQUIRED: Classification(forms=["fysiskt"]),
        records.TOO_MANY_CHILDREN: Classification(contexts=PARTNER, children=Children(count=21)),
        records.CHILD_DETAILS_WITHOUT_CHILDREN: Classification(
            contexts=PARTNER, children=Children(count=0, witnessed=True)
        ),
        records.REPORT_DATE_WITHOUT_REPORT: Classification(
            contexts=PARTNER, children=Children(count=1, report_date=TODAY - datetime.timedelta(days=3))
        ),
        records.REPORT_DATE_IN_FUTURE: Classification(
            contexts=PARTNER,
            children=Children(count=1, report_made=True, report_date=TODAY + datetime.timedelta(days=3)),
        ),
        records.SUBTYPE_WITHOUT_HONOUR_CONTEXT: Classification(
            contexts=PARTNER, honour_subtypes=["tvangsaktenskap"]
        ),
        records.DERIVED_FLAG_RECORDED: Classification(contexts=PARTNER, flags=["barn_bevittnat"]),
    }
    return samples[rule]


VALID = Classification(
    contexts=["hrv"],
    honour_subtypes=["tvangsaktenskap"],
    flags=["funktionsnedsattning"],
    children=Children(count=2, age_bands=["3-5"], witnessed=True, report_made=True, report_date=TODAY),
)


def form_data(classification: Classification) -> dict[str, Any]:
    children = classification.children
    data: dict[str, Any] = {
        "contexts": classification.contexts,
        "violence_forms": classification.forms,
        "honour_subtypes": classification.honour_subtypes,
        "relations": classification.relations,
        "flags": classification.flags,
        "child_count": str(children.count),
        "child_age_bands": children.age_bands,
    }
    if children.witnessed:
        data["children_witnessed"] = "on"
    if children.report_made:
        data["report_made"] = "on"
    if children.report_date:
        data["report_date"] = children.report_date.isoformat()
    return data


def import_data(classification: Classification) -> dict[str, Any]:
    data = example()
    data["cases"] = copy.deepcopy(data["cases"][:1])
    data["cases"][0]["classification"] = {
        **{key: value for key, value in classification.to_json().items() if key != "children"},
        "children": classification.children.to_json(),
    }
    return data


def test_every_rule_has_a_sample_that_breaks_it_alone() -> None:
    for rule in records.CLASSIFICATION_RULES:
        assert breaking(rule).broken_rules(today=TODAY) == [rule]
    assert VALID.broken_rules(today=TODAY) == []


@pytest.mark.parametrize("rule", records.CLASSIFICATION_RULES)
def test_the_form_refuses_it(rule: str) -> None:
    assert not ClassificationForm(form_data(breaking(rule))).is_valid()


@pytest.mark.parametrize("rule", records.CLASSIFICATION_RULES)
def test_the_importer_refuses_it(rule: str, handlaggare_membership: Membership) -> None:
    with pytest.raises(ImportRejected) as rejected:
        validate_import(import_data(breaking(rule)), agency=handlaggare_membership.agency, today=TODAY)
    assert all(problem.path.startswith("cases[1].classification") for problem in rejected.value.problems)


@pytest.mark.parametrize("rule", records.CLASSIFICATION_RULES)
def test_the_actions_refuse_it(rule: str, handlaggare_membership: Membership, case: Case) -> None:
    before = Case.objects.count()
    with pytest.raises(CaseActionError, match=records.rule_message(rule)):
        do_open_case(
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            person=PersonData(name="Regel Provsson"),
            classification=breaking(rule),
        )
    assert Case.objects.count() == before
    with pytest.raises(CaseActionError):
        do_update_classification(
            case,
            acting_user=handlaggare_membership.user,
            membership=handlaggare_membership,
            classification=breaking(rule),
        )


def test_a_valid_classification_passes_all_three(handlaggare_membership: Membership) -> None:
    assert ClassificationForm(form_data(VALID)).is_valid()
    (row,) = validate_import(import_data(VALID), agency=handlaggare_membership.agency, today=TODAY)
    assert row.classification.to_json() == VALID.to_json()


def test_a_case_without_classification_is_refused_by_the_importer(handlaggare_membership: Membership) -> None:
    data = import_data(VALID)
    del data["cases"][0]["classification"]
    with pytest.raises(ImportRejected) as rejected:
        validate_import(data, agency=handlaggare_membership.agency, today=TODAY)
    assert [str(problem) for problem in rejected.value.problems] == [
        "record 1: cases[1].classification: is required: every case has at least one context."
    ]

"""Each app declares its own free-text fields for retention (core.retention); supervision's
retention reads them. The declarations must be exactly what retention blanked when it listed the
fields itself: the frozen copy below."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldDoesNotExist

from complaints.models import Complaint
from core.retention import free_text_declared, free_text_fields, free_text_register
from listeners.models import ListenerProfile

FROZEN_FREE_TEXT = {
    "complaints.Complaint": ("content", "demands_other", "resolution", "rejection_reason", "satisfaction_comment"),
    "complaints.ConflictDeclaration": ("reason",),
    "evaluations.ContactRecord": (
        "summary",
        "expectations",
        "conflict_points",
        "evidence_notes",
        "confirmed_demands",
        "listener_account",
        "listener_understanding",
        "listener_view_of_demands",
    ),
    "evaluations.InformationRequest": ("question", "answer"),
    "evaluations.ListenerStatement": ("body", "shared_content", "shared_demands_other"),
    "evaluations.Evaluation": (
        "facts_rationale",
        "evidence_cited",
        "demand_rationale",
        "competence_rationale",
        "awareness_rationale",
        "outcome_rationale",
        "disagreements",
    ),
    "evaluations.Decision": (
        "adjustment_reason",
        "text_to_complainant",
        "text_to_listener",
        "listener_response_reason",
        "returned_reason",
    ),
    "evaluations.Appeal": ("reason", "outcome_note"),
}


def test_the_apps_declare_exactly_the_free_text_retention_blanked_before():
    assert free_text_declared() == FROZEN_FREE_TEXT


def test_a_model_that_declared_nothing_is_refused_rather_than_kept_silently():
    with pytest.raises(LookupError):
        free_text_fields(ListenerProfile)


def test_a_declaration_names_only_text_fields_the_model_has():
    with pytest.raises(FieldDoesNotExist):
        free_text_register(Complaint, ["no_such_field"])
    with pytest.raises(ValueError, match="not a text field"):
        free_text_register(Complaint, ["priority"])

    assert free_text_fields(Complaint) == FROZEN_FREE_TEXT["complaints.Complaint"]

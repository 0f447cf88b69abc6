from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_fsm import ANY_OTHER_STATE, ANY_STATE, Transition

from complaints.models import Complaint
from core.state_machines import build_machine, fsm_fields, render_mermaid


def test_committed_state_machine_docs_match_the_code():
    # when / then: raises CommandError naming the stale files otherwise
    call_command("draw_state_machines", "--check")


def test_check_fails_when_a_drawing_on_disk_differs(tmp_path):
    # given
    call_command("draw_state_machines", "--output-dir", str(tmp_path))
    page = tmp_path / "complaints.Complaint.state.md"
    page.write_text(page.read_text(encoding="utf-8").replace("submitted --> triage", "submitted --> closed"))

    # when / then
    with pytest.raises(CommandError, match=r"complaints\.Complaint\.state\.md"):
        call_command("draw_state_machines", "--check", "--output-dir", str(tmp_path))


def test_check_fails_when_a_drawing_has_no_machine_left(tmp_path):
    # given
    call_command("draw_state_machines", "--output-dir", str(tmp_path))
    (tmp_path / "complaints.Gone.state.md").write_text("# gone\n")

    # when / then
    with pytest.raises(CommandError, match=r"complaints\.Gone\.state\.md"):
        call_command("draw_state_machines", "--check", "--output-dir", str(tmp_path))


def test_every_fsm_machine_is_found_without_a_list():
    keys = {f"{model._meta.label}.{field.name}" for model, field in fsm_fields()}

    assert {"complaints.Complaint.state", "evaluations.Decision.state", "supervision.EthicsCase.state"} <= keys
    assert "interviews.CompetencyInterview.state" in keys
    assert not any("Event" in key for key in keys), "pghistory copies of state are not machines"


def test_complaint_graph_has_the_triage_edge_and_its_conditions():
    field = Complaint._meta.get_field("state")

    diagram = render_mermaid(build_machine(Complaint, field))

    assert "    [*] --> submitted\n" in diagram
    assert "    submitted --> triage : start_triage\n" in diagram
    assert "    triage --> resolved : resolve_directly [has_resolution]\n" in diagram
    assert "    submitted : 已提交 / Submitted\n" in diagram
    assert "    archived --> [*]\n" in diagram


def test_any_state_sources_are_drawn_from_every_state():
    # given: a field stub carrying transitions with "*" and "+" sources, outside the app registry
    def reopen():
        pass

    def cancel():
        pass

    def can_cancel(instance):
        return True

    transitions = [
        Transition(reopen, "done", "open", None, None, None, None),
        Transition(cancel, ANY_OTHER_STATE, "cancelled", None, [can_cancel], None, None),
        Transition(reopen, ANY_STATE, "open", None, None, None, None),
    ]
    field = SimpleNamespace(
        name="state",
        choices=[("open", "Open"), ("done", "Done"), ("cancelled", "Cancelled")],
        default="open",
        get_all_transitions=lambda model: iter(transitions),
    )

    # when
    diagram = render_mermaid(build_machine(Complaint, field))

    # then
    assert "    open --> cancelled : cancel [can_cancel] (from any other state)\n" in diagram
    assert "    done --> cancelled : cancel [can_cancel] (from any other state)\n" in diagram
    assert "cancelled --> cancelled : cancel" not in diagram
    assert "    cancelled --> open : reopen (from any state)\n" in diagram
    assert "    open --> open : reopen (from any state)\n" in diagram
    assert "    done --> open : reopen\n" in diagram

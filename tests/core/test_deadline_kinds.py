"""Each app declares its own deadline kinds and their default policies; core names none."""

import ast
from datetime import timedelta
from pathlib import Path

from core.deadline_kinds import DeadlineKind, deadline_kinds
from core.models import DeadlinePolicy

ROOT = Path(__file__).resolve().parents[2]

# What core/defaults.py held before the kinds moved to their apps: (duration, remind before,
# escalate to supervisors, raise priority). The move must not change a single policy.
BEFORE = {
    "first_response": (timedelta(hours=24), timedelta(hours=4), True, True),
    "triage": (timedelta(hours=24), timedelta(hours=4), True, True),
    "investigation": (timedelta(days=7), timedelta(days=1), True, True),
    "decision": (timedelta(days=3), timedelta(hours=12), True, True),
    "interview_result": (timedelta(days=7), timedelta(days=1), True, False),
    "case_report": (timedelta(days=2), timedelta(days=1), True, False),
    "listener_task": (timedelta(days=14), timedelta(days=2), True, False),
    "listener_statement": (timedelta(days=3), timedelta(days=1), True, False),
    "satisfaction_survey": (timedelta(days=7, hours=1), timedelta(days=7), False, False),
    "break_ack": (timedelta(hours=1), timedelta(minutes=30), True, False),
}


def test_the_declared_kinds_keep_every_default_policy():
    declared = {
        str(s.kind): (s.duration, s.remind_before, s.escalate_to_supervisors, s.raise_priority)
        for s in deadline_kinds()
    }

    assert declared == BEFORE


def test_the_policies_loaded_are_the_declared_ones(db):
    loaded = {
        p.kind: (p.duration, p.remind_before, p.escalate_to_supervisors, p.raise_priority)
        for p in DeadlinePolicy.objects.all()
    }

    assert loaded == BEFORE


def test_kinds_read_with_their_labels_and_offer_themselves_as_choices():
    assert DeadlineKind.BREAK_ACK == "break_ack"
    assert str(DeadlineKind("listener_task").label) == "倾听师任务"
    assert ("case_report", "个案报告") in [
        (k, str(label)) for k, label in DeadlinePolicy._meta.get_field("kind").choices
    ]


def test_core_spells_no_kind_of_an_app_above_it():
    spelled = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in BEFORE:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
            if isinstance(node, ast.Attribute) and node.attr.lower() in BEFORE:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")

    assert spelled == []

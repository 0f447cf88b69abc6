"""The kinds of obligation that have a deadline, declared by the apps that own them.

Core keeps the registry and the deadline machinery but names no kind: complaints declares first
response, triage, investigation, decision, the listener's statement and the satisfaction survey;
listeners the listener's task; interviews the result and the case report; supervision the
acknowledgement of a confidentiality-break report. Each declaration carries its default policy,
which ``core.defaults.policies_load`` writes once (supervisors edit it in the admin afterwards).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


class Kind(str):
    """A kind's value (what the database stores) that also knows its label."""

    label: Any

    def __new__(cls, value: str, label: Any) -> Kind:
        kind = super().__new__(cls, value)
        kind.label = label
        return kind


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    duration: timedelta
    remind_before: timedelta
    escalate_to_supervisors: bool
    raise_priority: bool
    # The emails a due reminder and a breach send: the survey invites, then reminds once.
    reminder_template: str
    breach_template: str
    breach_urgent: bool


_KINDS: dict[str, KindSpec] = {}


def deadline_kind_register(
    value: str,
    label: Any,
    *,
    duration: timedelta,
    remind_before: timedelta,
    escalate_to_supervisors: bool = True,
    raise_priority: bool = False,
    reminder_template: str = "deadline_reminder",
    breach_template: str = "deadline_breached",
    breach_urgent: bool = True,
) -> Kind:
    """Declare a kind with its default policy; returns the value to use in code. Idempotent."""
    kind = Kind(value, label)
    _KINDS[value] = KindSpec(
        kind,
        duration,
        remind_before,
        escalate_to_supervisors,
        raise_priority,
        reminder_template,
        breach_template,
        breach_urgent,
    )
    return kind


def deadline_kinds() -> list[KindSpec]:
    return [_KINDS[value] for value in sorted(_KINDS)]


def deadline_kind_choices() -> list[tuple[str, Any]]:
    """The model fields' choices, read when a form or check needs them (after the apps declared)."""
    return [(spec.kind, spec.kind.label) for spec in deadline_kinds()]


def deadline_kind_spec(value: str) -> KindSpec:
    return _KINDS[value]


class _Kinds:
    """``DeadlineKind.FIRST_RESPONSE`` and ``DeadlineKind("first_response").label``, answered from
    what the apps declared (core spells none of them)."""

    def __getattr__(self, name: str) -> Kind:
        spec = _KINDS.get(name.lower())
        if spec is None:
            raise AttributeError(name)
        return spec.kind

    def __call__(self, value: str) -> Kind:
        return _KINDS[str(value)].kind

    @property
    def choices(self) -> list[tuple[str, Any]]:
        return deadline_kind_choices()


DeadlineKind: Any = _Kinds()

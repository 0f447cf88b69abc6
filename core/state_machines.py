"""Mermaid drawings of every django-fsm state machine, read from the transition metadata.

``manage.py draw_state_machines`` writes them to ``docs/state-machines/``; the test suite runs it
with ``--check`` so a drawing cannot fall behind the code. Models are discovered through the app
registry, so core imports no app above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import django_fsm as fsm
from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.encoding import force_str

# The site's own language is the msgid; English is the second catalogue.
PRIMARY_LANGUAGE = None  # gettext with no catalogue returns the msgid (简体中文)
SECOND_LANGUAGE = "en"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MERMAID_KEYWORDS = {"state", "note", "end", "direction", "class", "classDef", "click", "style"}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    name: str
    conditions: tuple[str, ...]
    via: str = ""  # "*", "+", "on error" or "" for a plain source list


@dataclass(frozen=True)
class Row:
    """One transition as declared: what the table under the drawing lists."""

    name: str
    sources: str
    target: str
    conditions: str
    permission: str


@dataclass(frozen=True)
class Machine:
    model: type[models.Model]
    field: fsm.FSMFieldMixin
    states: tuple[str, ...]
    labels: dict[str, str]
    initial: str | None
    edges: tuple[Edge, ...]
    rows: tuple[Row, ...]

    @property
    def key(self) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.{opts.object_name}.{self.field.name}"

    @property
    def filename(self) -> str:
        return f"{self.key}.md"


def fsm_fields() -> list[tuple[type[models.Model], fsm.FSMFieldMixin]]:
    """Every FSM field with transitions on an installed model, sorted by app, model and field.

    A field without transitions is a copy, not a machine (pghistory's event models copy ``state``).
    """
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, fsm.FSMFieldMixin) and field.model is model and any(field.get_all_transitions(model)):
                found.append((model, field))
    return sorted(found, key=lambda mf: (mf[0]._meta.app_label, mf[0]._meta.object_name or "", mf[1].name))


def callable_name(value: Any) -> str:
    if isinstance(value, str):
        return value
    func = getattr(value, "__func__", value)  # staticmethod / bound method
    func = getattr(func, "func", func)  # functools.partial
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _short_name(value: Any) -> str:
    # "Complaint.has_resolution" -> "has_resolution"; a permission codename stays whole.
    if isinstance(value, str):
        return value
    return callable_name(value).rsplit(".", 1)[-1]


def _label(field: fsm.FSMFieldMixin, state: str) -> str:
    choices = {force_str(value): text for value, text in (field.choices or [])}
    if state not in choices:
        return state
    with translation.override(PRIMARY_LANGUAGE):
        primary = force_str(choices[state])
    with translation.override(SECOND_LANGUAGE):
        second = force_str(choices[state])
    return primary if second == primary else f"{primary} / {second}"


def _states_of(value: Any) -> list[str]:
    if isinstance(value, fsm.State):
        return [force_str(s) for s in value.allowed_states]
    return [force_str(value)]


def build_machine(model: type[models.Model], field: fsm.FSMFieldMixin) -> Machine:
    declared = [force_str(value) for value, _text in (field.choices or [])]
    transitions = sorted(field.get_all_transitions(model), key=lambda t: (t.name, force_str(t.source)))

    seen: list[str] = list(declared)

    def note(state: str) -> None:
        if state not in seen:
            seen.append(state)

    pending: list[tuple[str, list[str], Any]] = []
    rows: dict[tuple[str, str, str, str], list[str]] = {}
    for t in transitions:
        source = force_str(t.source)
        targets = [source] if t.target is None else _states_of(t.target)
        for target in targets:
            note(target)
        if source not in (fsm.ANY_STATE, fsm.ANY_OTHER_STATE):
            note(source)
        conditions = tuple(_short_name(c) for c in t.conditions)
        pending.append((source, targets, t))
        target_text = "(unchanged)" if t.target is None else ", ".join(targets) or "(computed)"
        if t.on_error is not None:
            target_text += f"; on error: {force_str(t.on_error)}"
            note(force_str(t.on_error))
        key = (
            t.name,
            target_text,
            ", ".join(conditions),
            "" if t.permission is None else _short_name(t.permission),
        )
        rows.setdefault(key, []).append(source)

    order = {state: i for i, state in enumerate(seen)}
    edges: set[Edge] = set()
    for source, targets, t in pending:
        conditions = tuple(_short_name(c) for c in t.conditions)
        if source == fsm.ANY_STATE:
            froms, via = list(seen), "*"
        elif source == fsm.ANY_OTHER_STATE:
            froms, via = [s for s in seen if s not in targets], "+"
        else:
            froms, via = [source], ""
        for start in froms:
            for target in targets:
                edges.add(Edge(start, target, t.name, conditions, via))
            if t.on_error is not None:
                edges.add(Edge(start, force_str(t.on_error), t.name, conditions, "on error"))

    def state_key(state: str) -> tuple[int, str]:
        return (order.get(state, len(order)), state)

    default = field.default if not callable(field.default) else None
    initial = force_str(default) if default not in (None, models.NOT_PROVIDED) else None
    return Machine(
        model=model,
        field=field,
        states=tuple(seen),
        labels={state: _label(field, state) for state in seen},
        initial=initial,
        edges=tuple(sorted(edges, key=lambda e: (state_key(e.source), state_key(e.target), e.name, e.via))),
        rows=tuple(
            Row(name, ", ".join(sorted(sources, key=state_key)), target, conditions, permission)
            for (name, target, conditions, permission), sources in sorted(rows.items())
        ),
    )


def machines() -> list[Machine]:
    return [build_machine(model, field) for model, field in fsm_fields()]


def node_id(state: str) -> str:
    if _IDENTIFIER.fullmatch(state) and state not in _MERMAID_KEYWORDS:
        return state
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", state)


def _edge_label(edge: Edge) -> str:
    label = edge.name
    if edge.conditions:
        label += f" [{', '.join(edge.conditions)}]"
    if edge.via == "*":
        label += " (from any state)"
    elif edge.via == "+":
        label += " (from any other state)"
    elif edge.via == "on error":
        label += " (on error)"
    return label.replace(":", " ").replace(";", ",")


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "—"


def render_mermaid(machine: Machine) -> str:
    lines = ["stateDiagram-v2"]
    for state in machine.states:
        lines.append(f"    {node_id(state)} : {machine.labels[state].replace(':', ' ')}")
    if machine.initial is not None:
        lines.append(f"    [*] --> {node_id(machine.initial)}")
    for edge in machine.edges:
        lines.append(f"    {node_id(edge.source)} --> {node_id(edge.target)} : {_edge_label(edge)}")
    leaving = {edge.source for edge in machine.edges}
    for state in machine.states:
        if state not in leaving:
            lines.append(f"    {node_id(state)} --> [*]")
    return "\n".join(lines) + "\n"


def render_page(machine: Machine) -> str:
    opts = machine.model._meta
    with translation.override(PRIMARY_LANGUAGE):
        verbose = force_str(opts.verbose_name)
    parts = [
        f"# {machine.key}\n",
        "\n",
        f"{verbose} — `{opts.app_label}/models.py`, field `{machine.field.name}`. "
        "Generated by `manage.py draw_state_machines` from the django-fsm transitions; do not edit by hand.\n",
        "\n",
        "```mermaid\n",
        render_mermaid(machine),
        "```\n",
        "\n",
        "| transition | from | to | conditions | permission |\n",
        "|---|---|---|---|---|\n",
    ]
    for row in machine.rows:
        cells = (f"`{row.name}`", row.sources, row.target, row.conditions, row.permission)
        parts.append("| " + " | ".join(_cell(c) for c in cells) + " |\n")
    return "".join(parts)


def render_index(all_machines: list[Machine]) -> str:
    parts = [
        "# State machines\n",
        "\n",
        "Every django-fsm field of the installed models, drawn from the code by "
        "`manage.py draw_state_machines` (`--check` fails when a drawing here is stale).\n",
        "\n",
        "| machine | states | transitions |\n",
        "|---|---|---|\n",
    ]
    for machine in all_machines:
        parts.append(
            f"| [{machine.key}]({machine.filename}) | {len(machine.states)} | {len(machine.rows)} |\n",
        )
    return "".join(parts)


def expected_files() -> dict[str, str]:
    """File name (inside docs/state-machines/) -> content the code gives, in a stable order."""
    all_machines = machines()
    files = {machine.filename: render_page(machine) for machine in all_machines}
    files["README.md"] = render_index(all_machines)
    return dict(sorted(files.items()))

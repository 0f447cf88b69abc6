"""No module over 500 lines and no function over 60 lines (issue 11, section 4).

A module that grows past ~500 lines usually holds two steps of the workflow, and a function past
60 lines usually does two things. Today's offenders are listed below with their size now: an
entry may only shrink. The test fails when a listed module or function grows past its listed
size, when a new one crosses the limit, and when a listed one no longer needs its entry (it is
under the limit, or gone), so the list cannot go stale: take the entry out in the commit that
fixes it.

Migrations, tests and the benchmarks in bench/ are not measured.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE_LIMIT = 500
FUNCTION_LIMIT = 60
NOT_MEASURED = {"tests", "bench", "node_modules", "static", "templates", "locale", "docs"}

# Module (path from the repository root) -> its line count when it was listed.
MODULES_OVER_LIMIT: dict[str, int] = {
    "evaluations/views.py": 756,
    "supervision/metrics.py": 573,
    "supervision/services.py": 546,
}

# "module:qualified.name" -> the function's length in lines (its def line to its last line).
FUNCTIONS_OVER_LIMIT: dict[str, int] = {
    "complaints/export.py:complainant_export_data": 63,
    "complaints/services/intake.py:complaint_submit": 130,
    "core/outbox.py:outbox_deliver": 63,
    "core/state_machines.py:build_machine": 66,
    "evaluations/archive.py:archive_context": 64,
    "evaluations/services/appeal.py:appeal_resolve": 68,
    "interviews/services/result.py:_result_apply": 69,
    "interviews/services/booking.py:interview_book": 65,
    "portal/views.py:complaint_detail": 90,
    "supervision/dashboard.py:_reports": 76,
    "supervision/metrics.py:complaint_breakdowns": 71,
    "supervision/metrics.py:listener_complaint_rates": 70,
    "supervision/services.py:ethics_case_decide": 72,
}


def project_modules() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in NOT_MEASURED or "migrations" in parts or any(p.startswith(".") for p in parts):
            continue
        yield path


def module_sizes() -> dict[str, int]:
    return {
        str(p.relative_to(ROOT).as_posix()): len(p.read_text(encoding="utf-8").splitlines()) for p in project_modules()
    }


def function_sizes() -> dict[str, int]:
    """Every function and method, nested ones included, by "module:Class.method" name."""
    sizes: dict[str, int] = {}

    def visit(node: ast.AST, module: str, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                sizes[f"{module}:{name}"] = (child.end_lineno or child.lineno) - child.lineno + 1
                visit(child, module, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, module, f"{prefix}{child.name}.")
            else:
                visit(child, module, prefix)

    for path in project_modules():
        module = path.relative_to(ROOT).as_posix()
        visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), module, "")
    return sizes


def offences(sizes: dict[str, int], limit: int, allowed: dict[str, int]) -> list[str]:
    problems = []
    for name, size in sorted(sizes.items()):
        if size <= limit:
            continue
        if name not in allowed:
            problems.append(f"{name}: {size} lines, over the limit of {limit}; split it")
        elif size > allowed[name]:
            problems.append(f"{name}: grew to {size} lines, past its allowance of {allowed[name]}; shrink it")
    for name, listed in sorted(allowed.items()):
        if sizes.get(name, 0) <= limit:
            problems.append(f"{name}: no longer over {limit} lines; remove its entry (listed at {listed})")
    return problems


def test_no_module_is_over_500_lines_unless_listed_and_not_growing() -> None:
    assert offences(module_sizes(), MODULE_LIMIT, MODULES_OVER_LIMIT) == []


def test_no_function_is_over_60_lines_unless_listed_and_not_growing() -> None:
    assert offences(function_sizes(), FUNCTION_LIMIT, FUNCTIONS_OVER_LIMIT) == []


def test_the_measure_sees_the_project_and_skips_migrations_tests_and_bench() -> None:
    measured = module_sizes()
    assert "complaints/admin.py" in measured
    assert "evaluations/services/decision.py" in measured
    assert not any("/migrations/" in name or name.startswith(("tests/", "bench/")) for name in measured)


def test_an_allowance_fails_when_it_grows_when_it_is_new_and_when_it_is_no_longer_needed() -> None:
    allowed = {"a.py": 600, "b.py": 550, "gone.py": 700}

    problems = offences({"a.py": 601, "b.py": 540, "c.py": 501, "d.py": 499}, 500, allowed)

    assert problems == [
        "a.py: grew to 601 lines, past its allowance of 600; shrink it",
        "c.py: 501 lines, over the limit of 500; split it",
        "gone.py: no longer over 500 lines; remove its entry (listed at 700)",
    ]

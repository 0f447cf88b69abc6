"""The app layers of STYLE.md, checked on the source: no app imports an app above it.

Every import counts, including those under ``if TYPE_CHECKING:`` and inside functions, so a
lower app stays readable (and type-checkable) without the ones above it.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

# Lowest first; config (settings, urls, celery app) may import everything.
LAYERS = ["core", "accounts", "listeners", "complaints", "interviews", "evaluations", "supervision", "portal", "config"]
RANK = {app: i for i, app in enumerate(LAYERS)}

# Upward imports that exist on purpose, as "file: imported module". Keep this list short; a new
# entry needs a reason here.
ALLOWED = {
    # core's data migrations grant the role permissions of core's new models by calling
    # accounts' roles_sync with the historical apps. They are applied history and run only
    # at migrate time; rewriting them would change what an existing database has run.
    "core/migrations/0004_role_permissions.py: accounts.roles",
    "core/migrations/0006_outbox_permissions.py: accounts.roles",
}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def upward_imports() -> list[str]:
    base = Path(settings.BASE_DIR)
    found = []
    for app in LAYERS:
        for path in sorted((base / app).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for lineno, module in _imported_modules(tree):
                top = module.split(".")[0]
                if top in RANK and RANK[top] > RANK[app]:
                    found.append((f"{path.relative_to(base).as_posix()}: {module}", lineno))
    return [f"{entry} (line {lineno})" for entry, lineno in found if entry not in ALLOWED]


def test_every_project_app_has_a_place_in_the_layers():
    base = Path(settings.BASE_DIR).resolve()
    ours = {config.label for config in apps.get_app_configs() if Path(config.path).resolve().parent == base}

    assert ours, "no project apps found"
    assert ours <= set(LAYERS), f"put these apps in STYLE.md's layers and in LAYERS: {sorted(ours - set(LAYERS))}"


def test_no_app_imports_an_app_above_it():
    offenders = upward_imports()

    assert not offenders, "upward imports (STYLE.md, Apps as layers):\n" + "\n".join(offenders)


def test_core_does_not_import_accounts_even_for_type_checking():
    # given: the lowest plumbing names the user model through settings.AUTH_USER_MODEL only
    base = Path(settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(base)}:{lineno} {module}"
        for path in sorted((base / "core").rglob("*.py"))
        if "migrations" not in path.parts
        for lineno, module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.split(".")[0] == "accounts"
    ]

    assert offenders == []


def test_the_allow_list_holds_only_imports_that_still_exist():
    base = Path(settings.BASE_DIR)
    stale = []
    for entry in sorted(ALLOWED):
        file, module = entry.split(": ")
        modules = {m for _, m in _imported_modules(ast.parse((base / file).read_text(encoding="utf-8")))}
        if module not in modules:
            stale.append(entry)

    assert stale == [], "remove these from ALLOWED"

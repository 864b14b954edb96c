"""The layers of docs/architecture.md, checked on the imports of every module of the app."""
import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
BLUEPRINTS = ("auth", "firm", "lender", "regulator", "platform", "dataadmin", "api", "ops", "messages", "notifications")
ENGINES = ("matching", "credit", "ingest")


def _package(module):
    """The first package under `app` of a dotted module name (`app.services.x` → `services`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" else None


def imports_of(path):
    """Every `app.…` module a file imports, relative imports resolved, at any depth in the file."""
    here = path.relative_to(APP.parent).with_suffix("").parts
    package = here[:-1] if here[-1] != "__init__" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


def modules_of(package):
    return sorted((APP / package).rglob("*.py")) if (APP / package).is_dir() else [APP / f"{package}.py"]


def _offences(packages, forbidden):
    offences = []
    for package in packages:
        for path in modules_of(package):
            bad = sorted(m for m in imports_of(path) if _package(m) in forbidden)
            offences += [f"{path.relative_to(APP.parent)} imports {m}" for m in bad]
    return offences


def test_resolves_relative_imports():
    module = APP / "services" / "needs.py"
    assert "app.common.errors" in imports_of(module)
    assert imports_of(APP / "services" / "applications.py") >= {"app.services.audit"}


@pytest.mark.parametrize("package", [*ENGINES, "entities"])
def test_engines_and_entities_import_no_service_or_blueprint(package):
    assert _offences([package], {"services", *BLUEPRINTS, "cli", "forms", "access"}) == []


def test_the_leaf_package_imports_nothing_else_of_the_app():
    allowed = {"common", None}
    offences = [f"{path.relative_to(APP.parent)} imports {m}" for path in modules_of("common")
                for m in imports_of(path) if _package(m) not in allowed]
    assert offences == []


def test_services_import_no_blueprint():
    assert _offences(["services"], {*BLUEPRINTS, "cli"}) == []


def test_services_and_engines_leave_the_jobs_to_their_callers():
    """A service stages a run; the page or command that called it submits the job (app/jobs)."""
    assert _offences(["services", *ENGINES, "entities"], {"jobs"}) == []


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_no_blueprint_imports_another(blueprint):
    assert _offences([blueprint], set(BLUEPRINTS) - {blueprint}) == []

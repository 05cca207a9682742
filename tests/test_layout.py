"""The shape of the package: the folder listing reads as the flow, imports go one way.

cli -> pipelines (ingest/pipeline, process/pipeline) -> stages -> db.  The read
side (report/) is never imported by ingest/ or process/; db/ imports no stage;
nothing but cli/ imports cli/; and no module name collides with another on a
case-insensitive filesystem or shadows a standard-library module.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dbprocessing"
LAYERS = ("mission", "ingest", "process", "report", "check", "db", "cli")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path) -> set[str]:
    """Absolute names of the dbprocessing modules (or packages) *name* imports."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None or target == "dbprocessing":  # from . import x
                found.update(f"{target}.{a.name}" for a in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {t for t in found if t.startswith("dbprocessing")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


IMPORTS = {name: _imports(name, path) for name, path in _modules().items()}
FORBIDDEN = {  # importer layer -> layers it must not import
    "db": {"mission", "ingest", "process", "report", "cli"},
    "mission": {"ingest", "process", "report", "cli"},
    "ingest": {"process", "report", "cli"},  # process ingests its outputs, not back
    "process": {"report", "cli"},
    "report": {"cli"},
    "check": {"cli"},
}


@pytest.mark.parametrize("importer", sorted(n for n in IMPORTS if _layer(n) in FORBIDDEN))
def test_imports_go_one_way(importer):
    bad = sorted(t for t in IMPORTS[importer] if _layer(t) in FORBIDDEN[_layer(importer)])
    assert bad == [], f"{importer} imports {bad}"


def test_only_cli_imports_cli():
    bad = sorted((n, t) for n, ts in IMPORTS.items() for t in ts
                 if _layer(t) == "cli" and _layer(n) != "cli")
    assert bad == []


def test_the_frozen_plugin_api_stays_where_plugins_import_it():
    for name in ("inspector", "Version", "DBlogging"):
        assert (PACKAGE / f"{name}.py").is_file()


def test_no_names_differ_only_by_case():
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir())]:
        names = [p.stem if p.suffix == ".py" else p.name for p in folder.iterdir()
                 if p.name != "__pycache__"]
        lowered = [n.lower() for n in names]
        assert sorted({n for n in names if lowered.count(n.lower()) > 1}) == [], folder


def test_no_module_shadows_the_standard_library():
    names = {p.stem if p.suffix == ".py" else p.name for p in PACKAGE.rglob("*")
             if p.name not in ("__pycache__", "__init__.py")}
    assert sorted(names & set(sys.stdlib_module_names)) == []


def test_docs_architecture_names_every_module():
    """docs/architecture.md's table is the code map: a module it does not name
    (itself, or its package folder for cli/ and executors/) is a map out of date."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py" or "migrations" in relative:
            continue
        folder = relative.rsplit("/", 1)[0] + "/"
        if f"`{relative}`" not in text and folder not in ("cli/", "process/executors/"):
            missing.append(relative)
    assert missing == []

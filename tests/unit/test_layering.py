"""House rules that keep the layers honest."""

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_pipeline_never_imports_airflow_dags_or_plugins():
    offenders = {
        str(p.relative_to(REPO)): bad
        for p in (REPO / "pipeline").rglob("*.py")
        if (bad := _imports(p) & {"airflow", "dags", "plugins", "newsflow_airflow"})
    }
    assert offenders == {}


def test_importing_the_whole_pipeline_does_not_load_airflow():
    code = (
        "import importlib, pkgutil, sys, pipeline\n"
        "for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('airflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_no_sql_in_fstrings():
    """SQL lives in sql/; Python may only pass values as parameters."""
    pattern = re.compile(r"""f["'](?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP)\b""", re.IGNORECASE)
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "pipeline").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_every_cli_command_is_documented_in_readme():
    """Documented in README.md or in one of the docs/*.md pages it links to."""
    from pipeline.cli import build_parser

    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    readme = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for name, p in sub.choices.items():
        nested = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        commands = [f"newsflow {name} {n}" for n in nested[0].choices] if nested else [f"newsflow {name}"]
        missing += [c for c in commands if c not in readme]
    assert missing == []


# The stage order, lowest first.  A module may import its own tier and the tiers below it,
# never a later one: storage never knows the algorithms, ingestion never writes the
# warehouse, scoring never knows the front door.  Imports inside functions count the same:
# a lazy import hides a cycle from Python, not the dependency.
TIERS = {
    # foundations: settings, errors, plain records, redaction
    "config": 0, "errors": 0, "models": 0, "indexed": 0, "redact": 0, "failpoints": 0, "progress": 0,
    "extract": 1,  # pure functions over text and HTML
    "lake": 2,  # storage
    "feeds": 3, "normalize": 3, "ingest": 3, "backfill": 3, "revisions": 3,  # ingestion
    "dedup": 4,
    "warehouse": 5, "search": 5,  # the search index follows the warehouse's ledger; loads call it
    "related": 6,
    "api": 7,
    # the front door and orchestration: every stage below, no stage imports them
    "stages": 8, "run": 8, "cli": 8, "cli_common": 8, "demo_server": 8, "__init__": 8,
    "push_run": 8, "asset_events": 8, "corrections_cli": 8, "push_cli": 8, "backfill_cli": 8, "takedown": 8,
}
# A stage's own command-line adapter and evaluation harness run the whole pipeline and
# belong to the front tier, though they live in the stage's package.
FRONT_FILES = {"cli.py", "evaluate.py"}


def _pipeline_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``pipeline.*`` import in the file, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("pipeline.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("pipeline."):
            out.append((node.lineno, node.module))
    return out


def _tier_of_file(path: Path) -> tuple[str, int]:
    rel = path.relative_to(REPO / "pipeline").with_suffix("")
    unit = rel.parts[0]
    if path.name in FRONT_FILES and len(rel.parts) > 1:
        return f"{unit}/{path.name}", TIERS["cli"]
    return unit, TIERS[unit]


def test_every_pipeline_module_has_a_tier():
    units = {p.relative_to(REPO / "pipeline").with_suffix("").parts[0] for p in (REPO / "pipeline").rglob("*.py")}
    assert units - set(TIERS) == set(), "add the new module to TIERS"


def test_imports_follow_the_stage_order_function_level_included():
    offenders = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        unit, tier = _tier_of_file(path)
        for line, module in _pipeline_imports(path):
            target = module.split(".")[1]
            front = module.rsplit(".", 1)[-1] in {n[:-3] for n in FRONT_FILES} and module.count(".") >= 2
            target_tier = TIERS["cli"] if front else TIERS[target]
            if target_tier > tier:
                offenders.append(f"pipeline/{path.relative_to(REPO / 'pipeline')}:{line} ({unit}, tier {tier}) "
                                 f"imports {module} (tier {target_tier})")
    assert offenders == []


def test_the_layering_check_catches_a_wrong_direction_import(tmp_path, monkeypatch):
    """The check above can fail: a lazy import from storage into dedup is reported."""
    fake = tmp_path / "pipeline" / "lake" / "sneaky.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from pipeline.dedup.index import IndexedDoc\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    try:
        test_imports_follow_the_stage_order_function_level_included()
    except AssertionError as exc:
        assert "pipeline/lake/sneaky.py:2 (lake, tier 2) imports pipeline.dedup.index (tier 4)" in str(exc)
    else:
        raise AssertionError("a wrong-direction import went unnoticed")

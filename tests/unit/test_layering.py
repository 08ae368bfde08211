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

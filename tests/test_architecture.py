"""The layers of docs/architecture.md hold: the import contracts in pyproject.toml pass on the tree, and fail
when a module imports a layer above its own or when two modules import each other."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import esdh

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(esdh.__file__).resolve().parent


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the package found in ``src`` (a copy of the tree, or the tree itself)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=src, timeout=300)


def test_the_tree_keeps_its_import_contracts() -> None:
    result = lint_imports(SRC.parent)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.fixture
def copy_of_the_tree(tmp_path: Path) -> Path:
    shutil.copytree(SRC, tmp_path / "esdh", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


# (module changed, line appended, what lint-imports must say): an upward import, a circle inside a package,
# and an interface reaching past the library each break a contract
BREAKS = [
    ("engine/frame.py", "def _climb() -> None:\n    from esdh.output import dataset  # noqa\n",
     "esdh.engine.frame -> esdh.output.dataset"),
    ("output/tables.py", "from esdh.output import dataset  # noqa\n", "No cycles are allowed in esdh.output"),
    ("cli/main.py", "def _reach() -> None:\n    from esdh.engine import chunks  # noqa\n",
     "esdh.cli.main -> esdh.engine.chunks"),
]


@pytest.mark.parametrize(("module", "line", "said"), BREAKS, ids=["upward", "circle", "interface"])
def test_a_forbidden_import_breaks_the_contracts(copy_of_the_tree: Path, module: str, line: str, said: str) -> None:
    path = copy_of_the_tree / "esdh" / module
    path.write_text(path.read_text() + "\n\n" + line)
    result = lint_imports(copy_of_the_tree)
    assert result.returncode == 1
    assert said in result.stdout


def _layered_modules() -> set[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")["layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def test_every_package_and_module_has_a_layer() -> None:
    """A new top-level package or module must be placed in the layers, or the contract would not see it."""
    present = {f"esdh.{p.stem if p.is_file() else p.name}" for p in SRC.iterdir()
               if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    unplaced = present - _layered_modules() - {"esdh.__main__"}
    assert unplaced == set(), f"add these to the layers in pyproject.toml and docs/architecture.md: {unplaced}"


def test_the_architecture_map_names_every_layer() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for module in _layered_modules():
        name = module.removeprefix("esdh.")
        assert f"`{name}`" in text or f"`{name}/`" in text or f"`{name}.py`" in text, name

"""Built-in datasets: YAML specs shipped in the package, loaded exactly like a user's spec."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from esdh.errors import SpecError, SpecProblem


def pack_names() -> list[str]:
    """Names of the built-in datasets."""
    folder = resources.files("esdh.packs")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("_"))


def pack_path(name: str) -> Path:
    """The YAML file of a built-in dataset."""
    path = Path(str(resources.files("esdh.packs").joinpath(f"{name}.yaml")))
    if not path.exists():
        import difflib

        close = difflib.get_close_matches(name, pack_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"built-in datasets: {', '.join(pack_names())}"
        raise SpecError([SpecProblem("", f"'{name}' is neither a spec file nor a built-in dataset", hint, name)])
    return path

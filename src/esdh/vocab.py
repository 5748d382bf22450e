"""Bundled vocabularies (``esdh/packs/vocab/*.csv``), loaded once per process.

Column types are inferred by pyarrow, except that a column whose name is ``zip`` or ends in
``code`` (``postal_code``, ``area_code``, ...) is always read as a string so leading zeros survive.
"""

from __future__ import annotations

import functools
import io
from importlib import resources

import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["load_vocab", "vocab_names"]

_PACKAGE = "esdh.packs"
_FOLDER = "vocab"


def _is_code_column(name: str) -> bool:
    return name == "zip" or name.endswith("code")


def vocab_names() -> list[str]:
    """The names of the bundled vocabularies (file names without ``.csv``)."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


@functools.cache
def load_vocab(name: str) -> pa.Table:
    """The vocabulary ``name`` (e.g. ``"us_zips"``) as an Arrow table; cached, do not mutate."""
    resource = resources.files(_PACKAGE).joinpath(_FOLDER, f"{name}.csv")
    if not resource.is_file():
        raise KeyError(f"no vocabulary named '{name}' (known: {', '.join(vocab_names())})")
    data = resource.read_bytes()
    header = data.split(b"\n", 1)[0].decode("utf-8").strip().split(",")
    types = {col: pa.string() for col in header if _is_code_column(col)}
    convert = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(io.BytesIO(data), convert_options=convert)

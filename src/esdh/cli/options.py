"""Options and argument parsers shared by the command modules. Parsing only; nothing here runs a command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar

import click

import esdh.options
from esdh.library import DEFAULT_CHUNK_SIZE, DEFAULT_PART_ROWS

if TYPE_CHECKING:
    from esdh.library import Dataset

F = TypeVar("F", bound=Callable[..., object])

FORMATS_HELP = "comma-separated formats: parquet, csv, json, ndjson"


def parse_rows(values: tuple[str, ...]) -> dict[str, int]:
    """``--rows TABLE=N`` values, by the rules every interface shares (:func:`esdh.options.parse_rows`)."""
    try:
        return esdh.options.parse_rows(values)
    except esdh.options.BadOptionValue as exc:
        raise click.BadParameter(str(exc), param_hint="--rows") from None


def parse_storage_options(values: tuple[str, ...]) -> dict[str, object]:
    """``KEY=VALUE`` pairs. A VALUE that reads as JSON is taken as such (``anon=true``, ``default_block_size=
    5242880``, ``client_kwargs={"region_name": "eu-west-1"}``, ``key='"1234"'`` for a string of digits),
    anything else as a string (``endpoint_url=http://localhost:9000``)."""
    options: dict[str, object] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--storage-option")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def parse_formats(text: str) -> list[str]:
    return [f.strip().lower() for f in text.split(",") if f.strip()]


def split_tables(values: tuple[str, ...]) -> list[str] | None:
    names = [t.strip() for item in values for t in item.split(",") if t.strip()]
    return names or None


PLAN_OPTIONS = [
    click.option("--seed", type=click.IntRange(min=0), help="override the spec's seed"),
    click.option("--randomize", is_flag=True, help="draw a fresh seed (it is printed, so the run can be replayed)"),
    click.option("--scale", type=float, default=1.0, show_default=True, help="multiply the spec's row counts"),
    click.option("--rows", multiple=True, metavar="TABLE=N", help="set a table's row count (repeatable)"),
    click.option("--tables", multiple=True, metavar="T[,T]", help="write only these tables"),
    click.option("--format", "formats", default="parquet", show_default=True, help=FORMATS_HELP),
    click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_SIZE, show_default=True,
                 help="rows generated at once (and per Parquet row group)"),
]
ENGINE_OPTIONS = [
    click.option("--engine", type=click.Choice(["local", "processes", "dask"]), default="local", show_default=True,
                 help="where partitions run: this process, local worker processes, or a Dask cluster"),
    click.option("--workers", type=click.IntRange(min=1), help="worker processes (default and at most: the CPU count)"),
    click.option("--cluster", metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster)"),
    click.option("--part-rows", type=click.IntRange(min=1), default=DEFAULT_PART_ROWS, show_default=True,
                 help="rows per part file; larger tables are written as table/part-NNNNN files"),
    click.option("--resume", is_flag=True, help="continue an interrupted run into the same folder"),
    click.option("--quiet", "-q", is_flag=True, help="no progress bar"),
]


def with_options(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    """Apply a shared list of click options (in the order listed)."""
    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function
    return apply


class PlanOptions(TypedDict):
    """The library.plan keyword arguments of the shared options."""

    seed: int | None
    randomize: bool
    scale: float
    rows: dict[str, int]
    tables: list[str] | None
    chunk_size: int


def plan_from_options(seed: int | None, randomize: bool, scale: float, rows: tuple[str, ...],
                      tables: tuple[str, ...], chunk_size: int) -> PlanOptions:
    """The library.plan keyword arguments the shared options give."""
    if seed is not None and randomize:
        raise click.UsageError("give --seed or --randomize, not both")
    return {"seed": seed, "randomize": randomize, "scale": scale, "rows": parse_rows(rows),
            "tables": split_tables(tables), "chunk_size": chunk_size}


REGISTRY_OPTION = click.option("--registry", type=click.Path(path_type=Path), default="runs", show_default=True,
                               envvar="ESDH_REGISTRY", help="the run registry folder  [env ESDH_REGISTRY]")


def echo_source(dataset: Dataset, err: bool = False) -> None:
    """Say which spec was read when the name given could also have meant a path here (the first line of
    the command's output; ``err`` for commands whose standard output is JSON)."""
    origin = dataset.origin
    if origin is not None and origin.note:
        click.echo(f"source: {origin.note}", err=err)

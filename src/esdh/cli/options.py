"""Options and argument parsers shared by the command modules. Parsing only; nothing here runs a command."""

from __future__ import annotations

import json
import unicodedata
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


class WholeNumber(click.ParamType[int]):
    """A whole number in ASCII digits within a range (:func:`esdh.options.parse_whole_number`): click's own
    ``int`` takes ``١٠٠``, ``１０``, ``1_000`` and digits by the thousand."""

    name = "integer"

    def __init__(self, minimum: int = 0, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a default, or a value from Python
        try:
            return esdh.options.parse_whole_number(str(value), self.minimum, self.maximum)
        except esdh.options.BadOptionValue as exc:
            self.fail(str(exc).removeprefix("value "), param, ctx)


class PositiveNumber(click.ParamType[float]):
    """A finite number above 0 in ASCII (:func:`esdh.options.parse_positive_number`): click's own ``float``
    takes ``nan``, ``inf``, ``1e309`` and other scripts' digits."""

    name = "number"

    def __init__(self, maximum: float | None = None):
        self.maximum = maximum

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = repr(value)
        try:
            return esdh.options.parse_positive_number(str(value), self.maximum)
        except esdh.options.BadOptionValue as exc:
            self.fail(str(exc).removeprefix("value "), param, ctx)


SEED = WholeNumber(0)
COUNT = WholeNumber(1)
ROWS = WholeNumber(1, 10**esdh.options.MAX_ROW_DIGITS - 1)  # a row count fits a 64-bit integer with room to add
WORKERS = WholeNumber(1, 1024)
SCALE = PositiveNumber()


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
    click.option("--seed", type=SEED, help="override the spec's seed"),
    click.option("--randomize", is_flag=True, help="draw a fresh seed (it is printed, so the run can be replayed)"),
    click.option("--scale", type=SCALE, default=1.0, show_default=True, help="multiply the spec's row counts"),
    click.option("--rows", multiple=True, metavar="TABLE=N", help="set a table's row count (repeatable)"),
    click.option("--tables", multiple=True, metavar="T[,T]", help="write only these tables"),
    click.option("--format", "formats", default="parquet", show_default=True, help=FORMATS_HELP),
    click.option("--chunk-size", type=ROWS, default=DEFAULT_CHUNK_SIZE, show_default=True,
                 help="rows generated at once (and per Parquet row group)"),
]
ENGINE_OPTIONS = [
    click.option("--engine", type=click.Choice(["local", "processes", "dask"]), default="local", show_default=True,
                 help="where partitions run: this process, local worker processes, or a Dask cluster"),
    click.option("--workers", type=WORKERS, help="worker processes (default and at most: the CPU count)"),
    click.option("--cluster", metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster)"),
    click.option("--part-rows", type=ROWS, default=DEFAULT_PART_ROWS, show_default=True,
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


def _unprintable(text: str) -> str | None:
    """The first control or invisible formatting character of ``text`` (a newline, an RTL override), if any."""
    return next((c for c in text if unicodedata.category(c) in ("Cc", "Cf")), None)


def name_argument(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A name or version (DATASET, RUN, --version, --against): not empty and no control or invisible
    formatting character, which would break the one line a message takes or disguise the name."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("is empty", ctx, param)
    bad = _unprintable(value)
    if bad is not None:
        shown = value[:80].encode("unicode_escape").decode("ascii")
        raise click.BadParameter(f"'{shown}' holds the control character U+{ord(bad):04X}", ctx, param)
    return value


def out_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An output folder or URL: not empty (an empty --out would be the current folder)."""
    if value is not None and not value.strip():
        raise click.BadParameter("is empty; give a folder or a URL", ctx, param)
    return value


def folder_option(ctx: click.Context, param: click.Parameter, text: str | None) -> Path | None:
    """A folder option (made if missing): not empty, and not a file, a FIFO or a device that exists."""
    if text is None:
        return None
    if not text.strip():
        raise click.BadParameter("is empty; give a folder", ctx, param)
    value = Path(text)
    try:
        if value.exists() and not value.is_dir():
            raise click.BadParameter(f"{str(value)[:200]!r} exists and is not a folder", ctx, param)
    except OSError as exc:  # a name too long, a loop of links
        raise click.BadParameter(f"{str(value)[:200]!r} cannot be used: {exc.strerror or exc}", ctx, param
                                 ) from None
    return value


REGISTRY_OPTION = click.option("--registry", type=click.Path(), default="runs", show_default=True,
                               envvar="ESDH_REGISTRY", callback=folder_option,
                               help="the run registry folder  [env ESDH_REGISTRY]")


def echo_source(dataset: Dataset, err: bool = False) -> None:
    """Say which spec was read when the name given could also have meant a path here (the first line of
    the command's output; ``err`` for commands whose standard output is JSON)."""
    origin = dataset.origin
    if origin is not None and origin.note:
        click.echo(f"source: {origin.note}", err=err)

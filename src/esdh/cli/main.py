"""The ``esdh`` command line. Argument parsing and printing only; the work is in ``esdh.library``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

import click

from esdh.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_PART_ROWS
from esdh.errors import EsdhError

if TYPE_CHECKING:
    from esdh.runs.datapackage import PartFile
    from esdh.spec.compile import Dataset

F = TypeVar("F", bound=Callable[..., object])

FORMATS_HELP = "comma-separated formats: parquet, csv, json, ndjson"


class EsdhGroup(click.Group):
    """Turns every ESDH error into a plain message and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EsdhError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=EsdhGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="enterprise-synthetic-data-hub", prog_name="esdh")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              envvar="ESDH_LOG_LEVEL", help="log records at this level and above, to stderr  [env ESDH_LOG_LEVEL; "
              "default: error]")
@click.option("--log-format", type=click.Choice(["auto", "json", "text"], case_sensitive=False),
              envvar="ESDH_LOG_FORMAT", help="json lines, plain text, or auto (text on a terminal)  "
              "[env ESDH_LOG_FORMAT; default: auto]")
def cli(log_level: str | None, log_format: str | None) -> None:
    """ESDH: governed, deterministic, relationally coherent synthetic data from YAML specs."""
    from esdh.logs import configure

    configure(log_level, log_format)


def parse_rows(values: tuple[str, ...]) -> dict[str, int]:
    rows: dict[str, int] = {}
    for item in values:
        table, sep, count = item.partition("=")
        if not sep or not count.strip().lstrip("-").isdigit():
            raise click.BadParameter(f"'{item}' is not TABLE=N", param_hint="--rows")
        rows[table.strip()] = int(count)
    return rows


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


def _files_text(path: Path | str, parts: list[PartFile]) -> str:
    """``persons.parquet``, or ``persons/part-*.parquet (3 parts)`` (``path`` a local path or a URL)."""
    name = PurePosixPath(str(path)).name
    if len(parts) == 1:
        return name
    return f"{name}/part-*{PurePosixPath(str(parts[0].path)).suffix} ({len(parts)} parts)"


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
    click.option("--workers", type=click.IntRange(min=1), help="worker processes (default: CPU count)"),
    click.option("--cluster", metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster)"),
    click.option("--part-rows", type=click.IntRange(min=1), default=DEFAULT_PART_ROWS, show_default=True,
                 help="rows per part file; larger tables are written as table/part-NNNNN files"),
    click.option("--resume", is_flag=True, help="continue an interrupted run into the same folder"),
    click.option("--quiet", "-q", is_flag=True, help="no progress bar"),
]


def with_options(options: list) -> Callable[[F], F]:
    """Apply a shared list of click options (in the order listed)."""
    def apply(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function
    return apply


def echo_source(dataset: Dataset, err: bool = False) -> None:
    """Say which spec was read when the name given could also have meant a path here (the first line of
    the command's output; ``err`` for commands whose standard output is JSON)."""
    origin = dataset.origin
    if origin is not None and origin.note:
        click.echo(f"source: {origin.note}", err=err)


def plan_from_options(seed: int | None, randomize: bool, scale: float, rows: tuple[str, ...],
                      tables: tuple[str, ...], chunk_size: int) -> dict[str, object]:
    """The library.plan keyword arguments the shared options give."""
    if seed is not None and randomize:
        raise click.UsageError("give --seed or --randomize, not both")
    return {"seed": seed, "randomize": randomize, "scale": scale, "rows": parse_rows(rows),
            "tables": split_tables(tables), "chunk_size": chunk_size}


@cli.command()
@click.argument("dataset")
@click.option("--out", "-o", metavar="PATH|URL", required=True,
              help="output folder, or an object store URL such as s3://bucket/prefix/name")
@with_options(PLAN_OPTIONS)
@click.option("--version", "version", help="a version the spec declares under versions: (evolution)")
@click.option("--no-check", is_flag=True, help="skip checking the output against the spec")
@with_options(ENGINE_OPTIONS)
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="an fsspec storage option for a URL --out, e.g. endpoint_url=http://... (repeatable)")
def generate(dataset: str, out: str, seed: int | None, randomize: bool, scale: float, rows: tuple[str, ...],
             tables: tuple[str, ...], formats: str, chunk_size: int, version: str | None, no_check: bool,
             engine: str, workers: int | None, cluster: str | None, part_rows: int, resume: bool,
             storage_options: tuple[str, ...], quiet: bool) -> None:
    """Generate DATASET (a built-in name, a spec file or a seed-003 folder) into a folder."""
    from esdh import library
    from esdh.cli.progress import progress_bar

    plan = library.plan(dataset, version=version, **plan_from_options(seed, randomize, scale, rows, tables, chunk_size))
    echo_source(plan.dataset)
    click.echo(f"seed: {plan.seed}{' (randomized)' if plan.randomized else ''}")
    if resume and randomize:
        raise click.UsageError("--resume replays a run: give its --seed, not --randomize")
    try:
        with progress_bar(plan, enabled=not quiet) as progress:
            result = library.generate(plan, out, formats=parse_formats(formats), check=not no_check,
                                      progress=progress, engine=engine, workers=workers, cluster=cluster,
                                      part_rows=part_rows, resume=resume,
                                      storage_options=parse_storage_options(storage_options) or None)
    except KeyboardInterrupt:
        click.echo("interrupted; run the same command with --resume to continue from the partitions "
                   "already written", err=True)
        sys.exit(130)
    if result.resumed:
        click.echo("resumed: kept the partitions an earlier run had written and verified")
    click.echo(f"dataset: {plan.dataset.spec.dataset} {plan.dataset.spec.version} -> {result.folder}")
    for table in result.tables:
        names = ", ".join(_files_text(path, table.parts[fmt]) for fmt, path in table.files.items())
        click.echo(f"  {table.name}: {table.rows:,} rows ({names})")
    click.echo(f"  manifest: {str(result.folder).rstrip('/')}/datapackage.json")
    if result.checks:
        click.echo(f"checks: {len(result.checks)} passed")


@cli.command()
@click.argument("dataset")
@click.option("--seed", type=click.IntRange(min=0))
@click.option("--scale", type=float, default=1.0, show_default=True)
@click.option("--rows", multiple=True, metavar="TABLE=N")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def plan(dataset: str, seed: int | None, scale: float, rows: tuple[str, ...], as_json: bool) -> None:
    """Show tables, row counts, columns, relations and size estimates without generating."""
    from esdh import library
    from esdh.plan.describe import describe_plan, render_plan

    the_plan = library.plan(dataset, seed=seed, scale=scale, rows=parse_rows(rows))
    echo_source(the_plan.dataset, err=as_json)
    info = describe_plan(the_plan)
    click.echo(json.dumps(info, indent=2) if as_json else render_plan(info))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def packs(as_json: bool) -> None:
    """List the built-in datasets."""
    from esdh import library
    from esdh.packs import pack_names

    rows = []
    for name in pack_names():
        dataset = library.load(name)
        spec = dataset.spec
        rows.append({"name": name, "version": spec.version, "tables": list(dataset.tables),
                     "description": (spec.description or spec.title or "").strip().splitlines()[0]
                     if (spec.description or spec.title) else ""})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} {row['version']}: {row['description']}")
        click.echo(f"  tables: {', '.join(row['tables'])}")


@cli.command()
def generators() -> None:
    """List the column generators."""
    from esdh.generators.base import registry

    for name, cls in sorted(registry().items()):
        click.echo(f"{name:<16} {cls.summary}")


@cli.group()
def spec() -> None:
    """Check specs and print the spec language's JSON Schema."""


@spec.command("check")
@click.argument("file")
def spec_check(file: str) -> None:
    """Check a spec and report every problem at once."""
    from esdh import library
    from esdh.plan.planner import build_plan

    dataset = library.load(file)
    echo_source(dataset)
    build_plan(dataset)
    tables = ", ".join(f"{n}" for n in dataset.tables)
    click.echo(f"ok: {dataset.spec.dataset} {dataset.spec.version} ({tables})")


@spec.command("schema")
def spec_schema() -> None:
    """Print the JSON Schema of the spec language."""
    from esdh.spec.schema import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2, default=str))


REGISTRY_OPTION = click.option("--registry", type=click.Path(path_type=Path), default="runs", show_default=True,
                               envvar="ESDH_REGISTRY", help="the run registry folder  [env ESDH_REGISTRY]")


@cli.command()
@click.argument("run")
@REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def verify(run: str, registry: Path, as_json: bool) -> None:
    """Recompute every checksum of RUN (an output folder, or DATASET/VERSION of the registry); report
    missing, changed and extra files, and a changed manifest of a registered run (exit 1)."""
    from esdh.runs.verify import verify_run

    report = verify_run(run, registry)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for path in report.missing:
            click.echo(f"missing: {path}")
        for change in report.changed:
            click.echo(f"changed: {change['path']} (sha256 {change['expected_sha256']} recorded, "
                       f"{change['found_sha256']} found; {change['found_bytes']:,} bytes)")
        for path in report.extra:
            click.echo(f"extra: {path} (not in the manifest)")
        problems = len(report.missing) + len(report.changed) + len(report.extra)
        click.echo(f"ok: {report.checked} files verified in {report.folder}" if report.ok
                   else f"FAILED: {problems} problem(s) in {report.folder}")
    if not report.ok:
        sys.exit(1)


def _register_more() -> None:
    from esdh.cli import demo, governance, serve, snapshot

    governance.register(cli)
    cli.add_command(demo.demo)
    cli.add_command(serve.serve)
    cli.add_command(snapshot.generate_snapshot)
    cli.add_command(snapshot.profile_info)


_register_more()


def main() -> None:
    cli(prog_name="esdh")

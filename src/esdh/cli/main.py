"""The ``esdh`` command line: the data commands (generate, plan, packs, generators, spec, verify), and every
other command module's commands added to the one group. Argument parsing and printing only; the work is in
``esdh.library``."""

from __future__ import annotations

import json
import sys
from pathlib import Path, PurePosixPath

import click

from esdh import library
from esdh.cli import demo, governance, serve, snapshot
from esdh.cli.app import cli
from esdh.cli.options import (
    ENGINE_OPTIONS,
    PLAN_OPTIONS,
    REGISTRY_OPTION,
    ROWS,
    SCALE,
    SEED,
    echo_source,
    name_argument,
    out_option,
    parse_formats,
    parse_rows,
    parse_storage_options,
    plan_from_options,
    with_options,
)


def _files_text(path: Path | str, parts: list[library.PartFile]) -> str:
    """``persons.parquet``, or ``persons/part-*.parquet (3 parts)`` (``path`` a local path or a URL)."""
    name = PurePosixPath(str(path)).name
    if len(parts) == 1:
        return name
    return f"{name}/part-*{PurePosixPath(str(parts[0].path)).suffix} ({len(parts)} parts)"


@cli.command()
@click.argument("dataset")
@click.option("--out", "-o", metavar="PATH|URL", required=True, callback=out_option,
              help="output folder, or an object store URL such as s3://bucket/prefix/name")
@with_options(PLAN_OPTIONS)
@click.option("--version", "version", callback=name_argument,
              help="a version the spec declares under versions: (evolution)")
@click.option("--no-check", is_flag=True, help="skip checking the output against the spec")
@with_options(ENGINE_OPTIONS)
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="an fsspec storage option for a URL --out, e.g. endpoint_url=http://... (repeatable)")
def generate(dataset: str, out: str, seed: int | None, randomize: bool, scale: float, rows: tuple[str, ...],
             tables: tuple[str, ...], formats: str, chunk_size: int, version: str | None, no_check: bool,
             engine: str, workers: int | None, cluster: str | None, part_rows: int, resume: bool,
             storage_options: tuple[str, ...], quiet: bool) -> None:
    """Generate DATASET (a built-in name, a spec file or a config folder) into a folder."""
    from esdh.cli.progress import progress_bar

    plan = library.plan(dataset, version=version, **plan_from_options(seed, randomize, scale, rows, tables, chunk_size))
    echo_source(plan.dataset)
    click.echo(f"seed: {plan.seed}{' (randomized)' if plan.randomized else ''}")
    if resume and randomize:
        raise click.UsageError("--resume replays a run: give its --seed, not --randomize")
    with progress_bar(plan, enabled=not quiet) as progress:  # Ctrl-C: exit 130, see cli.app
        result = library.generate(plan, out, formats=parse_formats(formats), check=not no_check,
                                  progress=progress, engine=engine, workers=workers, cluster=cluster,
                                  part_rows=part_rows, resume=resume,
                                  storage_options=parse_storage_options(storage_options) or None)
    if result.resumed:
        click.echo("resumed: kept the partitions an earlier run had written and verified")
    click.echo(f"dataset: {plan.dataset.spec.dataset} {plan.dataset.spec.version} -> {result.folder}")
    for table in result.tables:
        names = ", ".join(_files_text(path, table.parts[fmt]) for fmt, path in table.files.items())
        click.echo(f"  {table.name}: {table.rows:,} rows ({names})")
    digest = library.manifest_digest(result.folder)
    click.echo(f"  manifest: {str(result.folder).rstrip('/')}/datapackage.json" + (f" ({digest})" if digest else ""))
    if result.checks:
        click.echo(f"checks: {len(result.checks)} passed")


@cli.command()
@click.argument("dataset")
@click.option("--seed", type=SEED)
@click.option("--scale", type=SCALE, default=1.0, show_default=True)
@click.option("--rows", multiple=True, metavar="TABLE=N")
@click.option("--chunk-size", type=ROWS, default=library.DEFAULT_CHUNK_SIZE, show_default=True,
              help="rows generated at once (its memory is estimated)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def plan(dataset: str, seed: int | None, scale: float, rows: tuple[str, ...], chunk_size: int, as_json: bool) -> None:
    """Show tables, row counts, columns, relations and size estimates without generating (the children of very
    large tables are counted on a prefix and extrapolated: "about")."""
    the_plan = library.plan(dataset, seed=seed, scale=scale, rows=parse_rows(rows), chunk_size=chunk_size,
                            estimate=True)
    echo_source(the_plan.dataset, err=as_json)
    info = library.describe.describe_plan(the_plan)
    click.echo(json.dumps(info, indent=2) if as_json else library.describe.render_plan(info))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def packs(as_json: bool) -> None:
    """List the built-in datasets."""
    rows = []
    for name in library.catalogue.names():
        found = library.catalogue.summary(name, library.load(name))
        about = found["description"] or found["title"]
        rows.append({"name": name, "version": found["version"], "tables": found["tables"],
                     "description": about.strip().splitlines()[0] if about else ""})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} {row['version']}: {row['description']}")
        click.echo(f"  tables: {', '.join(row['tables'])}")


@cli.command()
def generators() -> None:
    """List the column generators."""
    for name, summary in library.catalogue.generators().items():
        click.echo(f"{name:<16} {summary}")


@cli.group()
def spec() -> None:
    """Check specs and print the spec language's JSON Schema."""


@spec.command("check")
@click.argument("file")
def spec_check(file: str) -> None:
    """Check a spec and report every problem at once."""
    dataset = library.check(file)
    echo_source(dataset)
    tables = ", ".join(f"{n}" for n in dataset.tables)
    click.echo(f"ok: {dataset.spec.dataset} {dataset.spec.version} ({tables})")


@spec.command("schema")
def spec_schema() -> None:
    """Print the JSON Schema of the spec language."""
    click.echo(json.dumps(library.catalogue.spec_schema(), indent=2, default=str))


@cli.command()
@click.argument("run", callback=name_argument)
@REGISTRY_OPTION
@click.option("--digest", metavar="sha256:HEX",
              help="the manifest's sha256 as esdh generate printed it: a manifest with another is a finding")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
def verify(run: str, registry: Path, digest: str | None, as_json: bool) -> None:
    """Recompute every checksum of RUN (an output folder, or DATASET/VERSION of the registry); report
    missing, changed and extra files and folders, links, special files, unsafe paths, a malformed manifest,
    and a registered run that disagrees with its registry row (exit 1)."""
    report = library.verify(run, registry, digest=digest)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for path in report.missing:
            click.echo(f"missing: {path}")
        for change in report.changed:
            if change["expected_sha256"] == change["found_sha256"]:  # the bytes are right, their count is not
                click.echo(f"changed: {change['path']} ({change['expected_bytes']:,} bytes recorded, "
                           f"{change['found_bytes']:,} found; the sha256 matches)")
                continue
            click.echo(f"changed: {change['path']} (sha256 {change['expected_sha256']} recorded, "
                       f"{change['found_sha256']} found; {change['found_bytes']:,} bytes)")
        for path in report.extra:
            click.echo(f"extra: {path} (not in the manifest)")
        for problem in report.problems:
            click.echo(problem)
        problems = len(report.missing) + len(report.changed) + len(report.extra) + len(report.problems)
        click.echo(f"ok: {report.checked} files verified in {report.folder}" if report.ok
                   else f"FAILED: {problems} problem(s) in {report.folder}")
    if not report.ok:
        sys.exit(1)


governance.register(cli)
cli.add_command(demo.demo)
cli.add_command(serve.serve)
cli.add_command(snapshot.generate_snapshot)
cli.add_command(snapshot.profile_info)


def main() -> None:
    cli(prog_name="esdh")

"""Governed runs on the command line: ``esdh run``, ``esdh runs ...``, ``esdh report``, ``esdh validate`` and
``esdh ingest``. Parsing and printing only; the work is in :mod:`esdh.library`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from esdh import library
from esdh.cli.options import (
    COUNT,
    ENGINE_OPTIONS,
    PLAN_OPTIONS,
    REGISTRY_OPTION,
    echo_source,
    folder_option,
    name_argument,
    parse_formats,
    parse_storage_options,
    plan_from_options,
    with_options,
)

THRESHOLD_OPTION = click.option("--threshold", "thresholds", multiple=True, metavar="NAME=VALUE",
                                help="override a drift threshold, e.g. psi_fail=0.3 (repeatable; see "
                                     "docs/governance.md)")


def drift_thresholds(values: tuple[str, ...]) -> dict[str, object] | None:
    """``--threshold NAME=VALUE`` values as the mapping the library takes."""
    return parse_storage_options(values) or None


def _print_outcome(outcome: library.RunOutcome) -> None:
    record = outcome.record
    click.echo(f"run: {record.dataset} {record.version} -> {outcome.folder}")
    for table, rows in record.row_counts.items():
        click.echo(f"  {table}: {rows:,} rows")
    if outcome.validation is not None:
        summary = outcome.validation.get("summary", {})
        click.echo(f"validation: {'pass' if outcome.validation['ok'] else 'FAIL'} "
                   f"({summary.get('checks', len(outcome.validation.get('checks', [])))} checks; "
                   f"reports/validation.html)")
    if outcome.drift is not None:
        click.echo(f"drift against {record.against}: {outcome.drift['verdict']} "
                   "(reports/drift.html)")
    else:
        click.echo("drift: no earlier run of this dataset to compare with")
    click.echo(f"run metadata: {outcome.folder.parent / '.meta' / record.version / 'run.json'}")


@click.command()
@click.argument("dataset")
@click.option("--version", callback=name_argument,
              help="the run's version: a version the spec declares (default: the spec's), with an "
                   "optional +build suffix for another run of it (1.0.0+2)")
@REGISTRY_OPTION
@with_options(PLAN_OPTIONS)
@with_options(ENGINE_OPTIONS)
@THRESHOLD_OPTION
def run(dataset: str, version: str | None, registry: Path, seed: int | None, randomize: bool, scale: float,
        rows: tuple[str, ...], tables: tuple[str, ...], formats: str, chunk_size: int, engine: str,
        workers: int | None, cluster: str | None, part_rows: int, resume: bool, quiet: bool,
        thresholds: tuple[str, ...]) -> None:
    """Generate DATASET as an immutable, registered run: <registry>/<dataset>/<version>/ with its
    validation report and a drift report against the previous run."""
    from esdh.cli.progress import progress_bar

    if resume and randomize:
        raise click.UsageError("--resume replays a run: give its --seed, not --randomize")
    options = plan_from_options(seed, randomize, scale, rows, tables, chunk_size)
    limits = drift_thresholds(thresholds)
    plan = library.plan_run(dataset, version, **options)
    echo_source(plan.dataset)
    with progress_bar(plan, enabled=not quiet) as progress:
        outcome = library.run(plan, registry, version=version, formats=parse_formats(formats), engine=engine,
                                workers=workers, cluster=cluster, part_rows=part_rows, resume=resume,
                                thresholds=limits, progress=progress)
    click.echo(f"seed: {outcome.record.seed}")
    if outcome.resumed:
        click.echo("resumed: kept the partitions the interrupted run had written and verified")
    _print_outcome(outcome)


@click.group()
def runs() -> None:
    """List, show, compare and prune the runs of the registry."""


def _registry(root: Path) -> library.Registry:
    return library.registry(root)


@runs.command("list")
@click.argument("dataset", required=False, callback=name_argument)
@REGISTRY_OPTION
@click.option("--all", "include_writing", is_flag=True, help="include runs still being written")
@click.option("--json", "as_json", is_flag=True)
def runs_list(dataset: str | None, registry: Path, include_writing: bool, as_json: bool) -> None:
    """The runs of every dataset (or of DATASET), oldest first."""
    found = _registry(registry).runs(dataset, include_writing=include_writing)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in found], indent=2))
        return
    if not found:
        click.echo(f"no runs in {registry}")
        return
    click.echo(f"{'dataset':<24} {'version':<16} {'status':<9} {'source':<10} {'rows':>12} {'valid':<6} "
               f"{'drift':<6} finished")
    for r in found:
        click.echo(f"{r.dataset:<24} {r.version:<16} {r.status:<9} {r.source:<10} {sum(r.row_counts.values()):>12,} "
                   f"{r.validation or '-':<6} {r.drift or '-':<6} {r.finished_at or '-'}")


def _show(record: library.RunRecord, registry: library.Registry, as_json: bool) -> None:
    data = record.as_dict()
    data["path"] = str(registry.folder_of(record))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key in ("dataset", "version", "status", "source", "path", "dataset_version", "seed", "scale", "spec_hash",
                "validation", "drift", "against", "started_at", "finished_at", "host", "user", "command",
                "esdh_version", "manifest_sha256"):
        if data.get(key) is not None:
            click.echo(f"{key}: {data[key]}")
    click.echo("row counts:")
    for table, count in record.row_counts.items():
        click.echo(f"  {table}: {count:,}")
    click.echo(f"files: {len(record.files)} (esdh verify {record.dataset}/{record.version})")


@runs.command("show")
@click.argument("run", callback=name_argument)
@REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True)
def runs_show(run: str, registry: Path, as_json: bool) -> None:
    """One run (DATASET/VERSION, or DATASET for its latest): where it is, how it was made, what it holds."""
    reg = _registry(registry)
    _show(reg.resolve(run), reg, as_json)


@runs.command("latest")
@click.argument("dataset", callback=name_argument)
@REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True)
@click.option("--path", "path_only", is_flag=True, help="print only the run's folder (for scripts)")
def runs_latest(dataset: str, registry: Path, as_json: bool, path_only: bool) -> None:
    """The latest finished run of DATASET."""
    reg = _registry(registry)
    record = reg.latest(dataset)
    if path_only:
        click.echo(str(reg.folder_of(record)))
    else:
        _show(record, reg, as_json)


@runs.command("diff")
@click.argument("dataset", callback=name_argument)
@click.argument("old", callback=name_argument)
@click.argument("new", required=False, callback=name_argument)
@REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True)
def runs_diff(dataset: str, old: str, new: str | None, registry: Path, as_json: bool) -> None:
    """Compare two runs of DATASET (versions OLD and NEW, default NEW: the latest): spec, row counts and
    checksums."""
    result = library.diff(dataset, old, new, registry)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{dataset}: {result['old']['version']} -> {result['new']['version']}")
    click.echo("spec: same" if result["same_spec"] else "spec: changed")
    for line in result["spec_diff"]:
        click.echo(f"  {line}")
    click.echo("row counts:")
    for table, change in result["row_counts"].items():
        click.echo(f"  {table}: {change['old'] if change['old'] is not None else '-':>} -> "
                   f"{change['new'] if change['new'] is not None else '-'} ({change['change']:+,})")
    files = result["files"]
    click.echo(f"files: {len(files['same'])} same, {len(files['changed'])} changed, {len(files['added'])} added, "
               f"{len(files['removed'])} removed")
    for kind in ("changed", "added", "removed"):
        for path in files[kind]:
            click.echo(f"  {kind}: {path}")


@runs.command("prune")
@click.argument("dataset", callback=name_argument)
@click.option("--keep", type=COUNT, required=True, help="how many of the newest runs to keep")
@REGISTRY_OPTION
@click.option("--dry-run", is_flag=True, help="say what would be removed, remove nothing")
def runs_prune(dataset: str, keep: int, registry: Path, dry_run: bool) -> None:
    """Remove DATASET's runs older than its newest --keep (never the latest, never one being written)."""
    removed = library.prune(dataset, keep, registry, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for record in removed:
        click.echo(f"{verb}: {record.dataset} {record.version}")
    click.echo(f"{verb} {len(removed)} run(s); kept the newest {keep}")


@click.command()
@click.argument("run", callback=name_argument)
@click.option("--against", callback=name_argument,
              help="the version to compare with (default: the run registered before RUN)")
@REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="print the JSON report")
@click.option("--out", type=click.Path(), callback=folder_option,
              help="folder for drift.json and drift.html (default: <registry>/<dataset>/.reports/<v>-vs-<against>)")
@THRESHOLD_OPTION
@click.option("--fail-on", type=click.Choice(["fail", "warn", "never"]), default="fail", show_default=True,
              help="exit 1 when the overall verdict is this or worse")
def report(run: str, against: str | None, registry: Path, as_json: bool, out: Path | None,
           thresholds: tuple[str, ...], fail_on: str) -> None:
    """Quality and drift report of RUN (DATASET/VERSION or DATASET) against an earlier version."""
    found = library.report(run, registry, against=against, thresholds=drift_thresholds(thresholds), out=out)
    record, reference, written = found.run, found.against, found.files
    data = found.drift.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        counts = data.get("summary", {})
        click.echo(f"{record.dataset} {record.version} against {reference.version}: {data['verdict']} ({counts})")
        for name, column in data["columns"].items():
            if column["verdict"] != "pass":
                click.echo(f"  {name}: {column['verdict']}: {'; '.join(column.get('reasons', []))}")
        for path in written:
            click.echo(f"report: {path}")
    order = ["pass", "warn", "fail"]
    if fail_on != "never" and order.index(data["verdict"]) >= order.index(fail_on):
        sys.exit(1)


@click.command()
@click.argument("data", type=click.Path(path_type=Path, exists=True))
@click.option("--spec", required=True, help="a spec file or a built-in dataset's name")
@click.option("--version", callback=name_argument, help="a version the spec declares")
@click.option("--json", "as_json", is_flag=True, help="print the JSON report")
@click.option("--report", "report_dir", type=click.Path(), callback=folder_option,
              help="also write validation.json and validation.html into this folder")
@click.option("--strict", is_flag=True,
              help="also exit 1 when a rule could not be evaluated on the data (it is reported as skipped)")
def validate(data: Path, spec: str, version: str | None, as_json: bool, report_dir: Path | None,
             strict: bool) -> None:
    """Check DATA (a folder of CSV or Parquet files, one per table, or one file) against a spec; every
    failure is reported; exit 1 when any check fails (or, with --strict, when any rule is skipped)."""
    model = library.load(spec, version)
    echo_source(model, err=as_json)
    result = library.validate(data, model)
    written = result.write(report_dir) if report_dir else []
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        checks = [c.as_dict() for c in result.checks]
        failed = [c for c in checks if c["failed"]]
        for check, found in zip(failed, [c for c in result.checks if c.failed], strict=True):
            click.echo(f"FAIL {check['table']}.{check['column'] or '*'}: {check['check']}{found.expectation}: "
                       f"{check['failed']:,} of {check['evaluated']:,} fail ({check['success_percent']}% pass); "
                       f"e.g. {check['samples'][:3]}")
        for skipped in result.as_dict().get("skipped", []):
            click.echo(f"skipped {skipped.get('table')}: {skipped.get('check')}: {skipped.get('reason')}")
        click.echo(f"{'ok' if result.ok else 'FAILED'}: {len(checks) - len(failed)} of {len(checks)} checks pass")
        for path in written:
            click.echo(f"report: {path}")
    if not result.ok:
        sys.exit(1)
    if strict and result.skipped:
        # A CI job that wants every declared rule answered: a skipped rule is not a passed one.
        click.echo(f"FAILED (--strict): {len(result.skipped)} rule(s) could not be evaluated on this data", err=True)
        sys.exit(1)


@click.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@click.option("--dataset", required=True, callback=name_argument, help="the dataset the data is registered under")
@click.option("--spec", help="validate against this spec (a file or a built-in dataset's name)")
@click.option("--version", callback=name_argument, help="the run's version (default: the spec's version)")
@REGISTRY_OPTION
@THRESHOLD_OPTION
def ingest(source: Path, dataset: str, spec: str | None, version: str | None, registry: Path,
           thresholds: tuple[str, ...]) -> None:
    """Register external CSV or Parquet data (a file or a folder) as a run of DATASET; exit 1 when it
    fails validation (it is registered all the same, with its report)."""
    outcome = library.ingest(source, registry, dataset=dataset, version=version, spec=spec,
                          thresholds=drift_thresholds(thresholds))
    _print_outcome(outcome)
    if outcome.validation is not None and not outcome.validation["ok"]:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Add this module's commands to ``group``."""
    for command in (run, runs, report, validate, ingest):
        group.add_command(command)

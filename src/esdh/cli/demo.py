"""``esdh demo``: the demo flow in one command; ``esdh demo stop`` and ``esdh demo clean``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from esdh.cli.options import WholeNumber

DEFAULT_ROOT = "demo_runs"
ROOT_HELP = "the demo folder  [env ESDH_DEMO_ROOT; default: demo_runs/ under the current folder]"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _root(ctx: click.Context, given: Path | None) -> Path:
    """The subcommand's --root, else the group's (or its environment/default)."""
    return given or (ctx.parent.params.get("root") if ctx.parent else None) or Path(DEFAULT_ROOT)


@click.group("demo", invoke_without_command=True)
@click.option("--profile", help="demo profile: baseline or heavy (default: $DEMO_PROFILE or baseline)")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), envvar="ESDH_DEMO_ROOT",
              default=DEFAULT_ROOT, help=ROOT_HELP)
@click.option("--skip-smoke", is_flag=True, help="skip the smoke checks (step 5)")
@click.option("--port", type=WholeNumber(1, 65535), help="the API's port (default: a free one)")
@click.pass_context
def demo(ctx: click.Context, profile: str | None, root: Path, skip_smoke: bool, port: int | None) -> None:
    """Generate a snapshot, start the API, check its health, preview data through it and run smoke checks;
    the API is stopped afterwards, always. Snapshots go to ROOT/<UTC time>_<profile>/ (the last 5 are kept),
    ROOT/latest points at the newest, ROOT/demo_flow.jsonl logs every step."""
    if ctx.invoked_subcommand is not None:
        return
    from esdh.demo import DemoFailed, DemoOptions, run_demo

    try:
        run_demo(DemoOptions(root=root, clock=_utc_now, profile=profile, skip_smoke=skip_smoke, port=port),
                 echo=click.echo)
    except DemoFailed as failed:
        click.echo("\n===== Demo failed: diagnostics =====", err=True)
        click.echo(json.dumps(failed.diagnostics, indent=2), err=True)
        click.echo(f"error: {failed}", err=True)
        sys.exit(failed.exit_code)


@demo.command("stop")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), envvar="ESDH_DEMO_ROOT", help=ROOT_HELP)
@click.pass_context
def stop(ctx: click.Context, root: Path | None) -> None:
    """Stop a demo API left running (only if its pid really is an esdh server)."""
    from esdh.demo import stop_recorded

    click.echo(stop_recorded(_root(ctx, root)))


@demo.command("clean")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), envvar="ESDH_DEMO_ROOT", help=ROOT_HELP)
@click.option("--yes", "-y", is_flag=True, help="do not ask")
@click.pass_context
def clean(ctx: click.Context, root: Path | None, yes: bool) -> None:
    """Remove the demo snapshots, the latest pointer and the log (refuses a folder holding anything else)."""
    from esdh.demo import clean_root
    from esdh.demo.layout import foreign_entries, snapshot_dirs

    folder = _root(ctx, root)
    if not folder.exists():
        click.echo(f"nothing to clean: {folder} does not exist")
        return
    if not yes and folder.is_dir() and not foreign_entries(folder):
        click.confirm(f"remove {len(snapshot_dirs(folder))} demo snapshot(s) and the demo log in {folder}?", abort=True)
    cleaned = clean_root(folder)
    click.echo(f"removed {len(cleaned.removed)} item(s) from {folder}"
               + (" and the folder itself" if cleaned.root_removed else ""))

"""The root ``esdh`` click group: global options and plain error messages instead of tracebacks.

Command modules add their commands to it; :mod:`esdh.cli.main` imports them all, so the complete command
line is ``esdh.cli.main.cli`` (this group before that import has no commands).
"""

from __future__ import annotations

import errno
import sys

import click

from esdh.errors import EsdhError

SYSTEM_EXIT = 4  # the operating system refused a read or write (docs/cli.md, exit codes)
USAGE_EXIT = 2


class EsdhGroup(click.Group):
    """Turns every ESDH error into a plain message and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EsdhError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # the system refused (a full disk, a permission): say what and where, once
            name = str(exc.filename) if exc.filename else ""
            where = f": {name[:200]}..." if len(name) > 200 else f": {name}" if name else ""
            click.echo(f"error: {exc.strerror or exc}{where}", err=True)
            # a name too long for any file system is a bad argument, not a refusal of the system
            sys.exit(USAGE_EXIT if exc.errno == errno.ENAMETOOLONG else SYSTEM_EXIT)


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

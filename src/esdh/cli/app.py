"""The root ``esdh`` click group: global options and plain error messages instead of tracebacks.

Command modules add their commands to it; :mod:`esdh.cli.main` imports them all, so the complete command
line is ``esdh.cli.main.cli`` (this group before that import has no commands).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click

from esdh.errors import EsdhError, Terminated

INTERRUPTED_EXIT = 130  # SIGINT (Ctrl-C), as a shell reports it (docs/cli.md, exit codes)
TERMINATED_EXIT = 143  # SIGTERM
RESUME_HINT = "the partitions written so far are kept: run the same command with --resume to continue"
# commands that stop on SIGTERM the way they stop on Ctrl-C; the servers keep their own handling
SERVERS = {"serve", "demo"}


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


class EsdhGroup(click.Group):
    """Turns every ESDH error into a plain message and its exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]  # the command's name, before click resolves it
        command = words[0] if words else None
        previous = signal.signal(signal.SIGTERM, _terminate) if command not in SERVERS else None
        try:
            return super().invoke(ctx)
        except EsdhError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Terminated:
            click.echo(f"terminated; {RESUME_HINT}", err=True)
            sys.exit(TERMINATED_EXIT)
        except KeyboardInterrupt:
            click.echo(f"interrupted; {RESUME_HINT}", err=True)
            sys.exit(INTERRUPTED_EXIT)
        except OSError as exc:  # the system refused (a full disk, a permission): say what and where, once
            from esdh import library

            name = str(exc.filename) if exc.filename else ""
            where = f"{name[:200]}..." if len(name) > 200 else name  # a 100,000-character name is not a line
            error = library.fault(exc, where, kept="", action="at")
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


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

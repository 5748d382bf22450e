"""``esdh serve``: the HTTP API and the web page under uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from esdh.cli.options import REGISTRY_OPTION, WORKERS, WholeNumber
from esdh.errors import MissingExtraError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to listen on (0.0.0.0: all)")
@click.option("--port", type=WholeNumber(0, 65535), default=8000, show_default=True, help="TCP port")
@click.option("--workers", type=WORKERS, default=1, show_default=True,
              help="server processes; the rate limit and generation slots hold for all of them together")
@REGISTRY_OPTION
def serve(host: str, port: int, workers: int, registry: Path) -> None:
    """Run the HTTP API and the web page. Keys, limits and CORS come from ESDH_API_* variables
    (docs/api.md); without ESDH_API_KEY/ESDH_API_KEYS the API is open, so keep it on loopback."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtraError("uvicorn", "api") from None
    from esdh.api.settings import ApiSettings

    os.environ["ESDH_REGISTRY"] = str(registry)
    settings = ApiSettings.from_env()  # fail here, with a message, on bad settings; not in each worker
    if not settings.keys_required and host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: no API key is configured and the API listens on {host}; set ESDH_API_KEY", err=True)
    made_state = None
    if workers > 1 and settings.state_dir is None and not _file_locks():
        click.echo("warning: this platform has no POSIX file locks; each worker keeps its own limits", err=True)
    elif workers > 1 and settings.state_dir is None:
        # The workers are processes: they share their limits through a folder, made here and removed after
        made_state = tempfile.mkdtemp(prefix="esdh-api-state-")
        os.environ["ESDH_API_STATE_DIR"] = made_state
    click.echo(f"ESDH API on http://{host}:{port}/ (docs: /docs; {workers} worker(s); registry {registry})")
    try:
        uvicorn.run("esdh.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False, server_header=False)
    finally:
        if made_state is not None:
            shutil.rmtree(made_state, ignore_errors=True)


def _file_locks() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return False
    return True

"""The web page at / (and /demo, the classic system's link): static files served from esdh/web/."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

# The page loads only its own files; a report shown in an iframe (srcdoc inherits this policy) may use inline
# styles and data: images, never scripts or anything from another host.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
          "frame-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-cache"}


def web_folder() -> Path:
    """The folder of the page's files inside the installed package."""
    return Path(str(resources.files("esdh").joinpath("web")))


def mount(app: FastAPI) -> None:
    """Serve the page at / and /demo and its assets under /static/ (none of them in the API schema)."""
    folder = web_folder()
    index = folder / "index.html"

    async def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers=HEADERS)

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/demo", page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=folder), name="static")

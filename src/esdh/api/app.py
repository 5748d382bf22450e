"""The FastAPI application: ``create_app(settings)``. Routes call the same library functions as the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from esdh.api.access_log import AccessLog
from esdh.api.errors import install_error_handlers
from esdh.api.security import BodyLimit, CallerSlots, GenerationSlots, RateLimiter
from esdh.api.settings import ApiSettings
from esdh.version import __version__

DESCRIPTION = """Governed, deterministic, relationally coherent synthetic data.

Send the API key (when the server has keys) in the `X-API-Key` header. Every error is one JSON envelope:
`{"error": {"code", "message", "details"}}`."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The application for ``settings`` (default: from the environment)."""
    from esdh.api import routes_classic, routes_v1, web

    settings = settings or ApiSettings.from_env()
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Routes are synchronous and CPU-bound: they run in the worker-thread pool, where 40 threads (anyio's
        # default) only fight over the GIL. One per core answers more requests and keeps streams moving
        # (benchmarks/README.md: 50 clients on 2 cores, 33 -> 59 requests/s, a stream 0.8 -> 19 MB/s).
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        yield

    app = FastAPI(title="ESDH API", version=__version__, description=DESCRIPTION, docs_url=None,
                  redoc_url=None, swagger_ui_oauth2_redirect_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    mount_docs(app)
    app.state.settings = settings
    if settings.state_dir is None:
        app.state.limiter = RateLimiter(settings.rate_limit)
        app.state.slots = GenerationSlots(settings.max_concurrent)
        app.state.caller_slots = CallerSlots(settings.max_streams_per_key)
    else:  # limits that hold across the processes of the server (esdh serve --workers N)
        from esdh.api.shared_limits import SharedCallerSlots, SharedRateLimiter, SharedSlots

        app.state.limiter = SharedRateLimiter(settings.state_dir, settings.rate_limit)
        app.state.slots = SharedSlots(settings.state_dir, settings.max_concurrent)
        app.state.caller_slots = SharedCallerSlots(settings.state_dir, settings.max_streams_per_key)
    install_error_handlers(app)
    app.include_router(routes_classic.router())
    routes_classic.document_answers(app)
    app.include_router(routes_v1.router(), prefix="/v1")
    web.mount(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Content-Type"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(AccessLog)
    return app


def mount_docs(app: FastAPI) -> None:
    """/docs: Swagger UI with its script and styles served by this server (the package fastapi-swagger ships
    a current Swagger UI build), not from a CDN, so that the docs work offline like the rest."""
    from importlib import resources

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = resources.files("fastapi_swagger") / "resources"
    app.mount("/static/swagger", StaticFiles(directory=str(assets)), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="ESDH API docs",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")


def app_from_env() -> FastAPI:
    """The factory ``esdh serve`` gives uvicorn (each worker process builds its app from the environment)."""
    return create_app(ApiSettings.from_env())

"""One JSON envelope for every error: ``{"error": {"code", "message", "details"}}``.

404, 405, validation errors, ESDH's own errors and unexpected exceptions all answer with it; an
unexpected exception is logged with its traceback on the server and answered with a 500 that says nothing
about the code.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from esdh.errors import EsdhError, OutputError, SpecError, UsageError
from esdh.logs import event

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
                422: "invalid_request", 429: "too_many_requests", 500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    """An error the API answers on purpose."""

    def __init__(self, status: int, message: str, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def envelope(status: int, code: str, message: str, details: Any = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details}}, status_code=status,
                        headers=headers)


def _esdh_status(exc: EsdhError) -> tuple[int, str]:
    if isinstance(exc, SpecError):
        return 422, "invalid_spec"
    if isinstance(exc, UsageError):
        return 422, "invalid_request"
    if isinstance(exc, OutputError):
        return 409, "conflict"
    return 422, "unprocessable"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        message = {404: f"no such endpoint: {request.method} {request.url.path}",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return envelope(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
                   for e in exc.errors()]
        first = details[0] if details else {"location": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["location"][1:]) or "body"
        return envelope(422, "invalid_request", f"{where}: {first['message']}", details)

    @app.exception_handler(EsdhError)
    async def esdh_error(_: Request, exc: EsdhError) -> JSONResponse:
        status, code = _esdh_status(exc)
        details = [p.as_dict() for p in exc.problems] if isinstance(exc, SpecError) else None
        return envelope(status, code, str(exc), details)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logging.getLogger("esdh.api").exception("unhandled error on %s %s", request.method, request.url.path)
        event("api.error", level=logging.ERROR, path=request.url.path, error=type(exc).__name__)
        # Starlette re-raises after this answer and uvicorn then drops the connection: say so, or a keep-alive
        # client sends its next request down a closed connection and gets a reset instead of an answer
        return envelope(500, "internal_error", "the server failed to answer this request; it has been logged",
                        headers={"Connection": "close"})

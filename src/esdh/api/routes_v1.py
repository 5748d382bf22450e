"""The general endpoints under /v1: datasets, previews, streamed generation, runs, validation.

Each group lives in its own module (``v1_datasets``, ``v1_runs``, ``v1_validate``); every route needs the
caller dependency (API key and rate limit), and answers errors with the one JSON envelope.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from esdh.api.deps import caller


def router() -> APIRouter:
    """The /v1 routes (mounted by ``create_app`` under the /v1 prefix)."""
    from esdh.api import v1_datasets, v1_runs, v1_validate

    api = APIRouter(dependencies=[Depends(caller)])
    for group in (v1_datasets, v1_runs, v1_validate):
        api.include_router(group.router)
    return api

"""The general endpoints under /v1: datasets, previews, streamed generation, runs, validation."""

from __future__ import annotations

from fastapi import APIRouter


def router() -> APIRouter:
    return APIRouter()

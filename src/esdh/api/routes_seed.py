"""The seed system's endpoints, with its shapes and strict input: /healthz and /generate/*."""

from __future__ import annotations

from fastapi import APIRouter


def router() -> APIRouter:
    return APIRouter()

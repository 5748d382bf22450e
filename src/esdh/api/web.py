"""The web page at / (and /demo, the seed's link): static files served from esdh/web/."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Serve the page and its assets (none yet)."""

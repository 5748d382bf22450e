"""The HTTP API (FastAPI under uvicorn): ``esdh serve``, or ``create_app(settings)`` to embed or test it.

Needs the extra ``api`` (``pip install -e ".[api]"``); nothing here is imported by the rest of ESDH.
"""

from esdh.api.app import create_app
from esdh.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app"]

"""The API's configuration: from the environment (``ApiSettings.from_env()``) or given in code."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from esdh.errors import UsageError


class ApiSettings(BaseModel):
    """Limits, keys and places. Every limit is answered with a clear status when it is reached: rows and
    records with 422, a request body with 413, concurrent generations and the per-key rate with 429."""

    api_keys: list[str] = Field(default_factory=list, description="accepted X-API-Key values; none: open")
    max_rows: int = Field(1_000_000, ge=1, description="most rows one /v1 generate or preview request may ask for")
    max_records: int = Field(10_000, ge=1, description="most records one classic /generate/* request may ask for")
    max_body_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="largest request body (uploads included)")
    max_concurrent: int = Field(4, ge=1, description="generations running at once; more are answered 429")
    max_streams_per_key: int = Field(2, ge=1, description="streamed downloads one API key (or one client without "
                                     "keys) may run at once, within max_concurrent; more are answered 429")
    stall_timeout: float = Field(60.0, gt=0, allow_inf_nan=False, description="seconds a streamed download may "
                                 "wait on a client that reads nothing before it is given up and its slots freed")
    rate_limit: int = Field(600, ge=1, description="requests per minute per API key (or per client without keys)")
    threads: int | None = Field(None, ge=1, description="threads running requests; default one per core (min. 2)")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; none: closed")
    registry: Path = Field(Path("runs"), description="the run registry the /v1/runs endpoints serve")
    state_dir: Path | None = Field(None, description="a folder holding the rate limit and the generation slots "
                                   "for every process that uses it; none: each process has its own")
    classic_dataset: str = Field("insurance", description="the dataset behind the classic /generate/* endpoints")
    default_seed: int = Field(42, ge=0, description="the seed /generate/* uses when none is given")
    target_records: int = Field(200, ge=1, description="reported by /healthz, as the classic system did")
    default_records: int = Field(5, ge=1, description="records /generate/* makes when none are asked for")

    @model_validator(mode="before")
    @classmethod
    def _renamed_settings(cls, values: Any) -> Any:
        """``seed_dataset``, the old name of ``classic_dataset``, still works (with a DeprecationWarning)."""
        if isinstance(values, dict) and "seed_dataset" in values:
            warnings.warn("the API setting seed_dataset is now classic_dataset", DeprecationWarning, stacklevel=2)
            values = dict(values)
            old = values.pop("seed_dataset")
            values.setdefault("classic_dataset", old)
        return values

    @field_validator("api_keys")
    @classmethod
    def _no_blank_keys(cls, keys: list[str]) -> list[str]:
        if any(not k.strip() for k in keys):
            raise ValueError("an API key cannot be blank")
        return [k.strip() for k in keys]

    @property
    def worker_threads(self) -> int:
        return self.threads or max(2, os.cpu_count() or 2)

    @property
    def keys_required(self) -> bool:
        return bool(self.api_keys)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> ApiSettings:
        """Settings from ``ESDH_API_*`` variables (and ``ESDH_REGISTRY``), then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        keys = [k for k in env.get("ESDH_API_KEYS", "").split(",") if k.strip()]
        if env.get("ESDH_API_KEY", "").strip():
            keys.insert(0, env["ESDH_API_KEY"])
        if keys:
            values["api_keys"] = keys
        numbers = {"max_rows": "ESDH_API_MAX_ROWS", "max_records": "ESDH_API_MAX_RECORDS",
                   "max_body_bytes": "ESDH_API_MAX_BODY_BYTES", "max_concurrent": "ESDH_API_MAX_CONCURRENT",
                   "rate_limit": "ESDH_API_RATE_LIMIT", "threads": "ESDH_API_THREADS",
                   "max_streams_per_key": "ESDH_API_MAX_STREAMS_PER_KEY"}
        for field, name in numbers.items():
            if env.get(name, "").strip():
                try:
                    values[field] = int(env[name])
                except ValueError:
                    raise UsageError(f"{name} must be a whole number, not {env[name]!r}") from None
        if env.get("ESDH_API_STALL_TIMEOUT", "").strip():
            try:
                values["stall_timeout"] = float(env["ESDH_API_STALL_TIMEOUT"])
            except ValueError:
                raise UsageError(f"ESDH_API_STALL_TIMEOUT must be a number of seconds, not "
                                 f"{env['ESDH_API_STALL_TIMEOUT']!r}") from None
        if env.get("ESDH_API_CORS_ORIGINS", "").strip():
            values["cors_origins"] = [o.strip() for o in env["ESDH_API_CORS_ORIGINS"].split(",") if o.strip()]
        if env.get("ESDH_API_STATE_DIR", "").strip():
            values["state_dir"] = Path(env["ESDH_API_STATE_DIR"])
        if env.get("ESDH_REGISTRY", "").strip():
            values["registry"] = Path(env["ESDH_REGISTRY"])
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValueError as exc:
            raise UsageError(f"bad API settings: {exc}") from None

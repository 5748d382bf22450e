"""Demo profiles (baseline: 30 records, seed 42; heavy: 200, randomized) and their description."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypedDict

import yaml

from esdh.errors import UsageError
from esdh.library import generation

PROFILE_ENV = "DEMO_PROFILE"
DEFAULT_PROFILE = "baseline"


@dataclass(frozen=True)
class DemoProfile:
    """A demo profile: the dataset, the persons and the seed it generates."""

    name: str
    description: str
    dataset: str
    records: int
    seed: int | None
    randomize: bool


class ProfileInfo(TypedDict):
    """What a demo profile generates (``esdh profile-info --json``)."""

    profile: str
    description: str
    dataset: str
    records: dict[str, int | None]
    vehicles_per_person: str
    seed: int | None
    randomize: bool
    api_defaults: dict[str, object]
    dataset_version: str
    synthetic_marker: str
    payload_shape: dict[str, list[str]]


def _config() -> dict[str, Any]:
    text = resources.files("esdh.packs").joinpath("_profiles.yaml").read_text(encoding="utf-8")
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def api_defaults() -> dict[str, object]:
    """The API settings the demo profiles share (default records, seed, limits)."""
    return dict(_config()["api"])


def profile_names() -> list[str]:
    """The demo profiles' names."""
    return list(_config()["profiles"])


def load_profile(name: str | None = None) -> DemoProfile:
    """A profile by name, else $DEMO_PROFILE, else baseline."""
    chosen = name or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE
    profiles = _config()["profiles"]
    if chosen not in profiles:
        raise UsageError(f"unknown demo profile '{chosen}' (available: {', '.join(profiles)})")
    entry = profiles[chosen]
    return DemoProfile(chosen, entry["description"], entry["dataset"], int(entry["records"]), entry["seed"],
                       bool(entry["randomize"]))


def profile_info(name: str | None = None) -> ProfileInfo:
    """What a profile generates: record counts, seed, API defaults and the fields of each entity."""
    profile = load_profile(name)
    dataset = generation.load(profile.dataset)
    seed = profile.seed if profile.seed is not None else dataset.spec.seed
    plan = generation.plan(dataset, seed=seed, rows={"persons": profile.records})
    records: dict[str, int | None] = {"persons": profile.records}
    for table in ("vehicles", "profiles"):
        records[table] = None if profile.randomize else plan.rows[table]
    return {
        "profile": profile.name,
        "description": profile.description,
        "dataset": profile.dataset,
        "records": records,
        "vehicles_per_person": "1 to 3",
        "seed": profile.seed,
        "randomize": profile.randomize,
        "api_defaults": api_defaults(),
        "dataset_version": dataset.spec.version,
        "synthetic_marker": dataset.spec.marker,
        "payload_shape": {f"{t}_fields": dataset.tables[t].visible_columns
                          for t in ("persons", "vehicles", "profiles")},
    }

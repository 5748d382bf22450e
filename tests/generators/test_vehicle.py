"""The vehicle generator: coherent catalogue fields and valid, unique VINs."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from esdh.generators.base import choice_from, registry
from esdh.generators.vehicle import VIN_CAPACITY, VehicleGenerator, _choose
from tests.generators.helpers import run_generator

AS_OF = dt.date(2026, 1, 1)
FIELDS = ("make", "model", "body_style", "model_year", "vin", "wmi")
N = 200_000


def run(params: dict | None = None, rows: np.ndarray | int = 1000, **kwargs) -> pa.Array:
    kwargs.setdefault("as_of", AS_OF)
    return run_generator("vehicle", params, rows, **kwargs)


# --- an independent reading of the catalogue and of the VIN rules -----------------------------------

def load_catalogue() -> list[dict]:
    text = resources.files("esdh.packs").joinpath("vocab/vehicles.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    for r in rows:
        r["first_year"] = int(r["first_year"])
        r["last_year"] = int(r["last_year"]) if r["last_year"] else 9999
    return rows


TRANSLIT = {**{str(d): d for d in range(10)},
            "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
            "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
            "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9}
WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def check_digit(vin: str) -> str:
    remainder = sum(TRANSLIT[ch] * w for ch, w in zip(vin, WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def year_code(year: int) -> str:
    return "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 1980) % 30]


def test_reference_check_digit_on_a_known_vin():
    # The worked example of the NA check-digit rule.
    assert check_digit("1M8GDM9AXKP042788") == "X"
    assert check_digit("11111111111111111") == "1"
    assert year_code(1980) == "A" and year_code(2001) == "1" and year_code(2010) == "A"
    assert year_code(2026) == "T" and year_code(2031) == "1"


# --- catalogue ---------------------------------------------------------------------------------------

FITS = {  # body styles a model may have, for a spot check of the hand-made catalogue
    "Civic": {"Sedan", "Hatchback", "Coupe"}, "F-150": {"Truck"}, "CR-V": {"SUV"}, "Camry": {"Sedan"},
    "Odyssey": {"Minivan"}, "Outback": {"Wagon"}, "Mustang": {"Coupe", "Convertible"}, "Transit": {"Van"},
    "Silverado 1500": {"Truck"}, "Wrangler": {"SUV"}, "Model 3": {"Sedan"}, "1500": {"Truck"},
}


def test_catalogue_shape():
    cat = load_catalogue()
    assert 80 <= len({(r["make"], r["model"]) for r in cat}) <= 130
    assert len({r["make"] for r in cat}) >= 15
    styles = {"Sedan", "SUV", "Truck", "Hatchback", "Coupe", "Minivan", "Wagon", "Convertible", "Van"}
    for r in cat:
        assert r["body_style"] in styles
        assert re.fullmatch(r"[A-HJ-NPR-Z0-9]{3}", r["wmi"]), r
        assert re.fullmatch(r"[A-HJ-NPR-Z0-9]+", r["plants"]), r
        assert r["first_year"] <= r["last_year"]
        assert float(r["weight"]) > 0
        if r["model"] in FITS:
            assert r["body_style"] in FITS[r["model"]], r
    assert {r["body_style"] for r in cat} == styles


# --- determinism -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", FIELDS)
def test_deterministic_and_chunk_independent(field):
    params = {"field": field}
    full = run(params, 5000, total_rows=5000)
    assert full.equals(run(params, 5000, total_rows=5000))
    chunks = pa.concat_arrays([run(params, np.arange(0, 1234), total_rows=5000),
                               run(params, np.arange(1234, 5000), total_rows=5000)])
    assert chunks.equals(full)
    picked = np.array([4999, 7, 3, 2500])
    assert run(params, picked, total_rows=5000).equals(full.take(pa.array(picked)))
    other = run(params, 5000, total_rows=5000, seed=2)
    assert not other.equals(full)


def test_group_param_changes_the_stream_and_fields_agree_across_columns():
    rows = np.arange(2000)
    make = run({"field": "make"}, rows, column="make")
    vin = run({"field": "vin"}, rows, column="vin")
    wmi = run({"field": "wmi"}, rows, column="wmi")
    assert [v[:3] for v in vin.to_pylist()] == wmi.to_pylist()
    assert make.equals(run({"field": "make"}, rows, column="another_column"))
    assert not make.equals(run({"field": "make", "group": "second_car"}, rows, column="make"))


# --- 200k rows: VIN validity, uniqueness and agreement with the catalogue --------------------------

@pytest.fixture(scope="module")
def sample() -> dict[str, list]:
    return {field: run({"field": field}, N, column=field).to_pylist() for field in FIELDS}


def test_vins_valid_unique_and_coherent(sample):
    # Every (make, model, body style, WMI, model year, plant) the catalogue allows.
    allowed = {(r["make"], r["model"], r["body_style"], r["wmi"], year, plant)
               for r in load_catalogue()
               for year in range(max(r["first_year"], 1981), min(r["last_year"], AS_OF.year + 1) + 1)
               for plant in r["plants"]}
    vins = sample["vin"]
    assert len(set(vins)) == N
    for make, model, body, year, vin, wmi in zip(*(sample[f] for f in FIELDS), strict=True):
        assert VIN_RE.match(vin), vin
        assert vin[8] == check_digit(vin), vin
        assert vin[9] == year_code(year), (vin, year)
        assert vin[6].isdigit() == (year < 2010), (vin, year)  # NA position-7 rule
        assert vin[:3] == wmi
        # body style fits the model, WMI the make, year the model's years (and <= as_of + 1), plant the row
        assert (make, model, body, wmi, year, vin[10]) in allowed, (make, model, body, year, vin)
        assert year >= AS_OF.year - 25


def test_distribution_follows_popularity(sample):
    makes = Counter(sample["make"])
    assert len(makes) == 15
    assert makes["Toyota"] > makes["Mazda"] > makes["Tesla"] * 0.5
    years = np.array(sample["model_year"])
    assert years.min() == 2001 and years.max() == 2027


# --- parameters --------------------------------------------------------------------------------------

def test_year_params_and_as_of():
    years = np.array(run({"field": "model_year", "min_year": 2020}, 20_000).to_numpy())
    assert years.min() == 2020 and years.max() == 2027
    years = np.array(run({"field": "model_year", "max_age_years": 0}, 20_000).to_numpy())
    assert set(years.tolist()) <= {2026, 2027}
    old = run({"field": "model_year", "max_age_years": 5}, 20_000, as_of=dt.date(2012, 6, 30))
    assert old.to_numpy().min() >= 2007 and old.to_numpy().max() <= 2013
    models = set(run({"field": "model"}, 20_000, as_of=dt.date(2012, 6, 30)).to_pylist())
    assert "Cybertruck" not in models and "Model Y" not in models  # not yet produced


def test_model_years_before_1981_never_appear():
    years = run({"field": "model_year", "min_year": 1950}, 50_000).to_numpy()
    vins = run({"field": "vin", "min_year": 1950}, 50_000).to_pylist()
    assert years.min() >= 1981
    assert all(v[9] == year_code(y) for v, y in zip(vins, years.tolist(), strict=True))


def test_no_model_in_range_is_an_error():
    with pytest.raises(ValueError, match="model years"):
        run({"field": "make", "min_year": 2100}, 10)


def test_params_are_strict():
    with pytest.raises(ValidationError):
        VehicleGenerator.Params(field="colour")
    with pytest.raises(ValidationError):
        VehicleGenerator.Params(max_age_years="5")
    with pytest.raises(ValidationError):
        VehicleGenerator.Params(unknown=1)


def test_capacity_and_contract():
    assert registry()["vehicle"] is VehicleGenerator
    assert VehicleGenerator.supports_unique and VehicleGenerator.group == "vehicle"
    assert VehicleGenerator(VehicleGenerator.Params(field="vin")).capacity() == VIN_CAPACITY >= 4 * 10**9
    assert VehicleGenerator(VehicleGenerator.Params(field="model_year")).output_type() == pa.int64()
    assert len(run({"field": "vin"}, np.array([], dtype=np.int64), total_rows=0)) == 0


def test_vins_unique_for_far_apart_rows():
    rows = np.concatenate([np.arange(50_000), VIN_CAPACITY - 1 - np.arange(50_000)])
    vins = run({"field": "vin"}, rows, total_rows=VIN_CAPACITY).to_pylist()
    assert len(set(vins)) == len(rows)
    with pytest.raises(ValueError, match="unique"):
        run({"field": "vin"}, np.array([VIN_CAPACITY]), total_rows=VIN_CAPACITY + 1)


def test_guided_choice_matches_choice_from():
    u = (np.arange(1, 100_000) - 0.5) / 100_000
    rng_cdfs = [np.cumsum([3.0, 0.0, 0.0, 1e-9, 5.0, 0.0, 2.0]), np.cumsum(np.arange(1.0, 200.0)),
                np.array([0.0, 0.0, 1.0]), np.array([1.0])]
    for cdf in rng_cdfs:
        assert np.array_equal(_choose(cdf, u), choice_from(cdf, u))

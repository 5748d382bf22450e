"""The built-in insurance dataset at 100,000 persons, checked independently from the written Parquet files.

Every rule is re-derived here with pyarrow, Python and DuckDB from the files, the datapackage.json and
the vocabulary CSVs; nothing relies on esdh's own checks. The dataset is generated with ``check=False``
so that a rule broken by the generator shows up as a failing test below (with offending rows) rather
than as an unpublished output folder that would make every test error out.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from esdh import library

pytestmark = pytest.mark.slow

PERSONS = 100_000
TABLES = ("persons", "vehicles", "profiles", "policies", "claims")
PROFILE_NAMESPACE = uuid.UUID("ca92fd9b-5368-4924-8db6-bb1f56766c2b")

# ISO 3779 check digit: transliteration of every allowed character (I, O and Q are not allowed) and weights.
VIN_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_PATTERN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
# Model-year codes (position 10), a 30-year cycle: 1980 = A ... 2000 = Y, 2001 = 1 ... 2009 = 9, 2010 = A ...
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"

UUID_PATTERN = r"^[0-9a-f]{{8}}-[0-9a-f]{{4}}-{version}[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$"


@dataclass(frozen=True)
class Insurance:
    folder: Path
    as_of: dt.date
    synthetic_source: str
    tables: dict[str, pa.Table]
    db: duckdb.DuckDBPyConnection

    def violations(self, sql: str, limit: int = 5) -> tuple[int, list[tuple]]:
        """How many rows ``sql`` returns, and the first few of them (for failure messages)."""
        count = self.scalar(f"SELECT count(*) FROM ({sql})")
        return count, self.db.sql(f"{sql} LIMIT {limit}").fetchall()

    def scalar(self, sql: str) -> object:
        return self.db.sql(sql).fetchall()[0][0]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Insurance]:
    out = tmp_path_factory.mktemp("insurance") / "out"
    library.generate("insurance", out, formats=["parquet"], rows={"persons": PERSONS}, check=False)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in TABLES}
    db = duckdb.connect()
    for name, table in tables.items():
        db.register(name, table)
    yield Insurance(out, dt.date.fromisoformat(package["esdh"]["as_of"]), package["esdh"]["synthetic_source"],
                    tables, db)
    db.close()


def _vocab_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("esdh.packs").joinpath(f"vocab/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def vehicle_catalogue() -> list[dict[str, str]]:
    return _vocab_rows("vehicles.csv")


def _column(data: Insurance, table: str, column: str) -> list:
    return data.tables[table].column(column).to_pylist()


def _age(birth: dt.date, at: dt.date) -> int:
    """Completed years; someone born on 29 February turns a year older on 1 March in common years."""
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def _vin_check_character(vin: str) -> str:
    remainder = sum(VIN_TRANSLITERATION[ch] * w for ch, w in zip(vin, VIN_WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


# --------------------------------------------------------------------------------------------------
# persons: dates


def test_generated_the_requested_size(data: Insurance) -> None:
    assert data.as_of == dt.date(2026, 1, 1)
    assert data.tables["persons"].num_rows == PERSONS
    assert data.tables["profiles"].num_rows == PERSONS
    assert data.tables["policies"].num_rows == data.tables["vehicles"].num_rows


def test_age_helper_handles_leap_days() -> None:
    assert _age(dt.date(2008, 2, 29), dt.date(2024, 2, 28)) == 15
    assert _age(dt.date(2008, 2, 29), dt.date(2024, 2, 29)) == 16
    assert _age(dt.date(2004, 2, 29), dt.date(2021, 2, 28)) == 16
    assert _age(dt.date(2005, 2, 28), dt.date(2021, 2, 28)) == 16
    assert _age(dt.date(2005, 3, 1), dt.date(2021, 2, 28)) == 15
    assert _age(dt.date(2005, 12, 31), dt.date(2022, 1, 1)) == 16


def test_licence_holders_were_at_least_16_at_license_issue_date(data: Insurance) -> None:
    ids = _column(data, "persons", "person_id")
    births = _column(data, "persons", "date_of_birth")
    issued = _column(data, "persons", "license_issue_date")
    assert None not in births and None not in issued
    too_young = [(pid, b, i, _age(b, i))
                 for pid, b, i in zip(ids, births, issued, strict=True) if _age(b, i) < 16]
    assert not too_young, f"{len(too_young)} licences issued before the 16th birthday, e.g. {too_young[:5]}"
    # the leap-day case is exercised: people born on 29 February exist and were checked like everyone else
    assert sum(1 for b in births if (b.month, b.day) == (2, 29)) > 20


def test_birth_and_licence_dates_not_after_as_of(data: Insurance) -> None:
    for column in ("date_of_birth", "license_issue_date"):
        count, sample = data.violations(f"SELECT person_id, {column} FROM persons "
                                        f"WHERE {column} IS NULL OR {column} > DATE '{data.as_of}'")
        assert count == 0, f"{count} persons with {column} after {data.as_of}, e.g. {sample}"


def test_licence_state_is_residence_state(data: Insurance) -> None:
    count, sample = data.violations(
        "SELECT person_id, driver_license_state, state FROM persons "
        "WHERE driver_license_state IS DISTINCT FROM state")
    assert count == 0, f"{count} licences not issued by the state of residence, e.g. {sample}"


# --------------------------------------------------------------------------------------------------
# vehicles: catalogue, model years, VINs


def test_model_year_not_future_and_within_production_years(data: Insurance,
                                                           vehicle_catalogue: list[dict[str, str]]) -> None:
    latest = data.as_of.year + 1
    years = pc.max(data.tables["vehicles"].column("model_year")).as_py()
    assert years <= latest, f"model year {years} is after {latest}"
    runs: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for row in vehicle_catalogue:
        run = (int(row["first_year"]), int(row["last_year"]) if row["last_year"] else latest)
        runs.setdefault((row["make"], row["model"], row["body_style"]), []).append(run)
        runs.setdefault((row["make"], row["model"]), []).append(run)
    combos = data.db.sql("SELECT make, model, body_style, model_year, count(*) FROM vehicles "
                         "GROUP BY ALL ORDER BY ALL").fetchall()
    bad = []
    for make, model, body, year, count in combos:
        # the body style's own production runs; the model's runs when the body style is unknown
        # (that is reported by test_body_style_fits_model)
        model_runs = runs.get((make, model, body)) or runs.get((make, model), [])
        if year is None or not any(first <= year <= last for first, last in model_runs):
            bad.append((make, model, body, year, count, model_runs))
    assert not bad, f"{sum(b[4] for b in bad)} vehicles outside their model's production years: {bad[:10]}"


def test_body_style_fits_model(data: Insurance, vehicle_catalogue: list[dict[str, str]]) -> None:
    known = {(r["make"], r["model"], r["body_style"]) for r in vehicle_catalogue}
    triples = data.db.sql("SELECT make, model, body_style, count(*) FROM vehicles GROUP BY ALL").fetchall()
    bad = [t for t in triples if t[:3] not in known]
    assert not bad, f"{sum(t[3] for t in bad)} vehicles with a (make, model, body_style) " \
                    f"not in the catalogue: {bad[:10]}"


def test_vin_check_digits_are_valid(data: Insurance) -> None:
    vins = _column(data, "vehicles", "vin")
    malformed = [v for v in vins if v is None or not VIN_PATTERN.fullmatch(v)]
    assert not malformed, f"{len(malformed)} VINs are not 17 allowed characters, e.g. {malformed[:5]}"
    bad = [(v, _vin_check_character(v)) for v in vins if v[8] != _vin_check_character(v)]
    assert not bad, f"{len(bad)} VINs with a wrong check digit (VIN, expected position 9), e.g. {bad[:5]}"


def test_vin_check_digit_implementation_on_known_vins() -> None:
    # published valid VINs
    for vin in ("1M8GDM9AXKP042788", "11111111111111111", "5GZCZ43D13S812715", "1HGCM82633A004352"):
        assert _vin_check_character(vin) == vin[8], vin


def test_vin_position_10_encodes_model_year(data: Insurance) -> None:
    rows = data.db.sql("SELECT vin, model_year FROM vehicles").fetchall()
    bad = [(vin, year) for vin, year in rows if vin[9] != VIN_YEAR_CODES[(year - 1980) % 30]]
    assert not bad, f"{len(bad)} VINs whose position 10 does not encode model_year, e.g. {bad[:5]}"


def test_vin_position_7_disambiguates_the_year_cycle(data: Insurance) -> None:
    # 49 CFR 565.15: position 7 is numeric for model years 1980-2009 and alphabetic from 2010
    rows = data.db.sql("SELECT vin, model_year FROM vehicles").fetchall()
    bad = [(vin, year) for vin, year in rows if vin[6].isdigit() != (year < 2010)]
    assert not bad, f"{len(bad)} VINs whose position 7 contradicts the model year, e.g. {bad[:5]}"


def test_vins_are_unique(data: Insurance) -> None:
    vins = _column(data, "vehicles", "vin")
    duplicated = [v for v, n in Counter(vins).items() if n > 1]
    assert not duplicated, f"{len(duplicated)} VINs used more than once, e.g. {duplicated[:5]}"


def test_vin_wmi_belongs_to_make(data: Insurance, vehicle_catalogue: list[dict[str, str]]) -> None:
    wmis: dict[str, set[str]] = {}
    for row in vehicle_catalogue:
        wmis.setdefault(row["make"], set()).add(row["wmi"])
    pairs = data.db.sql("SELECT make, left(vin, 3) AS wmi, count(*) FROM vehicles GROUP BY ALL").fetchall()
    bad = [p for p in pairs if p[1] not in wmis.get(p[0], set())]
    assert not bad, f"{sum(p[2] for p in bad)} VINs whose WMI is not one of the make's: {bad[:10]}"


# --------------------------------------------------------------------------------------------------
# addresses


def test_city_zip_state_agree_and_vehicles_garaged_at_owner_address(data: Insurance) -> None:
    known = {(r["city"], r["state"], r["postal_code"]) for r in _vocab_rows("us_zips.csv")}
    assert len(known) > 29_000
    triples = data.db.sql("SELECT city, state, postal_code, count(*) FROM persons GROUP BY ALL").fetchall()
    bad = [t for t in triples if t[:3] not in known]
    assert not bad, f"{sum(t[3] for t in bad)} persons whose (city, state, ZIP) is not in us_zips.csv: " \
                    f"{bad[:10]}"
    count, sample = data.violations(
        "SELECT v.vehicle_id, v.garaging_state, v.garaging_postal_code, p.state, p.postal_code "
        "FROM vehicles v JOIN persons p USING (person_id) "
        "WHERE v.garaging_state IS DISTINCT FROM p.state "
        "OR v.garaging_postal_code IS DISTINCT FROM p.postal_code")
    assert count == 0, f"{count} vehicles not garaged at the owner's address, e.g. {sample}"


# --------------------------------------------------------------------------------------------------
# keys


@pytest.mark.parametrize(("table", "cols"), [
    ("persons", "person_id"),
    ("vehicles", "vehicle_id"),
    ("profiles", "profile_id"),
    ("policies", "policy_id"),
    ("claims", "claim_id"),
    ("policies", "policy_number"),
    ("persons", "email"),
    ("persons", "driver_license_state, driver_license_number"),
])
def test_ids_are_unique_in_their_table(data: Insurance, table: str, cols: str) -> None:
    any_null = " OR ".join(f"{c} IS NULL" for c in cols.split(", "))
    nulls, sample = data.violations(f"SELECT * FROM {table} WHERE {any_null}")
    assert nulls == 0, f"{nulls} rows of {table} with a null in ({cols}), e.g. {sample}"
    count, sample = data.violations(f"SELECT {cols}, count(*) FROM {table} GROUP BY ALL HAVING count(*) > 1")
    assert count == 0, f"{count} values of ({cols}) repeated in {table}, e.g. {sample}"


@pytest.mark.parametrize(("table", "column", "version"), [
    ("persons", "person_id", 4),
    ("vehicles", "vehicle_id", 4),
    ("vehicles", "person_id", 4),
    ("profiles", "profile_id", 5),
    ("profiles", "person_id", 4),
    ("profiles", "vehicle_id", 4),
    ("policies", "policy_id", 4),
    ("policies", "person_id", 4),
    ("policies", "vehicle_id", 4),
    ("claims", "claim_id", 4),
    ("claims", "policy_id", 4),
])
def test_uuids_are_valid_rfc4122(data: Insurance, table: str, column: str, version: int) -> None:
    values = data.tables[table].column(column)
    assert values.null_count == 0
    valid = pc.match_substring_regex(values, UUID_PATTERN.format(version=version))
    bad = pc.filter(values, pc.invert(valid))
    assert len(bad) == 0, f"{len(bad)} values of {table}.{column} are not version-{version} " \
                          f"RFC 4122 UUIDs, e.g. {bad[:5].to_pylist()}"
    # and Python's parser agrees on a sample
    for text in values[:: max(1, len(values) // 500)].to_pylist():
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, version, uuid.RFC_4122)


def test_profile_id_is_uuid5_of_person_and_vehicle(data: Insurance) -> None:
    profiles = data.tables["profiles"]
    rows = np.random.default_rng(12345).choice(profiles.num_rows, size=1000, replace=False)
    sample = profiles.take(pa.array(rows)).select(["profile_id", "person_id", "vehicle_id"]).to_pylist()
    bad = [r for r in sample
           if r["profile_id"] != str(uuid.uuid5(PROFILE_NAMESPACE, f"{r['person_id']}:{r['vehicle_id']}"))]
    assert not bad, f"{len(bad)} of 1000 sampled profile_ids are not uuid5(person_id:vehicle_id), " \
                    f"e.g. {bad[:3]}"


@pytest.mark.parametrize(("table", "column", "parent", "key"), [
    ("vehicles", "person_id", "persons", "person_id"),
    ("profiles", "person_id", "persons", "person_id"),
    ("profiles", "vehicle_id", "vehicles", "vehicle_id"),
    ("policies", "person_id", "persons", "person_id"),
    ("policies", "vehicle_id", "vehicles", "vehicle_id"),
    ("claims", "policy_id", "policies", "policy_id"),
])
def test_foreign_keys_resolve(data: Insurance, table: str, column: str, parent: str, key: str) -> None:
    count, sample = data.violations(
        f"SELECT c.{column} FROM {table} c ANTI JOIN {parent} p ON c.{column} = p.{key} "
        f"UNION ALL SELECT {column} FROM {table} WHERE {column} IS NULL")
    assert count == 0, f"{count} values of {table}.{column} not found in {parent}.{key}, e.g. {sample}"


def test_policy_holder_owns_the_vehicle(data: Insurance) -> None:
    count, sample = data.violations(
        "SELECT pol.policy_id, pol.person_id, v.person_id AS owner FROM policies pol "
        "JOIN vehicles v USING (vehicle_id) WHERE pol.person_id IS DISTINCT FROM v.person_id")
    assert count == 0, f"{count} policies whose person_id is not the vehicle's owner, e.g. {sample}"
    count, sample = data.violations(
        "SELECT vehicle_id, count(*) FROM policies GROUP BY ALL HAVING count(*) <> 1")
    assert count == 0, f"{count} vehicles with other than one policy, e.g. {sample}"


# --------------------------------------------------------------------------------------------------
# cardinalities


def test_one_to_three_vehicles_per_person_with_mean_near_spec(data: Insurance) -> None:
    counts = Counter(_column(data, "vehicles", "person_id"))
    persons = _column(data, "persons", "person_id")
    per_person = np.array([counts.get(p, 0) for p in persons])
    assert per_person.min() >= 1, f"{int((per_person == 0).sum())} persons without a vehicle"
    assert per_person.max() <= 3, f"{int((per_person > 3).sum())} persons with more than 3 vehicles"
    expected_mean = 1 * 0.6 + 2 * 0.3 + 3 * 0.1
    assert abs(per_person.mean() - expected_mean) <= 0.02, per_person.mean()
    shares = np.bincount(per_person, minlength=4)[1:] / len(per_person)
    np.testing.assert_allclose(shares, [0.6, 0.3, 0.1], atol=0.01)


def test_one_profile_per_person_for_the_first_vehicle(data: Insurance) -> None:
    first_vehicle: dict[str, str] = {}
    owners, vehicles = _column(data, "vehicles", "person_id"), _column(data, "vehicles", "vehicle_id")
    for person, vehicle in zip(owners, vehicles, strict=True):
        first_vehicle.setdefault(person, vehicle)
    profiles = Counter(_column(data, "profiles", "person_id"))
    persons = _column(data, "persons", "person_id")
    not_one = [(p, profiles.get(p, 0)) for p in persons if profiles.get(p, 0) != 1]
    assert not not_one, f"{len(not_one)} persons without exactly one profile, e.g. {not_one[:5]}"
    bad = [(p, v, first_vehicle.get(p))
           for p, v in zip(_column(data, "profiles", "person_id"), _column(data, "profiles", "vehicle_id"),
                           strict=True)
           if v != first_vehicle.get(p)]
    assert not bad, f"{len(bad)} profiles not on the person's first vehicle (person, profile's, first), " \
                    f"e.g. {bad[:5]}"


def test_profile_copies_agree_with_person_and_vehicle(data: Insurance) -> None:
    count, sample = data.violations(
        "SELECT pr.profile_id FROM profiles pr JOIN persons p USING (person_id) JOIN vehicles v "
        "ON pr.vehicle_id = v.vehicle_id WHERE "
        "pr.full_name IS DISTINCT FROM p.first_name || ' ' || p.last_name "
        "OR pr.lob_type IS DISTINCT FROM p.lob_type OR pr.residence_state IS DISTINCT FROM p.state "
        "OR pr.city IS DISTINCT FROM p.city OR pr.postal_code IS DISTINCT FROM p.postal_code "
        "OR pr.garaging_state IS DISTINCT FROM v.garaging_state "
        "OR pr.primary_vehicle_vin IS DISTINCT FROM v.vin "
        "OR pr.risk_rating IS DISTINCT FROM v.risk_rating "
        "OR pr.vehicle_summary IS DISTINCT FROM concat(v.model_year, ' ', v.make, ' ', v.model)")
    assert count == 0, f"{count} profiles whose copied columns disagree with the person or vehicle, " \
                       f"e.g. {sample}"


# --------------------------------------------------------------------------------------------------
# policies and claims


def test_claim_date_inside_policy_period_and_not_after_as_of(data: Insurance) -> None:
    count, sample = data.violations(
        "SELECT c.claim_id, c.claim_date, p.effective_date, p.expiration_date FROM claims c "
        "JOIN policies p USING (policy_id) WHERE c.claim_date IS NULL OR c.claim_date < p.effective_date "
        f"OR c.claim_date >= p.expiration_date OR c.claim_date > DATE '{data.as_of}'")
    assert count == 0, f"{count} claims outside their policy period or after {data.as_of}, e.g. {sample}"


def test_premiums_increase_with_risk(data: Insurance) -> None:
    means = dict(data.db.sql("SELECT v.risk_rating, avg(p.annual_premium) FROM policies p "
                             "JOIN vehicles v USING (vehicle_id) GROUP BY ALL").fetchall())
    assert set(means) == {"Low", "Medium", "High"}, means
    assert means["High"] > 1.2 * means["Medium"] > 1.2 * 1.2 * means["Low"], means


def test_claim_amounts_depend_on_type(data: Insurance) -> None:
    means = dict(data.db.sql("SELECT claim_type, avg(claim_amount) FROM claims GROUP BY ALL").fetchall())
    assert means["Theft"] > 1.5 * means["Collision"], means
    assert means["Collision"] > 3 * means["Glass"], means


# --------------------------------------------------------------------------------------------------
# provenance, names, mix


@pytest.mark.parametrize("table", TABLES)
def test_synthetic_source_on_every_row(data: Insurance, table: str) -> None:
    assert data.synthetic_source.strip()
    assert "synthetic_source" in data.tables[table].column_names
    count, sample = data.violations(
        f"SELECT synthetic_source FROM {table} WHERE synthetic_source IS NULL OR trim(synthetic_source) = '' "
        f"OR synthetic_source <> '{data.synthetic_source}'")
    assert count == 0, f"{count} rows of {table} without the synthetic_source mark, e.g. {sample}"


def test_realistic_name_variety(data: Insurance) -> None:
    first = len(set(_column(data, "persons", "first_name")))
    last = len(set(_column(data, "persons", "last_name")))
    assert first >= 500, first
    assert last >= 900, last


def test_emails_are_derived_from_the_persons_names(data: Insurance) -> None:
    rows = data.db.sql("SELECT email, lower(first_name), lower(last_name), person_id FROM persons").fetchall()
    unrelated = [r for r in rows if r[1] not in r[0] and r[2] not in r[0]]
    assert not unrelated, f"{len(unrelated)} e-mails containing neither name, e.g. {unrelated[:5]}"
    without_last = [r for r in rows if r[2] not in r[0].split("@")[0]]
    share = 1 - len(without_last) / len(rows)
    # Real address patterns include first name + initial ("scottg") and first name alone, by design 16%.
    assert share >= 0.8, f"only {share:.2%} of e-mails contain the last name; {len(without_last)} do not, " \
                         f"e.g. {without_last[:5]}"


def test_personal_lob_share_near_spec(data: Insurance) -> None:
    share = data.scalar("SELECT avg((lob_type = 'Personal')::DOUBLE) FROM persons")
    assert abs(share - 0.7) <= 0.01, share
    assert data.scalar("SELECT count(*) FROM persons WHERE lob_type NOT IN ('Personal', 'Commercial') "
                       "OR lob_type IS NULL") == 0

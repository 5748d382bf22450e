"""The classic endpoints over real HTTP: /healthz and /generate/person|vehicle|profile|bundle.

Shapes as the classic system answered them; strict input (every bad value is a 422 envelope, never a default or a
500); determinism (the reported seed replays the answer byte for byte); bundle coherence; and each endpoint
generating only what it returns. That last promise is checked by spying on Frame._compute (the one place a
column's values are made) while the server answers: an endpoint may compute the columns of its table and
the columns those read through refs, lookups and expressions, nothing more. The metadata counts show the
same from outside: /generate/person reports 0 vehicles and 0 profiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from esdh import library
from esdh.api import ApiSettings
from esdh.engine.frame import Frame
from tests.api_server import client, running_server

ENTITIES = {"person": "persons", "vehicle": "vehicles", "profile": "profiles"}
MARKER = "enterprise-synthetic-data-hub v0.1"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with running_server(ApiSettings()) as base, client(base) as session:
        yield session


def post(http: httpx.Client, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    return http.post(path, json=body, **kwargs) if body is not None else http.post(path, **kwargs)


def assert_invalid(response: httpx.Response, *fragments: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == {"code", "message", "details"}
    assert error["code"] == "invalid_request"
    for fragment in fragments:
        assert fragment in error["message"], error["message"]
    return error


# -- /healthz ---------------------------------------------------------------------------------------------


def test_healthz_shape_and_plan(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["status", "dataset_version", "default_seed", "target_records", "version", "seed", "plan"]
    assert body["status"] == "ok" and body["dataset_version"] == body["version"] == "v0.1"
    assert body["default_seed"] == body["seed"] == 42 and body["target_records"] == 200
    steps = body["plan"]["steps"]
    assert steps[:2] == ["Dataset version: v0.1", "Target person records: 200"]
    assert all(isinstance(s, str) and s for s in steps)
    # derived from the spec and its plan, not a fixed list: every table, relation and rule is named
    dataset = library.load("insurance")
    plan = library.plan(dataset, seed=42, rows={"persons": 200})
    text = "\n".join(steps)
    for table in ("persons", "vehicles", "profiles"):
        assert f"{table}: " in text
        assert f"{plan.rows[table]:,} rows" in text
        for rule in dataset.tables[table].spec.rules:
            assert f"{table}.{rule.name}" in text
    assert "vehicles.person_id references persons.person_id" in text
    assert MARKER in text and "seed 42" in text
    assert http.get("/healthz").json() == body


def test_healthz_follows_settings_and_is_open_with_keys() -> None:
    settings = ApiSettings(api_keys=["k1"], default_seed=7, target_records=30)
    with running_server(settings) as base, client(base) as http:
        body = http.get("/healthz").json()  # no key: a health probe must not need one
        assert body["default_seed"] == body["seed"] == 7 and body["target_records"] == 30
        assert "Target person records: 30" in body["plan"]["steps"]
        assert any("seed 7 " in step for step in body["plan"]["steps"])
        assert http.post("/generate/person").status_code == 401


# -- shapes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_entity_shape(http: httpx.Client, entity: str) -> None:
    table = ENTITIES[entity]
    body = post(http, f"/generate/{entity}", {"records": 3, "seed": 11}).json()
    assert list(body) == ["metadata", table, "record_count", "seed", "records_requested"]
    assert body["record_count"] == body["records_requested"] == len(body[table]) == 3 and body["seed"] == 11
    meta = body["metadata"]
    assert meta["dataset_version"] == "v0.1" and meta["generated_at"] == "2026-01-01T00:00:00"
    assert meta["seed"] == 11 and meta["synthetic_source"] == MARKER and "seed=11" in meta["notes"]
    # the metadata counts what was generated: only this table
    assert {k: v for k, v in meta.items() if k.startswith("record_count_")} == {
        f"record_count_{t}": 3 if t == table else 0 for t in ENTITIES.values()}
    columns = library.load("insurance").tables[table].visible_columns
    for row in body[table]:
        assert list(row) == columns
        assert row["synthetic_source"] == MARKER and row[columns[0]]
    if table == "persons":
        for row in body[table]:  # JSON values: dates as ISO text
            assert len(row["date_of_birth"]) == 10 and row["date_of_birth"][4] == "-"


def test_bundle_shape_and_coherence(http: httpx.Client) -> None:
    body = post(http, "/generate/bundle", {"records": 40, "seed": 5}).json()
    assert list(body) == ["metadata", "persons", "vehicles", "profiles", "record_count", "seed", "records_requested"]
    assert body["seed"] == 5 and body["records_requested"] == 40 and body["record_count"] == 40
    persons = {p["person_id"]: p for p in body["persons"]}
    vehicles = {v["vehicle_id"]: v for v in body["vehicles"]}
    assert len(persons) == len(body["profiles"]) == 40
    assert len(body["vehicles"]) >= 40
    assert {f"record_count_{t}": len(body[t]) for t in ENTITIES.values()} == {
        k: v for k, v in body["metadata"].items() if k.startswith("record_count_")}
    # every vehicle belongs to a person of this answer, every person owns one to three, garaged at home
    owners = [v["person_id"] for v in body["vehicles"]]
    assert set(owners) == set(persons)
    assert all(1 <= owners.count(p) <= 3 for p in persons)
    for vehicle in body["vehicles"]:
        owner = persons[vehicle["person_id"]]
        assert (vehicle["garaging_state"], vehicle["garaging_postal_code"], vehicle["lob_type"]) == (
            owner["state"], owner["postal_code"], owner["lob_type"])
    # one profile per person, for a vehicle of this answer that the person owns (the first)
    assert sorted(p["person_id"] for p in body["profiles"]) == sorted(persons)
    for profile in body["profiles"]:
        person, vehicle = persons[profile["person_id"]], vehicles[profile["vehicle_id"]]
        assert vehicle["person_id"] == person["person_id"]
        assert vehicle["vehicle_id"] == next(v["vehicle_id"] for v in body["vehicles"]
                                             if v["person_id"] == person["person_id"])
        assert profile["full_name"] == f"{person['first_name']} {person['last_name']}"
        assert profile["primary_vehicle_vin"] == vehicle["vin"]
        assert profile["vehicle_summary"] == f"{vehicle['model_year']} {vehicle['make']} {vehicle['model']}"
        assert profile["garaging_state"] == vehicle["garaging_state"]


# -- defaults, determinism, seeds ---------------------------------------------------------------------------


def test_missing_or_empty_body_means_defaults(http: httpx.Client) -> None:
    explicit = post(http, "/generate/person", {"records": 5, "seed": 42})
    assert explicit.status_code == 200
    for response in (http.post("/generate/person"),
                     http.post("/generate/person", content=b"", headers={"content-type": "application/json"}),
                     post(http, "/generate/person", {}),
                     post(http, "/generate/person", {"records": None, "seed": None, "randomize": None}),
                     post(http, "/generate/person", {"randomize": False})):
        assert response.status_code == 200, response.text
        assert response.content == explicit.content


@pytest.mark.parametrize("entity", [*ENTITIES, "bundle"])
def test_same_seed_same_bytes_other_seed_other_data(http: httpx.Client, entity: str) -> None:
    first = post(http, f"/generate/{entity}", {"records": 4, "seed": 123})
    again = post(http, f"/generate/{entity}", {"records": 4, "seed": 123})
    other = post(http, f"/generate/{entity}", {"records": 4, "seed": 124})
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.content == again.content
    table = ENTITIES.get(entity, "persons")
    assert first.json()[table] != other.json()[table]


def test_concurrent_answers_equal_sequential_ones() -> None:
    """The server shares one loaded spec between requests; answering at once must not change a byte."""
    bodies = [{"records": 30, "seed": seed} for seed in range(8)]
    with running_server(ApiSettings(max_concurrent=8)) as base, client(base) as http:
        alone = [post(http, "/generate/bundle", body).content for body in bodies]
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(lambda body: post(http, "/generate/bundle", body).content, bodies))
    assert together == alone


def test_fewer_records_are_a_prefix(http: httpx.Client) -> None:
    three = post(http, "/generate/vehicle", {"records": 3, "seed": 9}).json()["vehicles"]
    eight = post(http, "/generate/vehicle", {"records": 8, "seed": 9}).json()["vehicles"]
    assert eight[:3] == three


def test_seed_zero_is_a_seed(http: httpx.Client) -> None:
    body = post(http, "/generate/person", {"records": 1, "seed": 0}).json()
    assert body["seed"] == body["metadata"]["seed"] == 0
    assert body["persons"] != post(http, "/generate/person", {"records": 1}).json()["persons"]


@pytest.mark.parametrize("request_body", [{"seed": "random"}, {"seed": "RaNdOm"}, {"randomize": True},
                                          {"seed": "random", "randomize": True}])
@pytest.mark.parametrize("entity", ["person", "bundle"])
def test_random_seed_is_reported_and_replays(http: httpx.Client, entity: str, request_body: dict) -> None:
    drawn = post(http, f"/generate/{entity}", {"records": 3, **request_body}).json()
    seed = drawn["seed"]
    assert isinstance(seed, int) and not isinstance(seed, bool) and seed >= 1
    assert drawn["metadata"]["seed"] == seed and "randomized seed" in drawn["metadata"]["notes"]
    replay = post(http, f"/generate/{entity}", {"records": 3, "seed": seed}).json()
    assert replay["persons"] == drawn["persons"]
    if entity == "bundle":
        assert replay["vehicles"] == drawn["vehicles"] and replay["profiles"] == drawn["profiles"]


def test_randomize_draws_a_fresh_seed_each_time(http: httpx.Client) -> None:
    seeds = {post(http, "/generate/person", {"records": 1, "randomize": True}).json()["seed"] for _ in range(3)}
    assert len(seeds) == 3  # 31-bit seeds: a repeat would be a one-in-a-billion event


# -- strict input ------------------------------------------------------------------------------------------

INVALID_FIELDS = [
    ({"records": True}, "records", "valid integer"),  # a boolean is not a number of records
    ({"records": False}, "records", "valid integer"),
    ({"records": 0}, "records", "greater than or equal to 1"),
    ({"records": -1}, "records", "greater than or equal to 1"),
    ({"records": 1.5}, "records", "valid integer"),
    ({"records": "5"}, "records", "valid integer"),
    ({"records": 10_001}, "records", "at most 10000"),
    ({"records": 10**30}, "records", "at most 10000"),
    ({"seed": "abc"}, "seed", "'random'"),
    ({"seed": "42"}, "seed", "'random'"),
    ({"seed": -1}, "seed", "whole number"),
    ({"seed": True}, "seed", "whole number"),
    ({"seed": 1.5}, "seed", "whole number"),
    ({"seed": 2**53}, "seed", "whole number"),
    ({"seed": [1]}, "seed", "whole number"),
    ({"randomize": "false"}, "randomize", "valid boolean"),  # not truthy: an error
    ({"randomize": 1}, "randomize", "valid boolean"),
    ({"seed": 5, "randomize": True}, "body", "not both"),
    ({"recrods": 5}, "recrods", "Extra inputs"),
]


@pytest.mark.parametrize(("request_body", "field", "fragment"), INVALID_FIELDS,
                         ids=[json.dumps(b) for b, _, _ in INVALID_FIELDS])
def test_invalid_field_is_422(http: httpx.Client, request_body: dict, field: str, fragment: str) -> None:
    error = assert_invalid(post(http, "/generate/person", request_body), f"{field}: ", fragment)
    assert error["details"][0]["location"] == ["body"] + ([] if field == "body" else [field])


def test_a_whole_float_is_the_integer_it_is(http: httpx.Client) -> None:
    """JSON Schema (which /openapi.json documents the body in) counts 2.0 as the integer 2: so does the server."""
    assert post(http, "/generate/person", {"records": 2.0, "seed": 7.0}).content == \
        post(http, "/generate/person", {"records": 2, "seed": 7}).content


def test_every_field_error_is_reported_at_once(http: httpx.Client) -> None:
    error = assert_invalid(post(http, "/generate/bundle", {"records": 0, "seed": "abc", "randomize": "yes"}))
    assert [d["location"] for d in error["details"]] == [["body", "records"], ["body", "seed"],
                                                         ["body", "randomize"]]


def test_the_records_limit_is_the_servers() -> None:
    with running_server(ApiSettings(max_records=50)) as base, client(base) as http:
        error = assert_invalid(post(http, "/generate/profile", {"records": 51}), "records: ", "at most 50")
        assert error["details"][0]["type"] == "too_many_records"
        assert post(http, "/generate/profile", {"records": 50}).json()["record_count"] == 50


INVALID_BODIES = [
    (b'{"records": 3', "application/json", "not valid JSON"),
    (b"{records: 3}", "application/json", "not valid JSON"),
    (b"\xff\xfe", "application/json", "not valid JSON"),
    (b" ", "application/json", "not valid JSON"),
    (b"[]", "application/json", "not an array"),
    (b'[{"records": 3}]', "application/json", "not an array"),
    (b"null", "application/json", "not null"),
    (b'"records"', "application/json", "not a string"),
    (b"3", "application/json", "not a number"),
    (b"true", "application/json", "not a boolean"),
    (b'{"records": 3}', "text/plain", "Content-Type: application/json"),
    (b"records=3", "application/x-www-form-urlencoded", "Content-Type: application/json"),
]


@pytest.mark.parametrize(("content", "content_type", "fragment"), INVALID_BODIES,
                         ids=[f"{t}:{c!r}" for c, t, _ in INVALID_BODIES])
@pytest.mark.parametrize("entity", ["person", "bundle"])
def test_invalid_body_is_422(http: httpx.Client, entity: str, content: bytes, content_type: str,
                             fragment: str) -> None:
    response = http.post(f"/generate/{entity}", content=content, headers={"content-type": content_type})
    assert assert_invalid(response, "body: ", fragment)["details"][0]["location"] == ["body"]


def test_json_body_without_content_type_is_read_as_json(http: httpx.Client) -> None:
    response = http.post("/generate/person", content=b'{"records": 2, "seed": 3}')
    assert response.status_code == 200 and response.json()["record_count"] == 2


def test_json_suffix_media_type_is_json(http: httpx.Client) -> None:
    response = http.post("/generate/person", content=b'{"records": 2}',
                         headers={"content-type": "application/vnd.api+json; charset=utf-8"})
    assert response.status_code == 200 and response.json()["record_count"] == 2


# -- generates only what it returns ------------------------------------------------------------------------


def needed_columns(table: str) -> dict[str, set[str]]:
    """The columns answering ``table`` may compute: its visible columns and, transitively, what they read
    (same-table dependencies, and the target column of every ref and lookup, through its key column)."""
    dataset = library.load("insurance")
    need: dict[str, set[str]] = {}
    todo = [(table, c) for c in dataset.tables[table].visible_columns]
    while todo:
        name, column = todo.pop()
        if column in need.setdefault(name, set()):
            continue
        need[name].add(column)
        col = dataset.tables[name].columns[column]
        todo += [(name, dep) for dep in col.depends_on]
        if col.kind in ("ref", "lookup"):
            todo.append((col.target_table, col.target_column))
            if col.via:
                todo.append((name, col.via))
    return need


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_an_endpoint_generates_only_what_it_returns(http: httpx.Client, monkeypatch: pytest.MonkeyPatch,
                                                    entity: str) -> None:
    computed: dict[str, set[str]] = {}
    real = Frame._compute

    def spy(frame: Frame, col: Any) -> Any:
        computed.setdefault(frame.table, set()).add(col.name)
        return real(frame, col)

    monkeypatch.setattr(Frame, "_compute", spy)  # the server runs in this process: it answers through the spy
    table = ENTITIES[entity]
    assert post(http, f"/generate/{entity}", {"records": 50, "seed": 2}).status_code == 200
    allowed = needed_columns(table)
    assert set(computed) == set(allowed), computed
    for name, columns in computed.items():
        assert columns <= allowed[name], (name, columns - allowed[name])
    assert computed[table] == set(library.load("insurance").tables[table].columns)
    if table == "persons":
        assert set(computed) == {"persons"}
    if table == "vehicles":  # the owner's key, LOB, state and ZIP; not names, birth dates, emails...
        assert computed["persons"] == {"person_id", "lob_type", "state", "postal_code"}


def test_the_largest_request_is_answered(http: httpx.Client) -> None:
    body = post(http, "/generate/person", {"records": 10_000, "seed": 1}).json()
    assert body["record_count"] == len(body["persons"]) == 10_000
    assert body["metadata"]["record_count_vehicles"] == 0
    assert len({p["person_id"] for p in body["persons"]}) == 10_000


def test_answers_match_the_schema_openapi_derives_from_the_spec(http: httpx.Client) -> None:
    import jsonschema

    document = http.get("/openapi.json").json()
    for entity in ("person", "vehicle", "profile", "bundle"):
        schema = document["paths"][f"/generate/{entity}"]["post"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for seed in (0, 7, 2**40):
            answer = post(http, f"/generate/{entity}", {"records": 200, "seed": seed}).json()
            assert not list(validator.iter_errors(answer)), (entity, seed)
    persons = document["paths"]["/generate/person"]["post"]["responses"]["200"]["content"]["application/json"][
        "schema"]["properties"]["persons"]["items"]
    assert persons["properties"]["lob_type"] == {"type": "string", "enum": ["Personal", "Commercial"]}
    assert persons["properties"]["address_line_2"]["type"] == ["string", "null"]  # the one nullable address part
    assert persons["properties"]["date_of_birth"]["format"] == "date"
    # the schema is strict enough to catch a row that breaks the spec
    answer = post(http, "/generate/person", {"records": 3, "seed": 1}).json()
    answer["persons"][2]["lob_type"] = "Hobby"
    answer["persons"][1]["postal_code"] = "1234"
    answer["persons"][0]["invented"] = 1
    problems = {(tuple(e.absolute_path), e.validator) for e in jsonschema.Draft202012Validator(
        document["paths"]["/generate/person"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    ).iter_errors(answer)}
    assert problems == {(("persons", 2, "lob_type"), "enum"), (("persons", 1, "postal_code"), "pattern"),
                        (("persons", 0), "additionalProperties")}


def test_the_old_setting_name_seed_dataset_still_works_with_a_warning() -> None:
    assert ApiSettings().classic_dataset == "insurance"
    with pytest.warns(DeprecationWarning, match="classic_dataset"):
        settings = ApiSettings.model_validate({"seed_dataset": "retail"})
    assert settings.classic_dataset == "retail"
    with pytest.warns(DeprecationWarning):  # the new name wins when both are given
        assert ApiSettings.model_validate({"seed_dataset": "retail", "classic_dataset": "x"}).classic_dataset == "x"

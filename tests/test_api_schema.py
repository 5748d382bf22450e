"""Property-based tests of the whole HTTP API from its own OpenAPI document (schemathesis): whatever a client
sends that the document allows (and much that it does not), the server never fails (no 5xx) and every answer
matches the documented schema, status and media type. Sizes are kept small (max_rows 2000) so that fuzzing
the streamed downloads stays fast."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from esdh import library  # noqa: E402
from esdh.api import ApiSettings, create_app  # noqa: E402
from esdh.api.v1_models import ValidationReport  # noqa: E402
from tests.api_server import client, running_server  # noqa: E402

# Every answer's status, media type, headers and body (JSON bodies against their schema, the error envelope
# included) are checked on every operation.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance,
          response_headers_conformance]
# And where the schema can say everything a request must be, whatever it allows is served (2xx, or 404 for
# a name that does not exist): the classic bodies (records up to max_records, seed or randomize), a dataset's
# versions. Left out, with reason: /v1/datasets/{name}/generate and the previews (max_rows and the rows=TABLE=N
# syntax depend on the dataset's tables and sizes: refused with 422 naming the limit) and /v1/validate (the
# file's multipart name, <table>.<ext>, which OpenAPI cannot constrain and schemathesis cannot set).
ACCEPTING = {"POST /generate/person", "POST /generate/vehicle", "POST /generate/profile", "POST /generate/bundle",
             "GET /v1/datasets/{name}", "GET /v1/datasets", "GET /healthz", "GET /v1/runs",
             "GET /v1/runs/{dataset}/{version}", "POST /v1/runs/{dataset}/{version}/verify"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    """The application's OpenAPI schema, over a registry of two small runs."""
    root = tmp_path_factory.mktemp("schema") / "runs"
    library.run("insurance", root, rows={"persons": 40})
    library.run("insurance", root, version="1.0.0+2", rows={"persons": 40}, seed=5)
    app = create_app(ApiSettings(registry=root, max_rows=2000, rate_limit=1_000_000, max_concurrent=8,
                                 max_body_bytes=256 * 1024))
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    loaded.hook(flatmap_path_parameters)
    loaded.hook(flatmap_query)
    return loaded


# Random names mostly answer 404; half of the examples use names that exist, so that fuzzing reaches the
# previews, downloads, run files and verification themselves.
KNOWN_PATHS = {"name": ["insurance", "insurance", "finance_transactions"], "table": ["persons", "claims", "accounts"],
               "dataset": ["insurance"], "version": ["1.0.0", "1.0.0+2"],
               "path": ["datapackage.json", "reports/validation.html", "reports/drift.json", "persons.parquet",
                        "generation_lineage.yaml", "../registry.sqlite"]}
KNOWN_QUERY = {"table": [None, "persons", "claims"], "version": [None, "1.0.0"], "dataset": [None, "insurance"],
               "rows": [None, ["persons=300"], ["persons=3000"]], "scale": [None, 0.5], "seed": [None, 12345],
               "format": [None, "csv", "ndjson"]}


def _known(values: dict | None, known: dict, names: set[str]) -> st.SearchStrategy:
    """``values`` as generated, or with the parameters in ``names`` set to known values (None: left out)."""
    fields = {k: st.sampled_from(known[k]) for k in names if k in known}
    if not fields:
        return st.just(values)
    chosen = st.fixed_dictionaries(fields).map(
        lambda picked: {k: v for k, v in {**(values or {}), **picked}.items() if v is not None})
    return st.one_of(st.just(values), chosen)


def flatmap_path_parameters(context, path_parameters):
    return _known(path_parameters, KNOWN_PATHS, set(path_parameters or {}))


def flatmap_query(context, query):
    return _known(query, KNOWN_QUERY, {p.name for p in context.operation.query})


FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _fuzz(api_schema, v1: bool) -> list[str]:
    """Fuzz every operation of one part of the API (schemathesis strategies driven by Hypothesis directly, not
    through schemathesis' pytest plugin, which follows pytest's internals and broke with pytest 9.2)."""
    fuzzed = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/v1/") != v1:
            continue

        label = f"{operation.method.upper()} {operation.path}"
        _conforms(operation, [*CHECKS, positive_data_acceptance] if label in ACCEPTING else CHECKS)
        fuzzed.append(label)
    return fuzzed


def _conforms(operation, checks: list) -> None:
    @given(case=operation.as_strategy())
    @FUZZ
    def conforms(case) -> None:
        case.call_and_validate(checks=checks)

    conforms()


def test_v1_conforms_to_its_schema(api_schema) -> None:
    fuzzed = _fuzz(api_schema, v1=True)
    assert "GET /v1/datasets/{name}/generate" in fuzzed and len(fuzzed) >= 9, fuzzed


def test_other_endpoints_conform_to_their_schema(api_schema) -> None:
    """/healthz and the classic /generate/* (routes_classic), fuzzed the same way."""
    fuzzed = _fuzz(api_schema, v1=False)
    assert {"GET /healthz", "POST /generate/person", "POST /generate/bundle"} <= set(fuzzed), fuzzed


def test_openapi_documents_the_errors(api_schema) -> None:
    document = api_schema.raw_schema
    assert document["components"]["schemas"]["ErrorEnvelope"]["required"] == ["error"]
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            for status in ("401", "429"):
                assert operation["responses"][status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)
            if "parameters" in operation or "requestBody" in operation:
                assert "ErrorEnvelope" in str(operation["responses"]["422"]), (method, path)
    for path, operations in document["paths"].items():  # every error an operation declares is the envelope
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert "500" in errors, (method, path)
            for status, response in errors.items():
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)


# -- uploads: schemathesis cannot name the files it uploads, so the validator's input is fuzzed here ---------

HEADER = "person_id,first_name,last_name,date_of_birth,email\n"
CONTENT = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(lambda text: (HEADER + text).encode()),
    st.lists(st.tuples(st.text(max_size=8), st.integers(), st.text(max_size=5)), max_size=5).map(
        lambda rows: (HEADER + "".join(f"{a},{b},{c},2000-01-0{b % 9 + 1},x@example.com\n" for a, b, c in rows))
        .encode()),
    st.lists(st.dictionaries(st.sampled_from(["person_id", "age", "date_of_birth", "email"]),
                             st.one_of(st.none(), st.integers(), st.text(max_size=5), st.floats(), st.booleans())),
             max_size=4).map(lambda rows: "\n".join(json.dumps(r) for r in rows).encode()))


@pytest.fixture(scope="module")
def upload_server() -> Iterator:
    with running_server(ApiSettings(rate_limit=1_000_000)) as url, client(url) as http:
        yield http


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=CONTENT, name=st.sampled_from(["persons.csv", "persons.parquet", "persons.ndjson", "claims.json",
                                              "claims.jsonl", "vehicles.csv"]))
def test_validate_answers_any_upload(upload_server, content: bytes, name: str) -> None:
    response = upload_server.post("/v1/validate/insurance", files={"files": (name, content)})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        ValidationReport.model_validate(response.json())
    else:
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_the_schema_says_what_is_refused(api_schema) -> None:
    """What the server refuses although its type fits is said by the schema itself (issue 13): seed with
    randomize, records above max_records, an empty upload; a dataset version is found or not (404)."""
    document = api_schema.raw_schema
    body = document["paths"]["/generate/person"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["not"]["required"] == ["seed", "randomize"]
    assert body["properties"]["records"]["anyOf"][0]["maximum"] == 10_000  # the server's max_records
    upload = document["components"]["schemas"]["Body_validate_v1_validate__name__post"]["properties"]["files"]
    assert upload["minItems"] == 1 and upload["items"]["minLength"] == 1
    describe = document["paths"]["/v1/datasets/{name}"]["get"]
    assert "404" in describe["responses"] and "404" in next(
        p["description"] for p in describe["parameters"] if p["name"] == "version")

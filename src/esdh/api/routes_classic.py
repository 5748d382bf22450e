"""The classic endpoints, with their shapes and strict input: /healthz and /generate/*.

``POST /generate/person|vehicle|profile`` answer the first ``records`` rows of one table of the classic
dataset (insurance); ``/generate/bundle`` answers ``records`` persons with all their vehicles and a profile
each (the answers are made by :mod:`esdh.library.classic`, which generates only what they return). The body
is parsed here, not by FastAPI, so that malformed JSON, ``null``, an
array or a non-JSON content type are errors instead of defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from esdh import library
from esdh.api.deps import caller, generation_slot
from esdh.api.errors import ApiError
from esdh.api.settings import ApiSettings
from esdh.api.v1_models import errors

MAX_SEED = 2**53 - 1  # the largest whole number every JSON client (JavaScript included) keeps exact
ENDPOINTS = {"person": "persons", "vehicle": "vehicles", "profile": "profiles"}
JSON_TYPES = ("application/json",)


class GenerateRequest(BaseModel):
    """The body of ``POST /generate/*``. Every field may be omitted or null; nothing is coerced."""

    # randomize: true with an integer seed is refused (422), and the schema says so: such a body is not valid
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "description": "Every field may be omitted or null. `randomize: true` with an integer `seed` is refused "
                       "(422): give one or the other.",
        "not": {"required": ["seed", "randomize"],
                "properties": {"seed": {"type": "integer"}, "randomize": {"const": True}}}})

    records: StrictInt | None = Field(None, ge=1, description="rows to answer, 1 to the server's max_records "
                                      "(persons for /generate/bundle); default: the server's default_records")
    seed: Annotated[StrictInt, Field(ge=0, le=MAX_SEED)] | Literal["random"] | None = Field(
        None, description="a whole number >= 0, or 'random' (any case) for a fresh seed; default: the server's "
                          "default_seed. The response reports the seed used, so any answer can be replayed")
    randomize: StrictBool | None = Field(None, description="true: draw a fresh seed (not with an integer seed)")

    @field_validator("records", mode="before")
    @classmethod
    def _whole_number(cls, records: Any) -> Any:
        """130.0 is the integer 130 to JSON Schema (and to JavaScript): taken as such; 1.5 and true are not."""
        return _integral(records)

    @field_validator("records")
    @classmethod
    def _at_most_the_limit(cls, records: int | None, info: ValidationInfo) -> int | None:
        limit = (info.context or {}).get("max_records")
        if records is not None and limit is not None and records > limit:
            raise PydanticCustomError("too_many_records", "must be at most {limit} (this server's max_records)",
                                      {"limit": limit})
        return records

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, seed: Any) -> Any:
        seed = _integral(seed)
        if seed is None or (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED):
            return seed
        if isinstance(seed, str) and seed.lower() == "random":
            return "random"
        raise PydanticCustomError("seed", "must be a whole number from 0 to {high}, 'random' or null",
                                  {"high": MAX_SEED})

    @model_validator(mode="after")
    def _seed_or_randomize(self) -> GenerateRequest:
        if self.randomize and isinstance(self.seed, int):
            raise PydanticCustomError("seed_and_randomize", "give seed or randomize, not both (randomize draws a "
                                      "fresh seed and reports it)")
        return self


def _integral(value: Any) -> Any:
    """A float with no fraction (JSON's 5.0) as the integer it is; anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SEED:
        return int(value)
    return value


@dataclass(frozen=True)
class Generation:
    """What to generate, resolved against the server's defaults."""

    records: int
    seed: int | None  # None when randomized: the plan draws it
    randomize: bool


def _invalid(message: str, kind: str) -> ApiError:
    return ApiError(422, f"body: {message}", "invalid_request",
                    [{"location": ["body"], "message": message, "type": kind}])


async def generation_request(request: Request) -> Generation:
    """The request body as a Generation: empty means every default; anything else must be a JSON object."""
    settings: ApiSettings = request.app.state.settings
    raw = await request.body()
    values: Any = {}
    if raw:
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        if media and media not in JSON_TYPES and not media.endswith("+json"):
            raise _invalid(f"must be JSON sent as Content-Type: application/json, not {media}", "content_type")
        try:
            values = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and undecodable bytes are ValueErrors
            raise _invalid(f"is not valid JSON ({exc})", "json_invalid") from None
        if not isinstance(values, dict):
            kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
                type(values), "a number")
            raise _invalid(f'must be a JSON object such as {{"records": 5}}, not {kind}', "object_type")
    try:
        body = GenerateRequest.model_validate(values, context={"max_records": settings.max_records})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in
                                      exc.errors(include_url=False, include_context=False, include_input=False)]
                                     ) from None
    records = body.records or settings.default_records
    if body.randomize or body.seed == "random":
        return Generation(records, None, True)
    return Generation(records, settings.default_seed if body.seed is None else int(body.seed), False)


# In this order: the key and rate limit, then the body (a bad one never takes a slot), then a generation slot.
# The slot is given back when the function returns, before the answer is sent (scope "function"): with the
# default scope a client that sends its next request as soon as it has the answer could find its own slot
# still taken and be told 429.
Caller = Annotated[str, Depends(caller)]
Job = Annotated[Generation, Depends(generation_request)]
Slot = Annotated[None, Depends(generation_slot, scope="function")]


def classic_dataset(settings: ApiSettings) -> library.Dataset:
    """The server's classic dataset, loaded once per process."""
    return library.classic.classic_dataset(settings.classic_dataset)


def generate_entity(settings: ApiSettings, entity: str, job: Generation) -> Response:
    """The first ``job.records`` rows of one table."""
    answer = library.classic.entity_answer(settings.classic_dataset, ENDPOINTS[entity], job.records, job.seed,
                                        job.randomize)
    return Response(answer, media_type="application/json")


def generate_bundle(settings: ApiSettings, job: Generation) -> Response:
    """``job.records`` persons, every vehicle they own and a profile each: one coherent extract."""
    answer = library.classic.bundle_answer(settings.classic_dataset, job.records, job.seed, job.randomize)
    return Response(answer, media_type="application/json")


ERRORS = errors(401, 413, 422, 429)


def document_answers(app: FastAPI) -> None:
    """Give the /generate/* answers their JSON Schema in /openapi.json, built from the classic dataset's spec
    when the document is first asked for (building it generates a row of each table: not at start-up)."""
    from esdh.api.classic_schema import answer_schema

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            rows = library.classic.row_schemas(classic_dataset(app.state.settings))
            answers = {f"/generate/{entity}": [table] for entity, table in ENDPOINTS.items()}
            answers["/generate/bundle"] = list(library.snapshot.ENTITIES)
            for path, tables in answers.items():
                document["paths"][path]["post"]["requestBody"] = request_body(app.state.settings.max_records)
                document["paths"][path]["post"]["responses"]["200"] = {
                    "description": "The rows, with the classic metadata block and the seed used",
                    "content": {"application/json": {"schema": answer_schema(rows, tables)}}}
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def request_body(max_records: int) -> dict[str, Any]:
    """The optional JSON body of ``/generate/*`` as OpenAPI documents it, with this server's max_records as
    the largest ``records``: the schema allows exactly what is served."""
    schema = GenerateRequest.model_json_schema()
    schema["properties"]["records"]["anyOf"][0]["maximum"] = max_records
    return {"required": False, "content": {"application/json": {"schema": schema}}}


def router() -> APIRouter:
    api = APIRouter()
    body_doc = {"requestBody": {"required": False, "content": {
        "application/json": {"schema": GenerateRequest.model_json_schema()}}}}

    @api.get("/healthz", tags=["classic"], summary="Health, defaults and the generation plan (open: no key)",
             responses=errors())
    def healthz(request: Request) -> dict[str, Any]:
        settings: ApiSettings = request.app.state.settings
        steps = library.classic.plan_steps(settings.classic_dataset, settings.default_seed, settings.target_records)
        version = library.snapshot.SNAPSHOT_VERSION
        return {"status": "ok", "dataset_version": version, "default_seed": settings.default_seed,
                "target_records": settings.target_records, "version": version,
                "seed": settings.default_seed, "plan": {"steps": list(steps)}}

    def entity_route(entity: str) -> None:
        table = ENDPOINTS[entity]

        def generate(request: Request, _who: Caller, job: Job, _slot: Slot) -> Response:
            return generate_entity(request.app.state.settings, entity, job)

        api.add_api_route(f"/generate/{entity}", generate, methods=["POST"], tags=["classic"],
                          summary=f"The first records of {table}", openapi_extra=body_doc,
                          name=f"generate_{entity}", response_class=Response, responses=ERRORS,
                          description=f'`{{"metadata", "{table}", "record_count", "seed", "records_requested"}}`')

    for entity in ENDPOINTS:
        entity_route(entity)

    @api.post("/generate/bundle", tags=["classic"], summary="Persons with their vehicles and profiles",
              openapi_extra=body_doc, response_class=Response, responses=ERRORS,
              description='`{"metadata", "persons", "vehicles", "profiles", "record_count", "seed", '
                          '"records_requested"}`; record_count counts the persons (the classic bundle had none)')
    def bundle(request: Request, _who: Caller, job: Job, _slot: Slot) -> Response:
        return generate_bundle(request.app.state.settings, job)

    return api

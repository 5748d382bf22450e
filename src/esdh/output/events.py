"""OpenLineage 2-0-2 RunEvents of one generation, for ``lineage_events.json``.

Run metadata, not data: the run id and the event times differ between generations (see ``lineage.py``).
Datasets are named as OpenLineage names local files: namespace ``file``, name the absolute path (of the
published folder, not the staging folder it is written in); objects in a store as it names them there:
namespace ``scheme://bucket``, name the key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from esdh.checks.results import CheckResult
from esdh.output.datapackage import WrittenTable, field_type
from esdh.plan.planner import Plan
from esdh.version import __version__


class Recording(Protocol):
    """What the events read of a generation being recorded (:class:`esdh.output.lineage.LineageRecorder`)."""

    plan: Plan
    spec: dict[str, Any]
    final: Path | str  # the published folder, or an object store URL
    results: list[CheckResult]
    run_id: str

PRODUCER = f"urn:esdh:enterprise-synthetic-data-hub:{__version__}"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets"


def facet(schema: str, **fields: Any) -> dict[str, Any]:
    """A standard facet: ``schema`` is e.g. ``1-1-1/SchemaDatasetFacet``."""
    name = schema.rsplit("/", 1)[-1]
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}/{schema}.json#/$defs/{name}", **fields}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def spec_dataset(recorder: Recording) -> dict[str, Any]:
    """The spec as the run's input dataset; its version is the spec hash."""
    source = recorder.plan.dataset.source.file
    if recorder.spec["kind"] == "inline":
        namespace, name = "esdh", f"inline/{recorder.plan.dataset.spec.dataset}"
    else:
        namespace, name = "file", Path(source).resolve().as_posix()
    version = facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=recorder.plan.spec_hash)
    return {"namespace": namespace, "name": name, "facets": {"version": version}}


def output_dataset(recorder: Recording, table: WrittenTable, fmt: str, path: Path,
                   results: list[CheckResult]) -> dict[str, Any]:
    """One written file (or folder of part files): its schema, row count and size, and the checks run on
    its table."""
    fields = [{"name": f.name, "type": field_type(f.type)} for f in table.schema]
    if isinstance(recorder.final, str):  # an object store: the files are not on this machine
        namespace, name = store_dataset_name(f"{recorder.final}/{path.name}")
        parts = table.parts[fmt]
        size, count = sum(p.bytes for p in parts), len(parts)
    else:
        namespace, name = "file", (recorder.final / path.name).as_posix()
        size, count = path.stat().st_size, 1
    outputs = {"outputStatistics": facet("1-0-2/OutputStatisticsOutputDatasetFacet", rowCount=table.rows,
                                         size=size, fileCount=count)}
    assertions = [{"assertion": r.check, "success": r.passed, **({"column": r.column} if r.column else {})}
                  for r in results if r.table == table.name]
    if assertions:
        outputs["dataQualityAssertions"] = facet("1-0-1/DataQualityAssertionsDatasetFacet", assertions=assertions)
    return {"namespace": namespace, "name": name,
            "facets": {"schema": facet("1-1-1/SchemaDatasetFacet", fields=fields)}, "outputFacets": outputs}


def store_dataset_name(url: str) -> tuple[str, str]:
    """OpenLineage's namespace and name of an object: ``s3://bucket`` and the key (``file`` and the path)."""
    scheme, _, rest = url.partition("://")
    if scheme == "file":
        return "file", rest
    bucket, _, key = rest.partition("/")
    return f"{scheme}://{bucket}", key


def run_event(event_type: str, recorder: Recording,
              written: list[WrittenTable] | None = None) -> dict[str, Any]:
    """A RunEvent (START, COMPLETE) for the recorder's run; outputs once files are written."""
    plan = recorder.plan
    engine = facet("1-1-1/ProcessingEngineRunFacet", name="esdh", version=__version__)
    run_facet = {"_producer": PRODUCER, "_schemaURL": "urn:esdh:facets:EsdhRunFacet:1", "seed": plan.seed,
                 "randomized": plan.randomized, "as_of": plan.as_of.isoformat(), "spec_hash": plan.spec_hash}
    outputs = [output_dataset(recorder, table, fmt, path, recorder.results)
               for table in written or [] for fmt, path in table.files.items()]
    return {"eventType": event_type, "eventTime": now(), "producer": PRODUCER, "schemaURL": SCHEMA_URL,
            "run": {"runId": recorder.run_id, "facets": {"processing_engine": engine, "esdh": run_facet}},
            "job": {"namespace": "esdh", "name": plan.dataset.spec.dataset},
            "inputs": [spec_dataset(recorder)], "outputs": outputs}

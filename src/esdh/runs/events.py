"""OpenLineage 2-0-2 RunEvents of one generation run, for ``lineage_events.json``.

Run metadata, not data: the run id and the event times differ between runs (see ``lineage.py``).
Datasets are named as OpenLineage names local files: namespace ``file``, name the absolute path (of the
published folder, not the staging folder it is written in).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from esdh import __version__
from esdh.quality.checks import CheckResult
from esdh.runs.datapackage import WrittenTable, field_type

if TYPE_CHECKING:
    from esdh.runs.lineage import LineageRecorder

PRODUCER = f"urn:esdh:enterprise-synthetic-data-hub:{__version__}"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets"


def facet(schema: str, **fields: Any) -> dict[str, Any]:
    """A standard facet: ``schema`` is e.g. ``1-1-1/SchemaDatasetFacet``."""
    name = schema.rsplit("/", 1)[-1]
    return {"_producer": PRODUCER, "_schemaURL": f"{FACETS}/{schema}.json#/$defs/{name}", **fields}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def spec_dataset(recorder: LineageRecorder) -> dict[str, Any]:
    """The spec as the run's input dataset; its version is the spec hash."""
    source = recorder.plan.dataset.source.file
    if recorder.spec["kind"] == "inline":
        namespace, name = "esdh", f"inline/{recorder.plan.dataset.spec.dataset}"
    else:
        namespace, name = "file", Path(source).resolve().as_posix()
    version = facet("1-0-1/DatasetVersionDatasetFacet", datasetVersion=recorder.plan.spec_hash)
    return {"namespace": namespace, "name": name, "facets": {"version": version}}


def output_dataset(recorder: LineageRecorder, table: WrittenTable, path: Path,
                   results: list[CheckResult]) -> dict[str, Any]:
    """One written file: its schema, row count and size, and the checks run on its table."""
    fields = [{"name": f.name, "type": field_type(f.type)} for f in table.schema]
    outputs = {"outputStatistics": facet("1-0-2/OutputStatisticsOutputDatasetFacet", rowCount=table.rows,
                                         size=path.stat().st_size, fileCount=1)}
    assertions = [{"assertion": r.check, "success": r.passed, **({"column": r.column} if r.column else {})}
                  for r in results if r.table == table.name]
    if assertions:
        outputs["dataQualityAssertions"] = facet("1-0-1/DataQualityAssertionsDatasetFacet", assertions=assertions)
    return {"namespace": "file", "name": (recorder.final / path.name).as_posix(),
            "facets": {"schema": facet("1-1-1/SchemaDatasetFacet", fields=fields)}, "outputFacets": outputs}


def run_event(event_type: str, recorder: LineageRecorder,
              written: list[WrittenTable] | None = None) -> dict[str, Any]:
    """A RunEvent (START, COMPLETE) for the recorder's run; outputs once files are written."""
    plan = recorder.plan
    engine = facet("1-1-1/ProcessingEngineRunFacet", name="esdh", version=__version__)
    run_facet = {"_producer": PRODUCER, "_schemaURL": "urn:esdh:facets:EsdhRunFacet:1", "seed": plan.seed,
                 "randomized": plan.randomized, "as_of": plan.as_of.isoformat(), "spec_hash": plan.spec_hash}
    outputs = [output_dataset(recorder, table, path, recorder.results)
               for table in written or [] for path in table.files.values()]
    return {"eventType": event_type, "eventTime": now(), "producer": PRODUCER, "schemaURL": SCHEMA_URL,
            "run": {"runId": recorder.run_id, "facets": {"processing_engine": engine, "esdh": run_facet}},
            "job": {"namespace": "esdh", "name": plan.dataset.spec.dataset},
            "inputs": [spec_dataset(recorder)], "outputs": outputs}

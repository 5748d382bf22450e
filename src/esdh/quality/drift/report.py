"""The drift report: verdict, summary, JSON and the files it is written to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh.output.folder import write_text
from esdh.quality.drift.report_html import render_drift_html
from esdh.quality.drift.thresholds import VERDICTS, Thresholds, worst

FORMAT_VERSION = 1


@dataclass
class DriftReport:
    """The comparison of a current folder with a reference folder."""

    current: dict[str, Any]
    reference: dict[str, Any]
    thresholds: Thresholds
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return worst([t["verdict"] for t in self.tables.values()] + [c["verdict"] for c in self.columns.values()])

    def summary(self) -> dict[str, Any]:
        counts = {v: sum(c["verdict"] == v for c in self.columns.values()) for v in VERDICTS}
        tables = {v: sum(t["verdict"] == v for t in self.tables.values()) for v in VERDICTS}
        drifted = [name for name, c in self.columns.items() if c["verdict"] != "pass"]
        return {"columns": len(self.columns), **counts, "tables": tables, "drifted_columns": drifted}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the same folders give the same dict, and the HTML page is built from it alone."""
        return {"format_version": FORMAT_VERSION, "verdict": self.verdict, "current": self.current,
                "reference": self.reference, "thresholds": self.thresholds.as_dict(), "summary": self.summary(),
                "tables": self.tables, "columns": self.columns}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    def write(self, folder: Path, prefix: str = "drift") -> list[Path]:
        """Write ``<prefix>.json`` and ``<prefix>.html`` into ``folder``; returns their paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        json_path, html_path = folder / f"{prefix}.json", folder / f"{prefix}.html"
        write_text(json_path, self.to_json())
        write_text(html_path, render_drift_html(self.as_dict()))
        return [json_path, html_path]

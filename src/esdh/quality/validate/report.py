"""The result of a validation: what was checked, what failed, what was skipped; as JSON, text and HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from esdh.checks.results import CheckResult
from esdh.output.folder import write_text
from esdh.quality.validate.report_html import render_validation_html
from esdh.spec.compile import Dataset

REPORT_VERSION = 1


@dataclass
class ValidationReport:
    """What was checked, what failed (with sample rows), what could not be checked and what was not read."""

    dataset: str
    version: str
    data: str
    checks: list[CheckResult] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> format, files, rows

    @classmethod
    def from_checks(cls, dataset: Dataset, data_path: Path | str, checks: list[CheckResult]) -> ValidationReport:
        """The report of a generated run, from the checks generation already made (nothing is read again)."""
        rows: dict[str, int] = {}
        for result in checks:
            if result.check.startswith(("not_null", "min", "max", "enum", "pattern", "rule:")):
                rows[result.table] = max(rows.get(result.table, 0), result.evaluated)
        return cls(dataset.spec.dataset, dataset.spec.version, str(data_path), list(checks),
                   tables={t: {"rows": n} for t, n in rows.items()})

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.checks if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        failed = self.failures
        rows = [t.get("rows") for t in self.tables.values()]
        return {
            "format_version": REPORT_VERSION,
            "dataset": self.dataset, "version": self.version, "data": self.data, "ok": self.ok,
            "summary": {"checks": len(self.checks), "passed": len(self.checks) - len(failed), "failed": len(failed),
                        "skipped": len(self.skipped), "tables": len(self.tables),
                        "evaluated_rows": sum(r for r in rows if r), "failures": sum(r.failed for r in failed)},
            "tables": self.tables,
            "checks": [{**r.as_dict(), "passed": r.passed} for r in self.checks],
            "skipped": self.skipped,
            "ignored": self.ignored,
            "extra_columns": self.extra_columns,
        }

    def text(self) -> str:
        """A plain summary for a terminal: the verdict, every failure with samples, what was skipped."""
        summary = self.as_dict()["summary"]
        head = (f"{self.dataset} {self.version}: {summary['passed']} of {summary['checks']} checks passed over "
                f"{summary['evaluated_rows']:,} rows" + (f", {len(self.skipped)} skipped" if self.skipped else ""))
        lines = [("ok: " if self.ok else "failed: ") + head]
        for r in self.failures:
            lines.append(f"  {r.table}.{r.column or '*'}: {r.check}{r.expectation}: {r.failed:,} of {r.evaluated:,} "
                         "fail"
                         + (f" (e.g. {r.samples[:3]})" if r.samples else ""))
        lines += [f"  skipped {s['table']}: {s['check']}: {s['reason']}" for s in self.skipped]
        if self.ignored:
            lines.append(f"  not read: {', '.join(self.ignored)}")
        return "\n".join(lines)

    def write(self, folder: Path | str, prefix: str = "validation") -> list[Path]:
        """Write ``<prefix>.json`` and ``<prefix>.html`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        report = self.as_dict()
        json_path, html_path = folder / f"{prefix}.json", folder / f"{prefix}.html"
        write_text(json_path, json.dumps(report, indent=2, default=str) + "\n")
        write_text(html_path, render_validation_html(report))
        return [json_path, html_path]

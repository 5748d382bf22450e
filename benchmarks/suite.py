"""The benchmark suite: every measurement in one run on the same machine, one table, one JSON file.

Sections (``--only`` picks some): ``persons`` (ESDH against Faker and Mimesis, on one core and on all
cores), ``retail`` (the retail pack with its checks), ``tpch`` (the tpch pack against DuckDB's dbgen) and
``flatness`` (ESDH persons rows/s from 1M to 100M rows). Every run of every figure is a fresh subprocess
(this module with ``--child``) whose time excludes the imports and whose peak memory is that of its own
process tree; a figure is the median of ``--repeat`` runs.

    python -m benchmarks                      # the full suite (about half an hour on 2 cores)
    python -m benchmarks --quick              # smoke run, under a minute
    python -m benchmarks --only persons,tpch --repeat 5
    python -m benchmarks --compare benchmarks/results/suite-OLD.json   # run, then compare with an old run
    python -m benchmarks --compare OLD.json NEW.json                   # compare two files; runs nothing

Run from the repository root.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import persons, tpch
from .measure import TreeMemory, children_peak_rss_mb, peak_rss_mb, pin_cpus

ROOT = persons.ROOT
RESULTS = persons.RESULTS
SECTIONS = ("persons", "retail", "tpch", "flatness")
FORMAT = 1  # version of the JSON layout, for --compare
QUICK_PART_ROWS = 65_536  # quick sizes are below the default partition size: smaller parts still use every worker


# ---- settings ---------------------------------------------------------------------------------------
@dataclass
class Settings:
    quick: bool
    repeat: int
    sections: list[str]
    workers: int  # the all-cores figures: one worker per CPU this process may use
    faker_rows: int
    mimesis_rows: int
    esdh_1core_rows: int
    esdh_all_rows: int
    retail_scale: float
    tpch_scale: float
    flatness: list[int]
    part_rows: int | None
    out_dir: str | None


def parse_rows(text: str) -> int:
    return int(float(text))


def settings_from(args: argparse.Namespace) -> Settings:
    """Quick or full defaults, overridden by the size options given."""
    quick = args.quick
    sections = args.only.split(",") if args.only else list(SECTIONS)
    if unknown := [s for s in sections if s not in SECTIONS]:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {','.join(SECTIONS)}")
    sizes = persons.QUICK_SIZES if quick else persons.FULL_SIZES  # the peers' sizes, as persons.py uses
    flatness = args.flatness or ("5e4,2e5" if quick else "1e6,1e7,1e8")
    return Settings(
        quick=quick, repeat=args.repeat or (1 if quick else 3), sections=sections,
        workers=args.workers or len(os.sched_getaffinity(0)),
        faker_rows=args.faker_rows or sizes["faker"][0], mimesis_rows=args.mimesis_rows or sizes["mimesis"][0],
        esdh_1core_rows=args.esdh_1core_rows or (50_000 if quick else 2_000_000),
        esdh_all_rows=args.esdh_all_rows or (200_000 if quick else 8_000_000),
        retail_scale=args.retail_scale or (1.0 if quick else 10.0),
        tpch_scale=args.tpch_scale or (0.01 if quick else 1.0),
        flatness=sorted(parse_rows(x) for x in flatness.split(",") if x.strip()),
        part_rows=args.part_rows or (QUICK_PART_ROWS if quick else None), out_dir=args.out_dir,
    )


# ---- one run, in a fresh subprocess ----------------------------------------------------------------
def child_persons(task: dict[str, Any]) -> dict[str, Any]:
    """One timed persons run: a peer (CSV, as persons.py) or ESDH to Parquet on the task's engine."""
    if task["tool"] == "esdh":
        persons.ensure_esdh_importable()
        run = persons.prepare_esdh("parquet", task["engine"], task["workers"], task["part_rows"])
    else:
        run = persons.PREPARE[task["tool"]]()
    seconds, hashes, sizes = persons.time_runs(run, task["rows"], 1, f"bench-suite-{task['tool']}-",
                                               task["out_dir"])
    return {"seconds": seconds[0], "rows": task["rows"], "sha256": hashes[0] if hashes else None,
            "output_bytes": sizes[0] if sizes else None}


def child_retail(task: dict[str, Any]) -> dict[str, Any]:
    """The retail pack with its checks on (the default), so the time includes checking the written files."""
    persons.ensure_esdh_importable()
    from esdh import library

    base = Path(tempfile.mkdtemp(prefix="bench-suite-retail-", dir=task["out_dir"]))
    try:
        start = time.perf_counter()
        result = library.generate("retail", base / "retail", scale=task["scale"], formats=["parquet"])
        seconds = time.perf_counter() - start
        files = result.files
        return {"seconds": seconds, "rows": sum(t.rows for t in result.tables), "checks": len(result.checks),
                "checks_failed": sum(not c.passed for c in result.checks), "sha256": persons.sha256_of(files),
                "output_bytes": sum(p.stat().st_size for p in files)}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def child_tpch(task: dict[str, Any]) -> dict[str, Any]:
    """ESDH's tpch pack, as tpch.py measures it (checks off, like DuckDB's dbgen)."""
    result = tpch.run_single("esdh", task["scale"], task["cpus"], task["out_dir"], False, task["engine"],
                             task["workers"])
    return {key: result[key] for key in ("seconds", "rows", "cpu_s", "output_bytes")}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "persons": child_persons, "retail": child_retail, "tpch": child_tpch}


def run_child(task: dict[str, Any]) -> dict[str, Any]:
    """Inside the subprocess: pin, measure one run under a TreeMemory, report time and memory."""
    cpu_set = pin_cpus(task["cpus"])
    with TreeMemory() as tree:
        result = CHILDREN[task["kind"]](task)
    return result | {"peak_rss_mb": round(tree.peak_mb, 1), "tree_sampled_peak_mb": round(tree.sampled_peak_mb, 1),
                     "self_peak_rss_mb": round(peak_rss_mb(), 1),
                     "largest_child_peak_rss_mb": round(children_peak_rss_mb(), 1), "samples": tree.samples,
                     "cpus": cpu_set}


def spawn(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a fresh interpreter (so its memory and imports are its own)."""
    cmd = [sys.executable, "-m", "benchmarks", "--child", json.dumps(task)]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{task} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spawn_duckdb(scale: float, threads: int, out_dir: str | None) -> dict[str, Any]:
    """DuckDB's side runs tpch.py in its own venv (no psutil there): DuckDB is one process, so its exact
    ru_maxrss is the peak of its tree."""
    args = argparse.Namespace(scale=scale, threads=threads, out_dir=out_dir, keep=False, engine="local")
    result = tpch.run_in_subprocess("duckdb", args)
    return result | {"tree_sampled_peak_mb": None, "self_peak_rss_mb": result["peak_rss_mb"],
                     "largest_child_peak_rss_mb": None}


# ---- figures ----------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One number of the suite. Measured figures have runs; derived ones (ratios) point at the measured
    figure they annotate (``of``) and have none."""

    key: str  # stable across runs: --compare matches on it
    section: str
    name: str
    value: float
    unit: str  # "rows/s", "s" or "x"
    better: str  # "higher" or "lower"
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float | None = None
    rows: int | None = None
    median_s: float | None = None
    seconds: list[float] = field(default_factory=list)
    same_bytes: bool | None = None
    of: str | None = None
    detail: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Measure:
    """What to run for one measured figure: a child task, or DuckDB (task None)."""

    key: str
    section: str
    name: str
    task: dict[str, Any] | None
    unit: str = "rows/s"


def measure(m: Measure, s: Settings) -> Figure:
    """``repeat`` fresh runs; value: rows/s of the median time (or the median seconds)."""
    details = []
    for i in range(s.repeat):
        print(f"  {m.name} (run {i + 1}/{s.repeat}) ...", file=sys.stderr, end=" ", flush=True)
        r = spawn(m.task) if m.task else spawn_duckdb(s.tpch_scale, s.workers, s.out_dir)
        print(f"{r['seconds']:.2f} s, {persons.fmt_rate(r['rows'] / r['seconds'])} rows/s, "
              f"peak {r['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
        details.append(r)
    seconds = [r["seconds"] for r in details]
    median = statistics.median(seconds)
    rows = details[0]["rows"]
    per_run = [rows / x for x in seconds] if m.unit == "rows/s" else seconds
    hashes = [r.get("sha256") for r in details]
    same = len(set(hashes)) == 1 if len(hashes) > 1 and None not in hashes else None
    return Figure(m.key, m.section, m.name, rows / median if m.unit == "rows/s" else median, m.unit,
                  "higher" if m.unit == "rows/s" else "lower", per_run,
                  max(r["peak_rss_mb"] for r in details), rows, median, seconds, same, None, details)


def persons_task(s: Settings, tool: str, rows: int, engine: str = "local") -> dict[str, Any]:
    processes = engine == "processes"
    return {"kind": "persons", "tool": tool, "rows": rows, "engine": engine,
            "workers": s.workers if processes else None, "part_rows": s.part_rows,
            "cpus": 0 if processes else 1, "out_dir": s.out_dir}


def measures(s: Settings) -> list[Measure]:
    """Every measured figure of the chosen sections, in running order."""
    out: list[Measure] = []
    w = s.workers
    if "persons" in s.sections:
        out += [
            Measure("persons.faker", "persons", "Faker (use_weighting=True) -> CSV, 1 core",
                    persons_task(s, "faker", s.faker_rows)),
            Measure("persons.mimesis", "persons", "Mimesis -> CSV, 1 core", persons_task(s, "mimesis", s.mimesis_rows)),
            Measure("persons.esdh_1core", "persons", "ESDH persons -> Parquet, local, 1 core",
                    persons_task(s, "esdh", s.esdh_1core_rows)),
            Measure("persons.esdh_all_cores", "persons", f"ESDH persons -> Parquet, processes, {w} workers",
                    persons_task(s, "esdh", s.esdh_all_rows, "processes")),
        ]
    if "retail" in s.sections:
        task = {"kind": "retail", "scale": s.retail_scale, "cpus": 0, "out_dir": s.out_dir}
        out.append(Measure("retail.esdh", "retail", f"ESDH retail scale {s.retail_scale:g} -> Parquet, checks on, "
                           "local", task))
    if "tpch" in s.sections:
        sf = f"sf{s.tpch_scale:g}"
        tpch_task = {"kind": "tpch", "scale": s.tpch_scale, "out_dir": s.out_dir}
        out += [
            Measure("tpch.duckdb", "tpch", f"DuckDB 1.5.5 dbgen {sf} + COPY -> Parquet, {w} threads", None, "s"),
            Measure("tpch.esdh_processes", "tpch", f"ESDH tpch {sf} -> Parquet, processes, {w} workers",
                    tpch_task | {"engine": "processes", "workers": w, "cpus": 0}, "s"),
            Measure("tpch.esdh_local", "tpch", f"ESDH tpch {sf} -> Parquet, local, 1 core",
                    tpch_task | {"engine": "local", "workers": None, "cpus": 1}, "s"),
        ]
    if "flatness" in s.sections:
        out += [Measure(f"flatness.{n}", "flatness", f"ESDH persons -> Parquet, processes, {n:,} rows",
                        persons_task(s, "esdh", n, "processes")) for n in s.flatness]
    return out


def ratio(key: str, name: str, of: Figure, value: float, better: str) -> Figure:
    return Figure(key, of.section, name, value, "x", better, of=of.key)


def derived(figures: dict[str, Figure]) -> list[Figure]:
    """Ratios between figures of the same run; a ratio whose figures were not measured is left out."""
    out: list[Figure] = []
    for key in ("persons.esdh_1core", "persons.esdh_all_cores"):
        if key not in figures:
            continue
        esdh = figures[key]
        for peer, label in (("persons.faker", "Faker"), ("persons.mimesis", "Mimesis")):
            if peer in figures:
                out.append(ratio(f"{key}/{peer}", f"x {label}", esdh, esdh.value / figures[peer].value, "higher"))
    if "persons.esdh_1core" in figures and "persons.esdh_all_cores" in figures:
        fast, one = figures["persons.esdh_all_cores"], figures["persons.esdh_1core"]
        out.append(ratio("persons.esdh_all_cores/persons.esdh_1core", "x ESDH 1 core", fast,
                         fast.value / one.value, "higher"))
    if duck := figures.get("tpch.duckdb"):
        for key in ("tpch.esdh_processes", "tpch.esdh_local"):
            if esdh := figures.get(key):
                out.append(ratio(f"{key}/tpch.duckdb", "time x DuckDB", esdh, esdh.value / duck.value, "lower"))
                out.append(ratio(f"{key}/tpch.duckdb.rss", "RSS x DuckDB", esdh,
                                 esdh.peak_rss_mb / duck.peak_rss_mb, "lower"))
    flat = sorted((f for f in figures.values() if f.section == "flatness"), key=lambda f: f.rows or 0)
    for f in flat[1:]:  # seconds per row relative to the smallest size's
        out.append(ratio(f"{f.key}/per_row", f"per-row time x of {flat[0].rows:,} rows", f,
                         flat[0].value / f.value, "lower"))
    return out


# ---- output -----------------------------------------------------------------------------------------
def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "rows/s":
        return persons.fmt_rate(value)
    return f"{value:.2f}x" if unit == "x" else f"{value:.2f} s"


def print_table(header: list[str], lines: list[list[str]], left: int) -> None:
    if lines:  # tpch's printer needs at least one line
        tpch.print_table(header, lines, left)


def ratio_text(f: Figure) -> str:
    """A ratio's name with its value in place of the "x": "x Faker" -> "312x Faker"."""
    digits = 0 if f.value >= 100 else 1 if f.value >= 10 else 2
    return f.name.replace("x ", f"{f.value:.{digits}f}x ", 1)


def print_results(figures: list[Figure]) -> None:
    notes: dict[str, list[str]] = {}
    for f in figures:
        if f.of is not None:
            notes.setdefault(f.of, []).append(ratio_text(f))
    lines = []
    for f in figures:
        if f.of is not None:
            continue
        same = {True: "yes", False: "NO", None: "-"}[f.same_bytes]
        lines.append([f.section, f.name, f"{f.rows:,}", f"{f.median_s:.2f}", "/".join(f"{x:.2f}" for x in f.seconds),
                      persons.fmt_rate((f.rows or 0) / f.median_s) if f.median_s else "-",
                      "; ".join(notes.get(f.key, [])) or "-", f"{f.peak_rss_mb:.0f}", same])
    print_table(["section", "measurement", "rows", "median s", "runs s", "rows/s", "compared (same run)",
                 "peak RSS MB", "same bytes"], lines, left=2)


def display_order(figures: list[dict[str, Any]]) -> list[str]:
    """Keys in first-seen order, each ratio right after the measured figure it annotates."""
    ratios: dict[str, list[str]] = {}
    for f in figures:
        if f["of"] is not None and f["key"] not in ratios.setdefault(f["of"], []):
            ratios[f["of"]].append(f["key"])
    measured = dict.fromkeys(f["key"] for f in figures if f["of"] is None)
    return [k for key in measured for k in (key, *ratios.get(key, []))]


def print_comparison(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Each figure of the new run beside the old one, matched by key, with new/old."""
    print(f"\ncomparison: old {old.get('started_utc')} (git {old['machine'].get('git')}) -> "
          f"new {new.get('started_utc')} (git {new['machine'].get('git')})")
    if old.get("quick") != new.get("quick") or old["machine"].get("cpu_count") != new["machine"].get("cpu_count"):
        print("warning: the two runs differ in --quick or in CPU count; their figures are not comparable")
    before = {f["key"]: f for f in old["figures"]}
    after = {f["key"]: f for f in new["figures"]}
    lines = []
    for key in display_order([*new["figures"], *old["figures"]]):
        o, n = before.get(key), after.get(key)
        f = n or o
        name = f["name"] if f["of"] is None else f"  {f['of']}: {f['name']}"
        rss_old, rss_new = (o or {}).get("peak_rss_mb"), (n or {}).get("peak_rss_mb")
        sizes = "sizes differ" if o and n and o.get("rows") != n.get("rows") else ""
        lines.append([name, f"{f['unit']} ({f['better']} better)", fmt_value(o and o["value"], f["unit"]),
                      fmt_value(n and n["value"], f["unit"]),
                      f"{n['value'] / o['value']:.2f}" if o and n and o["value"] else "-",
                      f"{rss_old:.0f}" if rss_old else "-", f"{rss_new:.0f}" if rss_new else "-",
                      f"{rss_new / rss_old:.2f}" if rss_old and rss_new else "-", sizes])
    print_table(["figure", "unit", "old", "new", "new/old", "old RSS MB", "new RSS MB", "RSS new/old", "note"],
                lines, left=2)


def machine(duckdb_dbgen: str | None, loadavg_start: tuple[float, float, float]) -> dict[str, Any]:
    names = ("enterprise-synthetic-data-hub", "pyarrow", "numpy", "duckdb", "faker", "mimesis", "psutil")
    found = persons.versions(names)
    found["esdh"] = found.pop("enterprise-synthetic-data-hub")
    found["duckdb_dbgen"] = duckdb_dbgen  # the DuckDB side's own venv
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    import psutil

    return {"cpu_count": os.cpu_count(), "allowed_cpus": sorted(os.sched_getaffinity(0)), "cpu_model": model,
            "memory_gb": round(psutil.virtual_memory().total / 1e9, 1), "platform": platform.platform(),
            "python": platform.python_version(), "versions": found, "git": persons.git_revision(),
            "loadavg_start": loadavg_start, "loadavg_end": os.getloadavg()}


def duckdb_available(s: Settings) -> bool:
    """The DuckDB venv, created once by tpch.py. Quick runs go on without it; a full run stops before it
    spends time on other sections."""
    try:
        tpch.venv_python()
        return True
    except (SystemExit, subprocess.CalledProcessError, OSError) as exc:
        if not s.quick:
            raise SystemExit(f"cannot set up the DuckDB environment ({exc}); leave tpch out with --only") from exc
        print(f"warning: DuckDB environment unavailable ({exc}); tpch runs without DuckDB", file=sys.stderr)
        return False


def run_suite(args: argparse.Namespace) -> dict[str, Any]:
    s = settings_from(args)
    started = dt.datetime.now(dt.UTC)
    wall = time.perf_counter()
    load = os.getloadavg()  # other work on the machine skews the timings: record it
    todo = measures(s)
    skipped = []
    if "tpch" in s.sections and not duckdb_available(s):
        todo = [m for m in todo if m.key != "tpch.duckdb"]
        skipped.append("tpch.duckdb: DuckDB environment unavailable")
    found: dict[str, Figure] = {}
    for m in todo:
        print(f"[{m.section}] {m.key}", file=sys.stderr, flush=True)
        found[m.key] = measure(m, s)
    figures = [*found.values(), *derived(found)]
    dbgen = found["tpch.duckdb"].detail[0]["versions"]["duckdb"] if "tpch.duckdb" in found else None
    facts = machine(dbgen, load)
    return {"suite": "esdh-benchmarks", "format": FORMAT, "started_utc": started.isoformat(timespec="seconds"),
            "wall_s": round(time.perf_counter() - wall, 1), "quick": s.quick,
            "command": shlex.join([sys.executable, "-m", "benchmarks", *sys.argv[1:]]), "settings": asdict(s),
            "machine": facts, "skipped": skipped, "figures": [asdict(f) for f in figures]}


def report(document: dict[str, Any], path: Path) -> None:
    figures = [Figure(**f) for f in document["figures"]]
    m = document["machine"]
    print(f"\nESDH benchmark suite, {document['started_utc']}, {'quick sizes, ' if document['quick'] else ''}"
          f"median of {document['settings']['repeat']}; {m['cpu_count']} CPUs ({m['cpu_model']}), "
          f"load average {m['loadavg_start'][0]:.2f} -> {m['loadavg_end'][0]:.2f}, git {m['git']}")
    print_results(figures)
    for note in document["skipped"]:
        print(f"skipped {note}")
    if document["quick"]:
        print("(quick sizes: fixed costs dominate; a smoke test, not a measurement)")
    print(f"total wall time {document['wall_s']:.0f} s; results written to {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repeat (under a minute)")
    parser.add_argument("--repeat", type=int, help="fresh runs per figure, the median is reported (default 3; "
                        "--quick 1)")
    parser.add_argument("--only", help=f"comma-separated sections out of {','.join(SECTIONS)}")
    parser.add_argument("--json", help="results file (default benchmarks/results/suite-<UTC date-time>.json)")
    parser.add_argument("--compare", nargs="+", metavar="JSON", help="OLD: run, then compare with OLD; "
                        "OLD NEW: only compare the two files")
    parser.add_argument("--workers", type=int, help="workers of the all-cores figures and DuckDB threads "
                        "(default: the CPUs this process may use)")
    parser.add_argument("--out-dir", help="where outputs are written, then deleted (default: the system temp; "
                        "100M persons rows take about 7 GB)")
    parser.add_argument("--faker-rows", type=parse_rows, help="Faker rows (default 20,000; --quick 300)")
    parser.add_argument("--mimesis-rows", type=parse_rows, help="Mimesis rows (default 100,000; --quick 3,000)")
    parser.add_argument("--esdh-1core-rows", type=parse_rows, help="ESDH persons rows on 1 core (default 2M)")
    parser.add_argument("--esdh-all-rows", type=parse_rows, help="ESDH persons rows on all cores (default 8M)")
    parser.add_argument("--retail-scale", type=float, help="retail scale (default 10; --quick 1)")
    parser.add_argument("--tpch-scale", type=float, help="TPC-H scale factor (default 1; --quick 0.01)")
    parser.add_argument("--flatness", help="comma-separated persons row counts (default 1e6,1e7,1e8)")
    parser.add_argument("--part-rows", type=parse_rows, help="ESDH partition rows (default: the library's, "
                        f"1,048,576; --quick {QUICK_PART_ROWS:,})")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.compare and len(args.compare) > 2:
        parser.error("--compare takes OLD.json or OLD.json NEW.json")
    if args.compare and len(args.compare) == 2:
        old, new = (json.loads(Path(p).read_text(encoding="utf-8")) for p in args.compare)
        print_comparison(old, new)
        return
    document = run_suite(args)
    stamp = dt.datetime.fromisoformat(document["started_utc"]).strftime("%Y%m%dT%H%M%SZ")
    path = Path(args.json) if args.json else RESULTS / f"suite-{stamp}{'-quick' if args.quick else ''}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    report(document, path)
    if args.compare:
        print_comparison(json.loads(Path(args.compare[0]).read_text(encoding="utf-8")), document)

"""Persons benchmark: ESDH against Faker and Mimesis, in one run on the same machine.

Every tool makes the same person fields (UUID id, first/last name, email, phone, street address line,
city, state, ZIP, date of birth, driver's licence number). Faker and Mimesis build a list of dicts and
write it with ``csv.DictWriter``; ESDH generates the insurance pack's ``persons`` table (17 columns,
a superset of those fields) to Parquet (zstd) or CSV, or only generates it (no writing).

Each tool/size runs in a fresh subprocess (this script with ``--single TOOL``), so the peak RSS
reported is that tool's own. Inside the subprocess, time.perf_counter measures each repeat after the
imports; the median of ``--repeat`` runs is reported. The subprocesses are pinned to ``--cpus`` CPUs
(default 1) with sched_setaffinity, so the numbers are single-core numbers.

    python benchmarks/persons.py                 # full run, writes benchmarks/results/persons-<date>.json
    python benchmarks/persons.py --quick         # smoke run (< 30 s)
    python benchmarks/persons.py --profile       # per-column timing of ESDH persons + cProfile top functions

Run from the repository root; ``src`` is put on the path when ``esdh`` is not importable.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__:  # imported by the suite (python -m benchmarks)
    from .measure import ensure_esdh_importable, fmt_rate, peak_rss_mb, pin_cpus, run_child
else:  # run as a script: python benchmarks/persons.py
    from measure import ensure_esdh_importable, fmt_rate, peak_rss_mb, pin_cpus, run_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

SEED = 20240601
FIELDS = ["id", "first_name", "last_name", "email", "phone", "street_address", "city", "state", "zip",
          "date_of_birth", "driver_license_number"]
# Date of birth between 85 and 16 years before the insurance pack's as_of (2026-01-01); fixed dates, so
# the peers' output does not depend on the day the benchmark runs.
DOB_MIN, DOB_MAX = dt.date(1941, 1, 1), dt.date(2010, 1, 1)

TOOLS = ["faker", "faker-noweight", "mimesis", "esdh-gen", "esdh-parquet", "esdh-csv"]
LABELS = {
    "faker": "Faker (use_weighting=True) -> CSV",
    "faker-noweight": "Faker (use_weighting=False) -> CSV",
    "mimesis": "Mimesis Generic -> CSV",
    "esdh-gen": "ESDH persons, generate only",
    "esdh-parquet": "ESDH persons -> Parquet zstd",
    "esdh-csv": "ESDH persons -> CSV",
}
FULL_SIZES = {"faker": [20_000], "faker-noweight": [20_000], "mimesis": [100_000],
              "esdh-gen": [1_000_000, 2_000_000], "esdh-parquet": [1_000_000, 2_000_000],
              "esdh-csv": [1_000_000, 2_000_000]}
QUICK_SIZES = {"faker": [300], "faker-noweight": [1_000], "mimesis": [3_000],
               "esdh-gen": [50_000], "esdh-parquet": [50_000], "esdh-csv": [50_000]}

# Goal checked by this benchmark: ESDH persons to Parquet on one core.
GOAL_ROWS_PER_S = 300_000
GOAL_X_FAKER = 300
# The peers as measured in /work/shared/reference/peer-measurements.md (100k rows, median of 3), for a
# second ratio that does not move with this run's noisy Faker number.
REFERENCE_ROWS_PER_S = {"faker": 1_500, "faker-noweight": 4_600, "mimesis": 13_600}


# ---- environment ----------------------------------------------------------------------------------


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# ---- the tools ------------------------------------------------------------------------------------
# prepare_<tool>() does the imports (not timed) and returns run(n, out_dir) -> files written (timed).
Runner = Callable[[int, Path], list[Path]]


def write_dicts(rows: list[dict], path: Path) -> list[Path]:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return [path]


def prepare_faker(weighting: bool) -> Runner:
    from faker import Faker

    letters = string.ascii_uppercase

    def run(n: int, out: Path) -> list[Path]:
        fake = Faker("en_US", use_weighting=weighting)
        fake.seed_instance(SEED)
        rows = []
        for _ in range(n):
            rows.append({
                "id": fake.uuid4(),
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "email": fake.email(),
                "phone": fake.phone_number(),
                "street_address": fake.street_address(),
                "city": fake.city(),
                "state": fake.state_abbr(include_territories=False, include_freely_associated_states=False),
                "zip": fake.zipcode(),
                "date_of_birth": fake.date_between_dates(DOB_MIN, DOB_MAX),
                "driver_license_number": fake.bothify("?#######", letters=letters),
            })
        return write_dicts(rows, out / "persons.csv")

    return run


def prepare_mimesis() -> Runner:
    from mimesis import Generic, Locale

    def run(n: int, out: Path) -> list[Path]:
        generic = Generic(locale=Locale.EN, seed=SEED)
        person, address, crypto, rnd = generic.person, generic.address, generic.cryptographic, generic.random
        rows = []
        for _ in range(n):
            rows.append({
                "id": crypto.uuid(),
                "first_name": person.first_name(),
                "last_name": person.last_name(),
                "email": person.email(),
                "phone": person.phone_number(),
                "street_address": address.address(),
                "city": address.city(),
                "state": address.state(abbr=True),
                "zip": address.zip_code(),
                "date_of_birth": person.birthdate(min_year=DOB_MIN.year, max_year=DOB_MAX.year - 1),
                "driver_license_number": rnd.generate_string_by_mask(mask="@#######"),
            })
        return write_dicts(rows, out / "persons.csv")

    return run


def esdh_plan(n: int):
    from esdh import library

    return library.plan("insurance", rows={"persons": n}, tables=["persons"])


def prepare_esdh(fmt: str | None, engine: str = "local", workers: int | None = None,
                 part_rows: int | None = None) -> Runner:
    """ESDH persons: generate only (``fmt`` None) or write ``fmt`` on ``engine`` (``part_rows`` None: the
    library's default partition size)."""
    from esdh import library
    from esdh.engine.chunks import batches as table_batches

    options = {"engine": engine, "workers": workers} | ({"part_rows": part_rows} if part_rows else {})

    def run(n: int, out: Path) -> list[Path]:
        plan = esdh_plan(n)
        if fmt is None:
            count = sum(batch.num_rows for batch in table_batches(plan, "persons"))
            if count != n:
                raise RuntimeError(f"ESDH made {count} rows, expected {n}")
            return []
        result = library.generate(plan, out / "esdh", formats=[fmt], check=False, **options)
        # above part_rows rows the table is a folder persons/ of part files
        return [p for p in result.files if p.name.startswith("persons.") or p.parent.name == "persons"]

    return run


PREPARE: dict[str, Callable[[], Runner]] = {
    "faker": lambda: prepare_faker(True),
    "faker-noweight": lambda: prepare_faker(False),
    "mimesis": prepare_mimesis,
    "esdh-gen": lambda: prepare_esdh(None),
    "esdh-parquet": lambda: prepare_esdh("parquet"),
    "esdh-csv": lambda: prepare_esdh("csv"),
}


def time_runs(run: Runner, rows: int, repeat: int, prefix: str,
              out_dir: str | None) -> tuple[list[float], list[str], list[int]]:
    """``repeat`` timed calls of ``run``, each into a fresh folder deleted afterwards: seconds, and the
    SHA-256 and byte size of each call's files (hashed outside the timed region)."""
    seconds: list[float] = []
    hashes: list[str] = []
    sizes: list[int] = []
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir))
    try:
        for i in range(repeat):
            target = base / f"run{i}"
            target.mkdir()
            start = time.perf_counter()
            files = run(rows, target)
            seconds.append(time.perf_counter() - start)
            if files:  # outside the timed region
                hashes.append(sha256_of(files))
                sizes.append(sum(p.stat().st_size for p in files))
            shutil.rmtree(target, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return seconds, hashes, sizes


def run_single(tool: str, rows: int, repeat: int, cpus: int, out_dir: str | None) -> dict:
    """One tool at one size, in this process: ``repeat`` timed runs. Returns the measurements."""
    cpu_set = pin_cpus(cpus)
    if tool.startswith("esdh"):
        ensure_esdh_importable()
    run = PREPARE[tool]()
    rss_after_imports = peak_rss_mb()
    seconds, hashes, sizes = time_runs(run, rows, repeat, f"bench-persons-{tool}-", out_dir)
    median = statistics.median(seconds)
    return {
        "tool": tool, "label": LABELS[tool], "rows": rows, "repeat": repeat, "seconds": seconds,
        "median_s": median, "rows_per_s": rows / median if median > 0 else float("inf"),
        "peak_rss_mb": round(peak_rss_mb(), 1), "rss_after_imports_mb": round(rss_after_imports, 1),
        "output_bytes": sizes[0] if sizes else None,
        "deterministic": (len(set(hashes)) == 1) if len(hashes) > 1 else None,  # needs 2+ runs
        "sha256": hashes[0] if hashes else None, "cpus": cpu_set,
    }


# ---- the driver -----------------------------------------------------------------------------------
def child_env(esdh_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(esdh_root)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def run_in_subprocess(tool: str, rows: int, args: argparse.Namespace, env: dict[str, str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--single", tool, "--rows", str(rows),
           "--repeat", str(args.repeat), "--cpus", str(args.cpus)]
    if args.out_dir:
        cmd += ["--out-dir", args.out_dir]
    return run_child(cmd, env, f"{tool} ({rows} rows)")



def print_table(results: list[dict]) -> None:
    faker = next((r["rows_per_s"] for r in results if r["tool"] == "faker"), None)
    mimesis = next((r["rows_per_s"] for r in results if r["tool"] == "mimesis"), None)
    header = ["tool", "rows", "median s", "runs s", "rows/s", "x Faker", "x Mimesis", "peak RSS MB",
              "output MB", "same bytes"]
    lines = []
    for r in results:
        r["x_faker"] = r["rows_per_s"] / faker if faker else None
        r["x_mimesis"] = r["rows_per_s"] / mimesis if mimesis else None
        lines.append([
            r["label"], f"{r['rows']:,}", f"{r['median_s']:.3f}", "/".join(f"{s:.2f}" for s in r["seconds"]),
            fmt_rate(r["rows_per_s"]),
            f"{r['x_faker']:.1f}x" if r["x_faker"] else "-",
            f"{r['x_mimesis']:.1f}x" if r["x_mimesis"] else "-",
            f"{r['peak_rss_mb']:.0f}",
            f"{r['output_bytes'] / 1e6:.1f}" if r["output_bytes"] else "-",
            {True: "yes", False: "NO", None: "-"}[r["deterministic"]],
        ])
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("| " + " | ".join(cells) + " |")


def goal_lines(results: list[dict]) -> list[dict]:
    out = []
    for r in results:
        if r["tool"] != "esdh-parquet":
            continue
        ok_rate = r["rows_per_s"] >= GOAL_ROWS_PER_S
        ok_ratio = r["x_faker"] is not None and r["x_faker"] >= GOAL_X_FAKER
        out.append({"rows": r["rows"], "rows_per_s": r["rows_per_s"], "x_faker": r["x_faker"],
                    "rows_per_s_ok": ok_rate, "x_faker_ok": ok_ratio})
        ratio = f"{r['x_faker']:.0f}x" if r["x_faker"] is not None else "n/a (Faker not run)"
        x_ref = r["rows_per_s"] / REFERENCE_ROWS_PER_S["faker"]
        out[-1]["x_reference_faker"] = x_ref
        print(f"goal ESDH->Parquet {r['rows']:,} rows: {fmt_rate(r['rows_per_s'])} rows/s "
              f"(>= {fmt_rate(GOAL_ROWS_PER_S)}: {'PASS' if ok_rate else 'FAIL'}), "
              f"{ratio} Faker of this run (>= {GOAL_X_FAKER}x: {'PASS' if ok_ratio else 'FAIL'}); "
              f"{x_ref:.0f}x the reference Faker {fmt_rate(REFERENCE_ROWS_PER_S['faker'])} rows/s")
    return out


def versions(names: tuple[str, ...] = ("faker", "mimesis", "numpy", "pyarrow", "enterprise-synthetic-data-hub"),
             ) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def git_revision() -> str | None:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty-src" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "allowed_cpus": sorted(os.sched_getaffinity(0)), "loadavg": os.getloadavg(),
            "versions": versions(), "git": git_revision()}


def parse_sizes(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def main_compare(args: argparse.Namespace) -> None:
    esdh_root = ensure_esdh_importable()
    env = child_env(esdh_root)
    sizes = dict(QUICK_SIZES if args.quick else FULL_SIZES)
    for tool in TOOLS:
        override = getattr(args, tool.replace("-", "_") + "_rows", None)
        if override:
            sizes[tool] = parse_sizes(override)
    tools = args.tools.split(",") if args.tools else TOOLS
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        raise SystemExit(f"unknown tool(s) {unknown}; choose from {TOOLS}")
    started = dt.datetime.now()
    wall = time.perf_counter()
    results = []
    for tool in tools:
        for rows in sizes[tool]:
            print(f"running {tool} with {rows:,} rows x {args.repeat} ...", file=sys.stderr, flush=True)
            result = run_in_subprocess(tool, rows, args, env)
            print(f"  median {result['median_s']:.3f} s, {fmt_rate(result['rows_per_s'])} rows/s, "
                  f"peak RSS {result['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
            results.append(result)
    print()
    print(f"persons benchmark, {started:%Y-%m-%d %H:%M}, median of {args.repeat}, "
          f"{'pinned to ' + str(args.cpus) + ' CPU(s)' if args.cpus else 'not pinned'}, "
          f"{'quick' if args.quick else 'full'} sizes")
    print_table(results)
    goals = goal_lines(results)
    if args.quick:
        print("(quick sizes: fixed costs dominate; these rates are a smoke test, not a measurement)")
    load = os.getloadavg()
    print(f"total wall time {time.perf_counter() - wall:.1f} s; load average now "
          f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min, {os.cpu_count()} CPUs; "
          "other work on the machine skews the timings)")
    default = RESULTS / f"persons-{started:%Y-%m-%d}{'-quick' if args.quick else ''}.json"
    path = Path(args.json) if args.json else default
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "persons", "started": started.isoformat(timespec="seconds"), "quick": args.quick,
              "repeat": args.repeat, "cpus": args.cpus, "seed": SEED, "fields": FIELDS, "machine": machine(),
              "results": results,
              "goal": {"rows_per_s": GOAL_ROWS_PER_S, "x_faker": GOAL_X_FAKER, "esdh_parquet": goals},
              "reference_rows_per_s": REFERENCE_ROWS_PER_S}
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {path}")


# ---- profile mode ---------------------------------------------------------------------------------
def describe(col) -> str:
    if col.kind == "generator":
        spec = col.spec.model_dump(exclude_defaults=True) if hasattr(col.spec, "model_dump") else {}
        extra = {k: v for k, v in spec.items() if k in ("generator", "field")}
        return f"{type(col.generator).__name__}" + (f" {extra.get('field')}" if extra.get("field") else "")
    if col.kind == "expr":
        return "expr"
    return col.kind


def main_profile(args: argparse.Namespace) -> None:
    """Per-column timing of the persons table, chunk by chunk as table_batches does, then cProfile."""
    import cProfile
    import pstats

    import numpy as np

    ensure_esdh_importable()
    from esdh.engine.chunks import batches as table_batches
    from esdh.engine.frame import Frame
    from esdh.output.fingerprint import Fingerprint
    from esdh.output.formats import CsvWriter, ParquetWriter

    cpu_set = pin_cpus(args.cpus)
    n = args.profile_rows or (100_000 if args.quick else 1_000_000)
    plan = esdh_plan(n)
    model = plan.dataset.tables["persons"]
    order, visible = list(model.order), model.visible_columns

    start = time.perf_counter()  # warm-up: vocabularies and other one-time loads
    warm = Frame(plan, "persons", np.arange(0, 1000, dtype=np.int64))
    for name in order:
        warm.values(name)
    warm_s = time.perf_counter() - start

    writes = ["(write parquet zstd)", "(write csv)", "(fingerprint)"]
    stages = ["(plan)", *order, "(record batch)", *writes]
    runs: dict[str, list[float]] = {s: [] for s in stages}
    tmp = Path(tempfile.mkdtemp(prefix="bench-persons-profile-", dir=args.out_dir))
    try:
        for _ in range(args.repeat):
            totals = dict.fromkeys(stages, 0.0)
            t0 = time.perf_counter()
            plan = esdh_plan(n)
            totals["(plan)"] = time.perf_counter() - t0
            fingerprint = Fingerprint()
            schema = None
            writers = {}
            for lo, hi in plan.chunks("persons"):
                start = lo
                frame = Frame(plan, "persons", np.arange(lo, hi, dtype=np.int64))
                for name in order:
                    t0 = time.perf_counter()
                    frame.values(name)
                    totals[name] += time.perf_counter() - t0
                t0 = time.perf_counter()
                batch = frame.batch(visible)
                totals["(record batch)"] += time.perf_counter() - t0
                if schema is None:
                    schema = batch.schema
                    writers = {"(write parquet zstd)": ParquetWriter(tmp / "p.parquet", schema),
                               "(write csv)": CsvWriter(tmp / "p.csv", schema)}
                for stage, writer in writers.items():
                    t0 = time.perf_counter()
                    writer.write(batch)
                    totals[stage] += time.perf_counter() - t0
                t0 = time.perf_counter()
                fingerprint.update(batch, start)
                totals["(fingerprint)"] += time.perf_counter() - t0
            for stage, writer in writers.items():
                t0 = time.perf_counter()
                writer.close()
                totals[stage] += time.perf_counter() - t0
            fingerprint.hexdigest()
            for stage in stages:
                runs[stage].append(totals[stage])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    median = {s: statistics.median(v) for s, v in runs.items()}
    gen_total = sum(median[c] for c in order)
    print(f"ESDH persons per-column profile: {n:,} rows in chunks of {plan.chunk_size:,}, "
          f"median of {args.repeat}, CPUs {cpu_set}; warm-up (1,000 rows, one-time loads) {warm_s:.2f} s")
    print(f"| {'column':<24} | {'kind':<26} | {'median s':>8} | {'ns/row':>7} | {'% gen':>6} | "
          f"{'Mrows/s':>7} |")
    print(f"|{'-' * 26}|{'-' * 28}|{'-' * 10}|{'-' * 9}|{'-' * 8}|{'-' * 9}|")
    rows_out = []
    for stage in stages:
        s = median[stage]
        col = model.columns.get(stage)
        kind = describe(col) if col is not None else "-"
        if col is not None and col.hidden:
            kind += " (hidden)"
        share = f"{100 * s / gen_total:5.1f}%" if col is not None else "-"
        rate = f"{n / s / 1e6:7.2f}" if s > 0 else "-"
        print(f"| {stage:<24} | {kind:<26} | {s:8.3f} | {1e9 * s / n:7.0f} | {share:>6} | {rate:>7} |")
        rows_out.append({"stage": stage, "kind": kind, "median_s": s, "runs_s": runs[stage]})
        if stage == order[-1]:
            print(f"| {'= generation total':<24} | {'':<26} | {gen_total:8.3f} | "
                  f"{1e9 * gen_total / n:7.0f} | {'100.0%':>6} | {n / gen_total / 1e6:7.2f} |")
    parts = ["(plan)", "(record batch)", "(write parquet zstd)", "(fingerprint)"]
    end_to_end = gen_total + sum(median[p] for p in parts)
    print(f"plan + generation + record batch + parquet write + fingerprint (what library.generate does, "
          f"less its per-batch select/cast/null counts and manifest): {end_to_end:.3f} s -> "
          f"{fmt_rate(n / end_to_end)} rows/s; generation alone {fmt_rate(n / gen_total)} rows/s")

    plain = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        count = sum(b.num_rows for b in table_batches(plan, "persons"))
        plain.append(time.perf_counter() - t0)
    plain_s = statistics.median(plain)
    print(f"table_batches alone (no per-column timers, no writers in between): {plain_s:.3f} s -> "
          f"{fmt_rate(n / plain_s)} rows/s (runs {'/'.join(f'{x:.2f}' for x in plain)})")

    profiler = cProfile.Profile()
    profiler.enable()
    count = sum(b.num_rows for b in table_batches(plan, "persons"))
    profiler.disable()
    assert count == n
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs().sort_stats("tottime")
    stats.print_stats(args.top)
    print(f"\ncProfile of table_batches(plan, 'persons') for {n:,} rows, top {args.top} by own time:")
    print("\n".join(line for line in text.getvalue().splitlines() if line.strip())[:20000])
    if args.json:
        report = {"rows": n, "warmup_s": warm_s, "stages": rows_out, "generation_s": gen_total,
                  "table_batches_s": plain,
                  "machine": machine()}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (< 30 s)")
    parser.add_argument("--repeat", type=int, help="timed runs per tool and size; the median is reported "
                        "(default 3; 1 with --quick)")
    parser.add_argument("--json", help="results file (default benchmarks/results/persons-<date>.json)")
    parser.add_argument("--cpus", type=int, default=1, help="pin each measurement to this many CPUs "
                        "(default 1; 0 leaves the affinity alone)")
    parser.add_argument("--tools", help=f"comma-separated subset of {','.join(TOOLS)}")
    for tool in TOOLS:
        parser.add_argument(f"--{tool}-rows", help=f"comma-separated row counts for {tool}")
    parser.add_argument("--out-dir", help="where temporary outputs are written (default: the system temp)")
    parser.add_argument("--profile", action="store_true",
                        help="per-column timing of ESDH persons, plus cProfile")
    parser.add_argument("--profile-rows", type=int,
                        help="rows for --profile (default 1,000,000; --quick 100,000)")
    parser.add_argument("--top", type=int, default=30,
                        help="cProfile lines to print in --profile (default 30)")
    parser.add_argument("--single", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.single:
        print(json.dumps(run_single(args.single, args.rows, args.repeat, args.cpus, args.out_dir)))
    elif args.profile:
        main_profile(args)
    else:
        main_compare(args)


if __name__ == "__main__":
    main()

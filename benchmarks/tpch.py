"""TPC-H benchmark: DuckDB's dbgen against the ESDH ``tpch`` pack, to Parquet, in one run on the same machine.

Both sides write the eight TPC-H tables at the same scale factor to Parquet (zstd):

- ``duckdb``: DuckDB 1.5.5 with its tpch extension, ``CALL dbgen(sf=SF)`` into an in-memory database, then
  ``COPY <table> TO '<table>.parquet' (FORMAT parquet, COMPRESSION zstd)`` for every table;
- ``esdh``: ``library.generate("tpch", out, scale=SF, formats=["parquet"], check=False, engine=ENGINE)``.

Each side runs in a fresh subprocess (this script with ``--single``), so the peak RSS (getrusage ru_maxrss,
interpreter and imports included) is that side's own; wall time is time.perf_counter inside the subprocess,
imports excluded. Both subprocesses are pinned to the same ``--threads`` CPUs (default 2) with
sched_setaffinity and DuckDB gets ``SET threads = N``. ESDH's ``--engine local`` (the default) is one process:
it uses one core whatever ``--threads`` says; ``--engine processes`` runs one worker process per pinned CPU
(the CPU-time column, which includes finished worker processes, shows how many cores each side kept busy).

DuckDB's ``INSTALL tpch`` downloads the extension, which does not work offline, and the project itself uses
DuckDB 2.x; so the DuckDB side runs in its own virtual environment, created once and cached in
``benchmarks/.venv-duckdb155/`` (git-ignored), with ``duckdb==1.5.5`` and ``duckdb-extension-tpch==1.5.5``
from PyPI; the extension file from that package is loaded with ``LOAD '<path>'``.

    python benchmarks/tpch.py                  # SF 1, 2 threads: a few minutes; benchmarks/results/tpch-<date>.json
    python benchmarks/tpch.py --quick          # SF 0.1
    python benchmarks/tpch.py --scale 10 --threads 4 --out-dir /big/disk
    python benchmarks/tpch.py --tools esdh     # one side only (no ratios)
    python benchmarks/tpch.py --engine processes   # ESDH on worker processes, one per --threads CPU

Run from the repository root; ``src`` is put on the path when ``esdh`` is not importable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__:  # imported by the suite (python -m benchmarks)
    from .measure import ensure_esdh_importable, fmt_rate, peak_rss_mb, pin_cpus, run_child
else:  # run as a script: python benchmarks/tpch.py (also the DuckDB side, in its own venv)
    from measure import ensure_esdh_importable, fmt_rate, peak_rss_mb, pin_cpus, run_child

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
VENV = HERE / ".venv-duckdb155"
DUCKDB_PACKAGES = ["duckdb==1.5.5", "duckdb-extension-tpch==1.5.5"]
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
TOOLS = ["duckdb", "esdh"]
LABELS = {"duckdb": "DuckDB 1.5.5 dbgen + COPY -> Parquet zstd", "esdh": "ESDH tpch pack -> Parquet zstd"}


# ---- shared helpers (the DuckDB child runs in the other venv: standard library only up here) -------------
def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the processes engine's workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def folder_bytes(folder: Path, suffix: str = ".parquet") -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.endswith(suffix))


# ---- the two sides (each in its own subprocess) ----------------------------------------------------------
def run_duckdb(scale: float, threads: int, out: Path) -> dict:
    cpu_set = pin_cpus(threads)
    import duckdb
    import duckdb_extension_tpch

    extension = next(Path(duckdb_extension_tpch.__file__).parent.rglob("tpch.duckdb_extension"))
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"LOAD '{extension}'")
    rss_after_imports = peak_rss_mb()
    cpu0 = cpu_seconds()
    start = time.perf_counter()
    con.execute(f"CALL dbgen(sf = {scale})")
    dbgen_s = time.perf_counter() - start
    tables = []
    for table in TABLES:
        t0 = time.perf_counter()
        con.execute(f"COPY {table} TO '{out / table}.parquet' (FORMAT parquet, COMPRESSION zstd)")
        tables.append({"table": table, "seconds": time.perf_counter() - t0})
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu0
    for entry in tables:
        entry["rows"] = con.execute(f"SELECT count(*) FROM {entry['table']}").fetchone()[0]
    return {"tool": "duckdb", "seconds": seconds, "dbgen_s": dbgen_s, "copy_s": seconds - dbgen_s,
            "cpu_s": cpu, "tables": tables, "versions": {"duckdb": duckdb.__version__},
            "rss_after_imports_mb": round(rss_after_imports, 1), "cpus": cpu_set}




def run_esdh(scale: float, threads: int, out: Path, engine: str = "local", workers: int | None = None) -> dict:
    cpu_set = pin_cpus(threads)
    ensure_esdh_importable()
    from importlib.metadata import version

    from esdh import library

    rss_after_imports = peak_rss_mb()
    finished: dict[str, float] = {}
    rows: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        if done >= total and table not in finished:
            finished[table] = time.perf_counter()
            rows[table] = total

    cpu0 = cpu_seconds()
    start = time.perf_counter()
    library.generate("tpch", out, scale=scale, formats=["parquet"], check=False, progress=progress, engine=engine,
                     workers=workers)
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu0
    # With the local engine, tables are written one after the other: a table's time runs from the end of the
    # previous one (the first includes loading the pack and planning). orders also computes its lines' prices
    # for o_totalprice. With the processes engine, partitions of several tables overlap: only the total counts.
    tables, previous = [], start
    for table, at in sorted(finished.items(), key=lambda item: item[1]):
        tables.append({"table": table, "rows": rows[table], "seconds": at - previous})
        previous = at
    return {"tool": "esdh", "engine": engine, "seconds": seconds, "cpu_s": cpu, "tables": tables,
            "publish_s": seconds - (previous - start),
            "versions": {name: version(name) for name in ("enterprise-synthetic-data-hub", "pyarrow", "numpy")},
            "rss_after_imports_mb": round(rss_after_imports, 1), "cpus": cpu_set}


def run_single(tool: str, scale: float, threads: int, out_dir: str | None, keep: bool, engine: str = "local",
               workers: int | None = None) -> dict:
    """One side, once, in this process; ``engine`` and ``workers`` are the ESDH side's."""
    base = Path(tempfile.mkdtemp(prefix=f"bench-tpch-{tool}-", dir=out_dir))
    out = base / f"sf{scale:g}"
    if tool == "duckdb":
        out.mkdir()
    try:
        side = run_duckdb if tool == "duckdb" else functools.partial(run_esdh, engine=engine, workers=workers)
        result = side(scale, threads, out)
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)  # the whole process, imports included
        result["output_bytes"] = sum(folder_bytes(folder) for folder in [out, *out.iterdir()] if folder.is_dir())
        result["rows"] = sum(t["rows"] for t in result["tables"])
        result["folder"] = str(out) if keep else None
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return result


# ---- the driver -------------------------------------------------------------------------------------------
def venv_python() -> Path:
    """The Python of the DuckDB 1.5.5 venv, created (once) with the two pinned packages."""
    python = VENV / "bin" / "python"
    probe = "import duckdb, duckdb_extension_tpch; assert duckdb.__version__ == '1.5.5'"
    if python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV.relative_to(ROOT)} with {' '.join(DUCKDB_PACKAGES)} (once) ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *DUCKDB_PACKAGES], check=True)
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        raise SystemExit(f"{VENV} does not provide duckdb 1.5.5 with the tpch extension")
    return python


def run_in_subprocess(tool: str, args: argparse.Namespace) -> dict:
    if tool == "duckdb":
        python, env = str(venv_python()), dict(os.environ)
    else:
        python, env = sys.executable, dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ensure_esdh_importable())]
                                            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    cmd = [python, str(Path(__file__).resolve()), "--single", tool, "--scale", str(args.scale),
           "--threads", str(args.threads), "--engine", args.engine]
    cmd += ["--out-dir", args.out_dir] if args.out_dir else []
    cmd += ["--keep"] if args.keep else []
    return run_child(cmd, env, f"{tool}")



def print_table(header: list[str], lines: list[list[str]], left: int = 1) -> None:
    """A Markdown table: the first ``left`` columns (text) left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        cells = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        print("| " + " | ".join(cells) + " |")


def report(results: dict[str, dict], args: argparse.Namespace) -> dict:
    lines = []
    for tool, r in results.items():
        cores = str(args.threads) if tool == "duckdb" or args.engine != "local" else "1 (single process)"
        lines.append([LABELS[tool], cores, f"{r['rows']:,}", f"{r['seconds']:.1f}", f"{r['cpu_s']:.1f}",
                      fmt_rate(r["rows"] / r["seconds"]), f"{r['peak_rss_mb']:.0f}", f"{r['output_bytes'] / 1e6:.0f}"])
    print_table(["tool", "cores used", "rows", "wall s", "CPU s", "rows/s", "peak RSS MB", "Parquet MB"], lines)
    ratios = {}
    if len(results) == 2:
        d, e = results["duckdb"], results["esdh"]
        ratios = {"time": e["seconds"] / d["seconds"], "peak_rss": e["peak_rss_mb"] / d["peak_rss_mb"],
                  "cpu": e["cpu_s"] / d["cpu_s"], "output_bytes": e["output_bytes"] / d["output_bytes"]}
        print(f"ratios ESDH / DuckDB: wall time {ratios['time']:.2f}x, peak RSS {ratios['peak_rss']:.2f}x, "
              f"CPU time {ratios['cpu']:.2f}x, Parquet size {ratios['output_bytes']:.2f}x "
              f"(ESDH engine {args.engine}, DuckDB on {args.threads} threads)")
        print(f"DuckDB: dbgen {d['dbgen_s']:.1f} s + COPY to Parquet {d['copy_s']:.1f} s")
    print()
    print("per table (ESDH: from the end of the previous table; the first includes loading the pack and "
          "planning, orders includes computing its lines' prices for o_totalprice; DuckDB: COPY only)")
    lines = []
    for table in TABLES:
        line = [table]
        for tool in results:
            entry = next((t for t in results[tool]["tables"] if t["table"] == table), None)
            if entry is None:
                line += ["-", "-", "-"]
                continue
            line += [f"{entry['rows']:,}", f"{entry['seconds']:.2f}",
                     fmt_rate(entry["rows"] / entry["seconds"]) if entry["seconds"] > 0 else "-"]
        lines.append(line)
    header = ["table"] + [f"{tool} {h}" for tool in results for h in ("rows", "s", "rows/s")]
    print_table(header, lines)
    if "esdh" in results:
        print(f"ESDH manifest, checksums and publishing: {results['esdh']['publish_s']:.1f} s")
    return ratios


def machine() -> dict:
    def git(*cmd: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *cmd], capture_output=True, text=True).stdout.strip()

    return {"platform": platform.platform(), "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "allowed_cpus": sorted(os.sched_getaffinity(0)), "loadavg": os.getloadavg(),
            "git": git("rev-parse", "HEAD") + ("+dirty-src" if git("status", "--porcelain", "--", "src") else "")}


def main_compare(args: argparse.Namespace) -> None:
    tools = args.tools.split(",") if args.tools else TOOLS
    if unknown := [t for t in tools if t not in TOOLS]:
        raise SystemExit(f"unknown tool(s) {unknown}; choose from {TOOLS}")
    if args.threads > len(os.sched_getaffinity(0)):
        print(f"warning: --threads {args.threads} but only {len(os.sched_getaffinity(0))} CPUs are available",
              file=sys.stderr)
    started = dt.datetime.now()
    results = {}
    for tool in tools:
        print(f"running {tool} at scale factor {args.scale:g} ...", file=sys.stderr, flush=True)
        results[tool] = run_in_subprocess(tool, args)
        r = results[tool]
        print(f"  {r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    print()
    print(f"TPC-H to Parquet (zstd), scale factor {args.scale:g}, {started:%Y-%m-%d %H:%M}, both pinned to "
          f"{args.threads} CPU(s); DuckDB threads = {args.threads}; ESDH engine {args.engine}")
    ratios = report(results, args)
    load = os.getloadavg()
    print(f"load average now {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min, {os.cpu_count()} CPUs; "
          "other work on the machine skews the timings)")
    path = Path(args.json) if args.json else RESULTS / f"tpch-sf{args.scale:g}-{started:%Y-%m-%d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"benchmark": "tpch", "started": started.isoformat(timespec="seconds"), "scale": args.scale,
                "threads": args.threads, "machine": machine(), "results": results, "ratios_esdh_over_duckdb": ratios}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--quick", action="store_true", help="scale factor 0.1")
    parser.add_argument("--threads", type=int, default=2,
                        help="CPUs both sides are pinned to and DuckDB's threads (default 2)")
    parser.add_argument("--tools", help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--engine", default="local", choices=["local", "processes"],
                        help="ESDH engine (default local: one process; processes: one worker per pinned CPU)")
    parser.add_argument("--out-dir", help="where the Parquet files are written (default: the system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the Parquet files (the folders are printed)")
    parser.add_argument("--json", help="results file (default benchmarks/results/tpch-sf<SF>-<date>.json)")
    parser.add_argument("--single", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.scale = 0.1
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.single:
        workers = args.threads if args.engine == "processes" else None
        print(json.dumps(run_single(args.single, args.scale, args.threads, args.out_dir, args.keep, args.engine,
                                    workers)))
    else:
        main_compare(args)


if __name__ == "__main__":
    main()

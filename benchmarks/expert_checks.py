"""Run the expert checks (tests/experts/<dataset>.sql) over a generated dataset and print a table.

A measuring tool, not a test yet: it always exits 0. Each rule of the SQL file is one query introduced by
`-- name: <id>` (and `-- kind: impossible|implausible`) that returns `violations`, `total` and optionally
`value` (the measured statistic of a rule about a rate). See docs/datasets/insurance.md and retail.md.

    python -m benchmarks.expert_checks --data out/insurance --sql insurance
    python -m benchmarks.expert_checks --generate insurance --seed 2 --rows persons=20000
    python -m benchmarks.expert_checks --generate retail --seed 1 --scale 1 --json results.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPERTS = ROOT / "tests" / "experts"
VOCAB = ROOT / "src" / "esdh" / "packs" / "vocab"


def parse_rules(sql: str) -> list[dict]:
    """The rules of an SQL file: name, kind and query text, in file order."""
    rules: list[dict] = []
    for block in re.split(r"^-- name:", sql, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        kind = re.search(r"^-- kind:\s*(\S+)", body, flags=re.M)
        rules.append({"name": name.strip(), "kind": kind.group(1) if kind else "", "sql": body.strip()})
    return rules


def as_of_of(folder: Path) -> str:
    """The dataset's as_of from its datapackage.json, else 2026-01-01."""
    try:
        manifest = json.loads((folder / "datapackage.json").read_text())
    except (OSError, ValueError):
        return "2026-01-01"
    found = re.search(r'"as_of":\s*"(\d{4}-\d{2}-\d{2})', json.dumps(manifest))
    return found.group(1) if found else "2026-01-01"


def run_checks(folder: Path, sql_path: Path) -> list[dict]:
    import duckdb

    con = duckdb.connect()
    as_of = as_of_of(folder)
    results = []
    for rule in parse_rules(sql_path.read_text()):
        query = (
            rule["sql"]
            .replace("{dir}", str(folder))
            .replace("{ref}", str(EXPERTS))
            .replace("{vocab}", str(VOCAB))
            .replace("{as_of}", as_of)
        )
        started = time.perf_counter()
        try:
            cur = con.execute(query)
            names = [d[0] for d in cur.description]
            row = dict(zip(names, cur.fetchone(), strict=True))
            error = None
        except Exception as exc:  # a broken or inapplicable rule is reported, not fatal
            message = str(exc).splitlines()[0]
            missing = re.search(r'column "?(\w+)"? not found|does not have a column named "(\w+)"', message)
            row = {}
            error = (
                f"column missing: {missing.group(1) or missing.group(2)}"
                if missing
                else f"{type(exc).__name__}: {message[:120]}"
            )
        violations, total = row.get("violations"), row.get("total")
        rate = (violations / total) if violations is not None and total else None
        results.append(
            {
                "rule": rule["name"],
                "kind": rule["kind"],
                "violations": violations,
                "total": total,
                "rate": rate,
                "value": row.get("value"),
                "error": error,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    return results


def print_table(results: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'rule':<48} {'kind':<12} {'violations':>10} {'total':>9} {'rate':>8} {'value':>10}")
    for r in results:
        if r["error"]:
            print(f"{r['rule']:<48} {r['kind']:<12} {r['error']}")
            continue
        rate = "" if r["rate"] is None else f"{100 * r['rate']:.1f}%"
        value = "" if r["value"] is None else f"{r['value']:.4g}"
        print(f"{r['rule']:<48} {r['kind']:<12} {r['violations']!s:>10} {r['total']!s:>9} {rate:>8} {value:>10}")
    failed = sum(1 for r in results if r["violations"])
    print(f"{failed} of {len(results)} rules violated")


def generate(dataset: str, seed: int, out: Path, rows: list[str], scale: float | None) -> None:
    cmd = [sys.executable, "-m", "esdh", "generate", dataset, "-o", str(out), "--seed", str(seed), "-q", "--no-check"]
    for r in rows:
        cmd += ["--rows", r]
    if scale is not None:
        cmd += ["--scale", str(scale)]
    subprocess.run(cmd, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder of a generated dataset (Parquet files)")
    parser.add_argument("--sql", help="insurance, retail or a path to an .sql file (default: the generated dataset)")
    parser.add_argument("--generate", metavar="DATASET", help="generate this built-in dataset first (esdh generate)")
    parser.add_argument("--seed", type=int, action="append", help="seed(s) for --generate (repeatable; default 1)")
    parser.add_argument("--rows", action="append", default=[], help="TABLE=N for --generate (repeatable)")
    parser.add_argument("--scale", type=float, help="--scale for --generate")
    parser.add_argument("--keep", type=Path, help="with --generate: write the data under this folder and keep it")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    sql_name = args.sql or args.generate
    if not sql_name or not (args.data or args.generate):
        parser.error("give --data FOLDER --sql NAME, or --generate DATASET")
    sql_path = Path(sql_name) if sql_name.endswith(".sql") else EXPERTS / f"{sql_name}.sql"

    runs: dict[str, list[dict]] = {}
    if args.generate:
        base = args.keep or Path(tempfile.mkdtemp(prefix="esdh-experts-"))
        for seed in args.seed or [1]:
            out = base / f"{args.generate}-seed{seed}"
            if not (out / "datapackage.json").exists():
                generate(args.generate, seed, out, args.rows, args.scale)
            runs[f"{args.generate} seed {seed} ({out})"] = run_checks(out, sql_path)
    else:
        runs[str(args.data)] = run_checks(args.data, sql_path)
    for title, results in runs.items():
        print_table(results, title)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

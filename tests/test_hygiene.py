"""Randomness only from esdh.rng; no wall clock, no global random state in generation code."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "esdh"
FORBIDDEN = re.compile(
    r"^\s*(import random\b|from random import)|np\.random\.|numpy\.random|datetime\.(now|utcnow|today)\(|"
    r"date\.today\(|time\.time\(\)|(?<![\w.])hash\(",
    re.M,
)
# The interfaces and run bookkeeping may read the clock (run metadata lives outside the data); rng.py may use
# the OS entropy source for --randomize; checks and quality only read data (their SQL uses DuckDB's hash());
# the lineage run events carry their times (run metadata, not listed in the manifest).
ALLOWED = {"rng.py", "checks/keys.py", "output/events.py"}
ALLOWED_DIRS = {"cli", "runs", "api", "web", "quality"}


def test_generation_code_has_no_hidden_randomness_or_clock() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.as_posix() in ALLOWED or rel.parts[0] in ALLOWED_DIRS:
            continue
        for match in FORBIDDEN.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8")[: match.start()].count("\n") + 1
            offenders.append(f"{rel}:{line}: {match.group(0).strip()}")
    assert offenders == []


def test_the_rule_catches_what_it_should(tmp_path: Path) -> None:
    for bad in ("import random", "x = np.random.default_rng(1)", "datetime.now()", "h = hash(name)"):
        assert FORBIDDEN.search(bad), bad

"""The resume journal: what an unfinished output records, so that --resume keeps what is intact."""

from __future__ import annotations

from typing import Any

from esdh.errors import OutputError

JOURNAL = ".esdh-journal"  # a folder inside the staged output
RUN_KEY = "run.json"  # the options the output was started with: a resume must use the same


def resumes(resume: bool, recorded: dict[str, Any] | None, key: dict[str, Any], where: object) -> bool:
    """Whether an unfinished output found at ``where`` is continued (True) or discarded (False); with
    ``resume``, one started with other options is refused rather than silently thrown away."""
    if not resume or recorded is None:  # killed before its options were recorded: nothing to trust, start over
        return False
    if recorded != key:
        raise OutputError(f"the interrupted output in {where} was started with other options; run again without "
                          "--resume to start over")
    return True

"""The spec's checks evaluated on data: what generation checks as it writes and validation checks on any data.

Row-level checks (ranges, enums, patterns, lengths, rules, non-null keys) run on each chunk as it is
written (:mod:`.rows`). Set-level checks (uniqueness, primary keys, foreign keys) run afterwards in DuckDB
over the written files (:mod:`.keys`). Every failure is collected; nothing stops at the first. A generator's
guarantees count as checks too (:mod:`.implied`).
"""

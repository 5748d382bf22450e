"""``python -m benchmarks``: the benchmark suite (see suite.py)."""

# Guarded, with the import inside: the processes engine's spawned workers import this module as
# __mp_main__, and must neither run the suite nor pay for importing it.
if __name__ == "__main__":
    from .suite import main

    main()

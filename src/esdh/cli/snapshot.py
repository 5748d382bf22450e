"""``esdh generate-snapshot`` (the classic flags) and ``esdh profile-info``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from esdh import library
from esdh.cli.options import ROWS, SEED

ENTITIES, SNAPSHOT_FORMATS = library.snapshot.ENTITIES, library.snapshot.SNAPSHOT_FORMATS


class Greedy(click.Option):
    """An option that takes every following word up to the next option, like argparse's nargs="+",
    so the classic ``--entity-filter persons vehicles`` keeps working. It may also be repeated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            option = parser._long_opt.get(name)
            if option is None:
                continue
            original = option.process

            def process(value: str, state: object, original: Callable[[str, object], None] = original) -> None:
                words = [value]
                rest = state.rargs  # type: ignore[attr-defined]
                while rest and not rest[0].startswith("-"):
                    words.append(rest.pop(0))
                for word in words:
                    for item in word.split(","):
                        if item:
                            original(item, state)

            option.process = process


@click.command("generate-snapshot")
@click.option("--output-dir", type=click.Path(path_type=Path), default=Path("data/snapshots/v0.1"),
              show_default=True)
@click.option("--records", type=ROWS, default=200, show_default=True,
              help="number of persons (each with 1 to 3 vehicles and one profile)")
@click.option("--seed", type=SEED, help="seed (default: the dataset's, 20240601)")
@click.option("--randomize", is_flag=True, help="draw a fresh seed; it is printed")
@click.option("--entity-filter", "entities", cls=Greedy, type=click.Choice(ENTITIES),
              help="entities to write (repeat or list after one flag); default all")
@click.option("--output-format", "formats", cls=Greedy, type=click.Choice(SNAPSHOT_FORMATS),
              help=f"formats per entity (default: {' '.join(library.snapshot.DEFAULT_FORMATS)})")
def generate_snapshot(output_dir: Path, records: int, seed: int | None, randomize: bool,
                      entities: tuple[str, ...], formats: tuple[str, ...]) -> None:
    """Write the classic snapshot layout (persons_v0_1.csv, dataset_v0_1.json, manifest, ...)."""
    if seed is not None and randomize:
        raise click.UsageError("give --seed or --randomize, not both")
    snapshot = library.snapshot.generate_snapshot(output_dir, records=records, seed=seed, randomize=randomize,
                                                  entities=list(entities), formats=list(formats))
    click.echo(f"seed: {snapshot.seed}{' (randomized)' if snapshot.randomized else ''}")
    click.echo("Snapshot generation completed. Files written:")
    for label, path in snapshot.files.items():
        click.echo(f"- {label}: {path}")
    counts = " ".join(f"{e}: {n}" for e, n in snapshot.record_counts.items())
    click.echo(f"Record counts — {counts}")


@click.command("profile-info")
@click.option("--profile", "name", help="profile name (default: $DEMO_PROFILE or baseline)")
@click.option("--json", "as_json", is_flag=True)
def profile_info(name: str | None, as_json: bool) -> None:
    """Show what a demo profile generates."""
    info = library.profiles.profile_info(name)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        click.echo(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")

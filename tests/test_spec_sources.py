"""Spec sources: a built-in's bare name is always the built-in, a path is always a path, and where a name
could be both the output says which was read. Same rules in the library, the CLI and the API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from esdh import library
from esdh.cli.main import cli
from esdh.errors import SpecError
from esdh.packs import pack_path
from esdh.spec.source import ResolvedSource, resolve_source
from tests.conftest import SMALL_SPEC

FINANCE = Path(__file__).resolve().parent / "fixtures" / "config_folders" / "finance_transactions"
NOTE = "built-in dataset 'insurance' (./insurance is a folder; write ./insurance to use it)"


def problem_of(source: object) -> tuple[str, str]:
    """(message, hint) of the one problem resolving ``source`` reports."""
    with pytest.raises(SpecError) as info:
        resolve_source(source)  # type: ignore[arg-type]
    [problem] = info.value.problems
    return problem.message, problem.hint


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- the resolver, rule by rule ------------------------------------------------------------------------


def test_a_bare_builtin_name_is_the_builtin(here: Path) -> None:
    assert resolve_source("insurance") == ResolvedSource("pack", "insurance", name="insurance",
                                                         path=pack_path("insurance"))


def test_pack_prefix_is_the_builtin_and_an_unknown_one_suggests(here: Path) -> None:
    (here / "insurance").mkdir()
    found = resolve_source("pack:insurance")
    assert (found.kind, found.name, found.path, found.note) == ("pack", "insurance", pack_path("insurance"), None)
    message, hint = problem_of("pack:insurence")
    assert message == "'insurence' is not a built-in dataset" and hint == "did you mean 'insurance'?"
    _, hint = problem_of("pack:zzz")
    assert hint.startswith("built-in datasets: ") and "insurance" in hint


def test_a_builtin_name_that_is_also_a_folder_here_is_the_builtin_with_a_note(here: Path) -> None:
    (here / "insurance").mkdir()
    found = resolve_source("insurance")
    assert (found.kind, found.name, found.note) == ("pack", "insurance", NOTE)
    (here / "retail").write_text("not a spec", encoding="utf-8")
    assert resolve_source("retail").note == ("built-in dataset 'retail' (./retail is a file; write ./retail "
                                             "to use it)")


def test_dot_slash_name_is_the_folder(here: Path) -> None:
    shutil.copytree(FINANCE, here / "insurance")
    found = resolve_source("./insurance")
    assert (found.kind, found.path, found.note) == ("folder", Path("insurance"), None)


def test_a_yaml_path_is_a_file_and_a_missing_one_is_an_error(here: Path) -> None:
    (here / "shop.yaml").write_text(SMALL_SPEC, encoding="utf-8")
    assert resolve_source("shop.yaml") == ResolvedSource("file", "shop.yaml", path=Path("shop.yaml"))
    assert problem_of("nope.yaml") == ("spec file not found: nope.yaml", "check the path")
    assert problem_of("sub/nope.yml")[0] == "spec file not found: sub/nope.yml"


def test_a_missing_path_is_an_error_not_a_builtin_lookup(here: Path) -> None:
    assert problem_of("./nope") == ("no spec file or folder at ./nope", "check the path")
    message, hint = problem_of("./retail")  # a built-in's name written as a path: the path, which is missing
    assert message == "no spec file or folder at ./retail"
    assert hint == "check the path; the built-in dataset is written without a path: retail (or pack:retail)"
    assert problem_of("data/insurance")[0] == "no spec file or folder at data/insurance"


def test_a_tilde_path_is_expanded(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = here / "home"
    home.mkdir()
    (home / "shop.yaml").write_text(SMALL_SPEC, encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    found = resolve_source("~/shop.yaml")
    assert (found.kind, found.path) == ("file", home / "shop.yaml")


def test_a_bare_name_that_is_not_a_builtin_but_exists_is_that_path(here: Path) -> None:
    shutil.copytree(FINANCE, here / "mydata")
    assert resolve_source("mydata") == ResolvedSource("folder", "mydata", path=Path("mydata"))
    (here / "shopspec").write_text(SMALL_SPEC, encoding="utf-8")
    assert resolve_source("shopspec").kind == "file"


def test_an_unknown_name_suggests_the_closest_builtin(here: Path) -> None:
    assert problem_of("insurence") == ("'insurence' is neither a spec file nor a built-in dataset",
                                       "did you mean 'insurance'?")
    _, hint = problem_of("nosuch")
    assert hint.startswith("built-in datasets: ") and "insurance" in hint
    _, hint = problem_of("pak:insurance")
    assert hint == "a built-in dataset is written NAME or pack:NAME; did you mean 'insurance'?"


def test_yaml_text_and_mappings(here: Path) -> None:
    assert resolve_source("dataset: x\nas_of: 2026-01-01\n").kind == "text"
    assert resolve_source("{dataset: x, as_of: 2026-01-01, tables: {}}").kind == "text"
    assert resolve_source({"dataset": "x"}) == ResolvedSource("mapping", "<mapping>")


def test_a_path_object_is_always_a_path(here: Path) -> None:
    shutil.copytree(FINANCE, here / "insurance")
    assert resolve_source(Path("insurance")) == ResolvedSource("folder", "insurance", path=Path("insurance"))
    assert problem_of(Path("retail"))[0] == "no spec file or folder at retail"
    assert problem_of(Path("retail.yaml"))[0] == "spec file not found: retail.yaml"


def test_an_output_folder_given_as_a_spec_says_what_it_is(here: Path) -> None:
    (here / "out").mkdir()
    (here / "out" / "datapackage.json").write_text("{}", encoding="utf-8")
    message, hint = problem_of("./out")
    assert message == "./out is an ESDH output folder (it holds datapackage.json), not a spec"
    assert "esdh validate ./out --spec SPEC" in hint
    (here / "empty").mkdir()  # any other folder is read as a config folder, which reports what is missing
    assert resolve_source("./empty").kind == "folder"


# ---- the library -----------------------------------------------------------------------------------------


def test_library_load_of_a_builtin_name_ignores_a_folder_of_that_name(here: Path) -> None:
    shutil.copytree(FINANCE, here / "insurance")
    builtin = library.load("insurance")
    assert builtin.spec.dataset == "insurance" and builtin.origin is not None and builtin.origin.note == NOTE
    assert library.load("pack:insurance").spec == builtin.spec
    folder = library.load("./insurance")
    assert folder.spec.dataset == "finance_transactions" and folder.origin.kind == "folder"
    assert library.load(Path("insurance")).spec.dataset == "finance_transactions"
    assert library.plan("insurance").dataset.origin.note == NOTE


def test_library_origin_of_text_and_mappings(here: Path) -> None:
    assert library.load(SMALL_SPEC).origin == ResolvedSource("text", "<text>")
    assert library.load("pack:insurance").origin.describe() == "built-in dataset 'insurance'"


# ---- the CLI: the scenario -----------------------------------------------------------------------


def test_generate_a_builtin_twice_into_a_folder_of_its_name(here: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["generate", "insurance", "-o", "insurance", "-q", "--rows", "persons=20"])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0].startswith("seed: ")  # no folder yet: nothing to tell apart
    second = runner.invoke(cli, ["generate", "insurance", "-o", "other", "-q", "--rows", "persons=20"])
    assert second.exit_code == 0, second.output
    lines = second.stdout.splitlines()
    assert lines[0] == f"source: {NOTE}"
    assert lines[1].startswith("seed: ") and lines[2].startswith("dataset: insurance 1.0.0 -> ")
    assert (here / "other" / "datapackage.json").is_file()
    for name in ("persons", "vehicles"):  # the same dataset both times
        written = (here / "other" / f"{name}.parquet").read_bytes()
        assert written == (here / "insurance" / f"{name}.parquet").read_bytes()


def test_generate_dot_slash_an_output_folder_fails_clearly(here: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["generate", "insurance", "-o", "insurance", "-q", "--rows", "persons=5"]).exit_code == 0
    result = runner.invoke(cli, ["generate", "./insurance", "-o", "x", "-q"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert ("./insurance is an ESDH output folder (it holds datapackage.json), not a spec"
            in result.stderr)
    assert not (here / "x").exists()


def test_generate_dot_slash_a_config_folder_reads_it(here: Path) -> None:
    shutil.copytree(FINANCE, here / "insurance")
    result = CliRunner().invoke(cli, ["generate", "./insurance", "-o", "x", "-q", "--rows",
                                      "finance_transactions=20"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("seed: ")
    assert "dataset: finance_transactions" in result.stdout


def test_plan_spec_check_and_run_say_which_source_was_read(here: Path) -> None:
    (here / "insurance").mkdir()
    runner = CliRunner()
    plan = runner.invoke(cli, ["plan", "insurance"])
    assert plan.exit_code == 0 and plan.stdout.splitlines()[0] == f"source: {NOTE}"
    as_json = runner.invoke(cli, ["plan", "insurance", "--json"])  # the note on stderr: the JSON stays JSON
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["dataset"]
    assert as_json.stderr == f"source: {NOTE}\n"
    check = runner.invoke(cli, ["spec", "check", "insurance"])
    assert check.exit_code == 0 and check.stdout.splitlines() == [f"source: {NOTE}",
                                                                  "ok: insurance 1.0.0 (persons, vehicles, "
                                                                  "profiles, policies, claims)"]
    run = runner.invoke(cli, ["run", "insurance", "--registry", "reg", "-q", "--rows", "persons=20"])
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines()[0] == f"source: {NOTE}"
    plain = runner.invoke(cli, ["spec", "check", "pack:insurance"])  # explicit: nothing to tell apart
    assert plain.stdout.splitlines() == ["ok: insurance 1.0.0 (persons, vehicles, profiles, policies, claims)"]


# ---- the API: a URL names built-ins only ------------------------------------------------------------------


def test_api_dataset_names_are_builtins_only(here: Path) -> None:
    pytest.importorskip("fastapi")
    from esdh.api import ApiSettings, v1_catalogue
    from tests.api_server import client, running_server

    shutil.copytree(FINANCE, here / "insurance")  # folders in the server's directory are never read
    shutil.copytree(FINANCE, here / "mydata")
    v1_catalogue._load.cache_clear()
    v1_catalogue._detail.cache_clear()
    with running_server(ApiSettings(registry=here / "runs")) as url, client(url) as http:
        body = http.get("/v1/datasets/insurance").json()
        assert body["spec"]["dataset"] == "insurance" and "persons" in [t["name"] for t in body["tables"]]
        for name in ("mydata", "pack:insurance", "..%2Finsurance", ".%2Finsurance", "insurance.yaml"):
            response = http.get(f"/v1/datasets/{name}")
            assert response.status_code == 404, (name, response.text)
        assert http.get("/v1/datasets/mydata/tables/finance_transactions/preview").status_code == 404


def test_docs_show_the_real_note_and_error(here: Path) -> None:
    cli_md = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"source: {NOTE}\n" in cli_md
    assert "./insurance: ./insurance is an ESDH output folder (it holds datapackage.json), not a spec" in cli_md

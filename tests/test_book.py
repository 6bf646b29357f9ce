"""Tests of the book: table of contents, executed chapters, results files, bibliography, runner.

Every chapter listed in ``_toc.yml`` must be committed executed under a non-smoke profile
(``make reproduce``). It must have no error outputs, a paired jupytext source in sync, at least
one citation, every glued name it uses, and its ``chapters/results/<chapter>.json``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "_toc.yml"
CONFIG = ROOT / "_config.yml"
BIB = ROOT / "book" / "references.bib"
RUNNER = ROOT / "scripts" / "execute_chapters.py"
RESULTS = ROOT / "chapters" / "results"

CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`")
GLUE_DIRECTIVE = re.compile(r"^```\{glue(?::[a-z]+)?\}\s+(\S+)", re.MULTILINE)
CLAIM_KEYS = {"paper", "ours", "unit", "profile", "verdict"}


def toc_files() -> list[str]:
    """Every file named in ``_toc.yml`` (without suffix), root first."""
    toc = yaml.safe_load(TOC.read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []) or [])

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []) or [])
    return files


CHAPTERS = [f for f in toc_files() if f.startswith("chapters/")]


def bib_keys() -> set[str]:
    from pybtex.database import parse_file

    return set(parse_file(str(BIB), bib_format="bibtex").entries.keys())


def cite_keys(text: str) -> set[str]:
    keys: set[str] = set()
    for group in CITE_ROLE.findall(text):
        keys.update(k.strip() for k in group.split(",") if k.strip())
    return keys


def markdown_of(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def read_chapter(chapter: str) -> nbformat.NotebookNode:
    path = ROOT / f"{chapter}.ipynb"
    assert path.is_file(), f"{chapter}.ipynb is listed in _toc.yml but does not exist"
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- configuration


def test_toc_lists_every_chapter_in_the_papers_order_and_reference_pages() -> None:
    """Every chapter notebook is in the toc, numbered 01, 02, ... in the paper's order."""
    on_disk = sorted(f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    assert CHAPTERS == on_disk
    numbers = [int(Path(c).name[:2]) for c in CHAPTERS]
    assert numbers == list(range(1, len(CHAPTERS) + 1))
    assert CHAPTERS[:5] == [
        "chapters/01_introduction",
        "chapters/02_related_work",
        "chapters/03_linear_explanation",
        "chapters/04_linear_perturbation",
        "chapters/05_linear_models_vs_weight_decay",
    ]
    others = [f for f in toc_files() if not f.startswith("chapters/")]
    for name in others:
        assert (ROOT / f"{name}.md").is_file() or (ROOT / f"{name}.ipynb").is_file(), name


def test_config_never_executes_and_uses_the_bibliography() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert [ROOT / p for p in config["bibtex_bibfiles"]] == [BIB]
    assert "intersphinx" not in " ".join(config["sphinx"]["extra_extensions"])


def test_intro_profile_table_matches_profiles() -> None:
    from advkeras.book.profiles import PROFILES

    intro = (ROOT / "book" / "intro.md").read_text()
    for name, profile in PROFILES.items():
        row = next(line for line in intro.splitlines() if line.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert f"{profile.maxout_units} × {profile.maxout_pieces}" in cells[3], (name, cells[3])
        if profile.maxout_units_large != profile.maxout_units:
            assert f"{profile.maxout_units_large} × {profile.maxout_pieces}" in cells[3]
        if profile.patience is None:
            assert f"{profile.epochs_maxout} epoch" in cells[3], (name, cells[3])
        else:
            assert f"patience {profile.patience}" in cells[3], (name, cells[3])
            assert f"{profile.epochs_maxout:,} epochs" in cells[3], (name, cells[3])
        if profile.epochs_variant != profile.epochs_maxout:
            assert f"controls {profile.epochs_variant} epochs" in cells[3], (name, cells[3])
        assert cells[4] == str(len(profile.seeds)), (name, cells[4])
        assert cells[5] == str(profile.ensemble_size), (name, cells[5])
        if profile.mnist_train is not None:
            assert cells[2].startswith(f"{profile.mnist_train:,} / {profile.mnist_test:,}")


# --------------------------------------------------------------------------- bibliography


def test_bibliography_parses_and_has_the_core_references() -> None:
    keys = bib_keys()
    assert {"goodfellow2015explaining", "szegedy2014intriguing", "goodfellow2013maxout"} <= keys
    assert len(keys) >= 17


def test_every_citation_in_the_book_exists_in_references_bib() -> None:
    keys = bib_keys()
    used: dict[str, set[str]] = {}
    for md in sorted((ROOT / "book").glob("*.md")):
        used[str(md.relative_to(ROOT))] = cite_keys(md.read_text())
    for chapter in CHAPTERS:
        path = ROOT / f"{chapter}.ipynb"
        if path.is_file():
            used[chapter] = cite_keys(markdown_of(nbformat.read(path, as_version=4)))
    missing = {doc: sorted(k - keys) for doc, k in used.items() if k - keys}
    assert not missing, f"citation keys not in book/references.bib: {missing}"


def test_cite_role_parser() -> None:
    text = "see {cite}`a2015, b2014` and {cite:t}`c2013` but not `{cite}` alone"
    assert cite_keys(text) == {"a2015", "b2014", "c2013"}


# --------------------------------------------------------------------------- chapters


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_valid_and_executed_under_a_book_profile(chapter: str) -> None:
    nb = read_chapter(chapter)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code, f"{chapter} has no code cells"
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{chapter}: code cells {unexecuted} were never executed"
    assert any(c.outputs for c in code), f"{chapter}: no code cell has an output"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{chapter}: error outputs: {[e.ename for e in errors]}"
    meta = nb.metadata.get("advkeras")
    assert meta, f"{chapter}: no advkeras metadata; execute it with scripts/execute_chapters.py"
    assert meta["profile"] in {"book", "paper"}, f"{chapter} was executed under {meta['profile']}"
    assert {"advkeras_version", "executed", "seconds"} <= set(meta)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_paired_source_is_in_sync(chapter: str) -> None:
    import jupytext

    source = ROOT / f"{chapter}.py"
    if not source.is_file():
        pytest.skip(f"{chapter} has no paired jupytext source")
    nb = read_chapter(chapter)
    text = jupytext.read(source)

    def cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
        return [(c.cell_type, c.source.strip()) for c in notebook.cells if c.source.strip()]

    assert cells(text) == cells(nb), (
        f"{chapter}.py and .ipynb differ: run `jupytext --sync {chapter}.ipynb` and re-execute"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_cites_and_glues_what_it_uses(chapter: str) -> None:
    nb = read_chapter(chapter)
    markdown = markdown_of(nb)
    assert cite_keys(markdown), f"{chapter} cites nothing"
    used = set(GLUE_ROLE.findall(markdown)) | set(GLUE_DIRECTIVE.findall(markdown))
    glued = {
        o.metadata["scrapbook"]["name"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "scrapbook" in o.get("metadata", {})
    }
    assert used <= glued, f"{chapter}: glue names used but never glued: {sorted(used - glued)}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_results_file_has_graded_claims(chapter: str) -> None:
    from advkeras.book.reporting import VERDICTS

    path = RESULTS / f"{Path(chapter).name}.json"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: the chapter must save_results()"
    record = json.loads(path.read_text())
    assert record["chapter"] == Path(chapter).name
    assert record["profile"] != "smoke"
    assert record["claims"], f"{path.name} has no claims"
    for claim_id, claim in record["claims"].items():
        assert CLAIM_KEYS <= set(claim), (claim_id, sorted(CLAIM_KEYS - set(claim)))
        assert claim["verdict"] in VERDICTS, (claim_id, claim["verdict"])
        assert claim["profile"] == record["profile"], claim_id


# --------------------------------------------------------------------------- the runner


def tiny_notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        nbformat.v4.new_code_cell(source),
    ]
    nbformat.write(nb, path)


def run_runner(
    *paths: Path, profile: str, flags: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVKERAS_PROFILE": profile, **(env or {})}
    return subprocess.run(
        [sys.executable, str(RUNNER), "--timeout", "120", *flags, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_runner_executes_in_place_and_records_metadata(tmp_path: Path) -> None:
    path = tmp_path / "ok.ipynb"
    tiny_notebook(path, "import os, sys\nprint(os.environ['ADVKERAS_PROFILE'], sys.executable)")
    done = run_runner(path, profile="smoke")
    assert done.returncode == 0, done.stderr
    assert "ok.ipynb:" in done.stdout and " s" in done.stdout
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata["advkeras"]
    assert meta["profile"] == "smoke"
    assert meta["seconds"] >= 0
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", meta["executed"])
    import advkeras

    assert meta["advkeras_version"] == advkeras.__version__
    text = nb.cells[1].outputs[0].text.split()
    assert text[0] == "smoke"
    assert Path(text[1]).resolve() == Path(sys.executable).resolve()  # the venv's kernel
    assert [p.name for p in tmp_path.iterdir()] == ["ok.ipynb"]  # no temp file left behind


def test_runner_records_cold_times_and_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "ok.ipynb"
    tiny_notebook(path, "print(1)")
    cache = tmp_path / "cache"
    (cache / "some-network").mkdir(parents=True)
    refused = run_runner(
        path, profile="smoke", flags=("--cold",), env={"ADVKERAS_CACHE_DIR": str(cache)}
    )
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert "advkeras" not in nbformat.read(path, as_version=4).metadata  # nothing ran
    (cache / "some-network").rmdir()
    cold = run_runner(
        path, profile="smoke", flags=("--cold",), env={"ADVKERAS_CACHE_DIR": str(cache)}
    )
    assert cold.returncode == 0, cold.stderr
    meta = nbformat.read(path, as_version=4).metadata["advkeras"]
    assert meta["cold"] == {"executed": meta["executed"], "seconds": meta["seconds"]}
    warm = run_runner(path, profile="smoke", env={"ADVKERAS_CACHE_DIR": str(cache)})
    assert warm.returncode == 0, warm.stderr
    again = nbformat.read(path, as_version=4).metadata["advkeras"]
    assert again["cold"] == meta["cold"]  # a warm run keeps the cold time
    assert again["executed"] >= meta["executed"]


def test_runner_leaves_a_failing_notebook_untouched(tmp_path: Path) -> None:
    good = tmp_path / "a_good.ipynb"
    bad = tmp_path / "b_bad.ipynb"
    tiny_notebook(good, "print(6 * 7)")
    tiny_notebook(bad, "print('before')\nraise ValueError('boom')")
    before = bad.read_bytes()
    done = run_runner(bad, good, profile="book")
    assert done.returncode != 0
    assert "boom" in done.stderr
    assert bad.read_bytes() == before
    # The failure does not stop the other notebooks.
    assert nbformat.read(good, as_version=4).cells[1].outputs[0].text == "42\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_good.ipynb", "b_bad.ipynb"]

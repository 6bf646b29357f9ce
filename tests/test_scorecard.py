"""Tests of advkeras.book.scorecard: the table of every claim, and the results files' freshness."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from advkeras.book import profiles, reporting, scorecard

ROOT = Path(__file__).resolve().parents[1]
BOOK = profiles.get_profile("book")


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "markdown", "source": "# chapter", "metadata": {}}]
    cells += [
        {"cell_type": "code", "source": s, "outputs": [], "metadata": {}, "execution_count": 1}
        for s in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    return path


def chapter(folder: Path, stem: str, claims: list[reporting.Claim], code: str = "x = 1", **kw):
    """A chapter notebook and the results file its closing cell would write."""
    notebook = write_notebook(folder / f"{stem}.ipynb", 'ADVKERAS_REV = "0"', code)
    reporting.save_results(
        stem, claims, BOOK, directory=folder / "results", notebook=notebook, **kw
    )
    return notebook


def claim(cid: str, paper: float | None = 50.0, ours: float | None = 50.0, **kw):
    if paper is None and "verdict" not in kw:
        kw = {"verdict": "reproduced", "note": "rule: any", **kw}
    return reporting.Claim(cid, "setting", "metric", paper=paper, ours=ours, **kw)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    chapter(tmp_path, "01_intro", [claim("F1", ours=None), claim("C2-err", 89.4, 95.0)])
    chapter(tmp_path, "04_fgsm", [claim("C2-err", 89.4, 90.6), claim("C2-conf", 97.6, 98.9)])
    chapter(tmp_path, "06_adv", [claim("C11a", 0.94, 1.05, tolerance=0.2), claim("H8", None)])
    return tmp_path


# --------------------------------------------------------------------------- the table


def groups(card: scorecard.Scorecard) -> list[str]:
    """The inventory ids in the order the rows give them, each run of rows once."""
    out: list[str] = []
    for row in card.rows:
        if not out or out[-1] != row.claim:
            out.append(row.claim)
    return out


def test_every_inventory_claim_appears_exactly_once_from_one_chapter(book: Path) -> None:
    card, _ = scorecard.load(book)
    ids = [c.id for c in scorecard.paper_claims()]
    assert groups(card) == ids  # each id once, its rows together, in the inventory's order
    for cid in ids:
        assert len({r.chapter for r in card.rows if r.claim == cid}) == 1, cid
    assert sorted(r.part for r in card.find("C2")) == ["C2-conf", "C2-err"]


def test_counts_add_up_and_follow_the_rows(book: Path) -> None:
    card, _ = scorecard.load(book)
    counts = card.counts()
    assert list(counts) == list(reporting.VERDICTS)
    assert sum(counts.values()) == len(card.rows)
    for word, n in counts.items():
        assert n == sum(r.verdict == word for r in card.rows), word
    text = scorecard.counts_table(card)
    assert f"| all | {len(card.rows)} |" in text
    assert f"| reproduced | {counts['reproduced']} |" in text


def test_a_claim_in_several_chapters_comes_from_its_sections_chapter(book: Path) -> None:
    card, _ = scorecard.load(book)
    (c2_err,) = [r for r in card.rows if r.part == "C2-err"]
    assert c2_err.chapter == "04_fgsm" and c2_err.ours == "90.6 %"  # not chapter 1's preview
    assert [r.chapter for r in card.find("F1")] == ["01_intro"]  # only chapter 1 has F1


def test_a_claim_in_two_chapters_neither_of_its_section_is_an_error(tmp_path: Path) -> None:
    chapter(tmp_path, "01_intro", [claim("C5")])
    chapter(tmp_path, "02_related", [claim("C5")])
    with pytest.raises(scorecard.ResultsError, match="C5.*01_intro, 02_related"):
        scorecard.load(tmp_path)


def test_claims_no_chapter_has_are_not_run_with_what_they_need(book: Path) -> None:
    card, _ = scorecard.load(book)
    by_id = {c.id: c for c in scorecard.paper_claims()}
    missing = [r for r in card.rows if r.chapter is None]
    assert missing and all(r.verdict == "not run" for r in missing)
    own = {int(stem[:2]): stem for stem in card.chapters}
    for row in missing:
        needed = by_id[row.claim]
        assert row.paper == needed.paper
        if needed.chapter in own:  # its section's chapter ran, without a row for it
            assert row.note == f"{own[needed.chapter]} has no row for it"
        else:
            assert row.note == (needed.needs or f"chapter {needed.chapter} has no results file yet")
    # C11b's chapter has results but no row for it: the note says so.
    assert [r.part for r in card.find("C11")] == ["C11a"]


def test_a_new_chapters_results_show_up_without_an_edit(book: Path) -> None:
    before, _ = scorecard.load(book)
    assert [r.verdict for r in before.find("C28a")] == ["not run"]
    chapter(book, "09_ensembles", [claim("C28a", 91.1, 90.0), claim("C28b-err", 87.9, 80.0)])
    after, _ = scorecard.load(book)
    assert [(r.chapter, r.verdict) for r in after.find("C28a")] == [("09_ensembles", "reproduced")]
    assert [r.part for r in after.find("C28b")] == ["C28b-err"]
    assert sum(after.counts().values()) == len(after.rows)


def test_a_not_run_row_says_what_it_would_take(tmp_path: Path) -> None:
    chapter(tmp_path, "06_adv", [claim("C12", 1.14, None, note="beyond two cores")])
    card, _ = scorecard.load(tmp_path)
    (row,) = card.find("C12")
    needs = next(c.needs for c in scorecard.paper_claims() if c.id == "C12")
    assert "GPU" in needs and row.verdict == "not run"
    assert "| not run | " in scorecard.to_markdown(card)
    assert f"beyond two cores; it would take {needs}" in scorecard.to_markdown(card)


def test_other_checks_are_listed_apart(book: Path) -> None:
    card, _ = scorecard.load(book)
    assert [r.part for r in card.others] == ["H8"]
    text = scorecard.to_markdown(card)
    assert "## The book's other checks" in text and "| H8 |" in text
    for cid in (c.id for c in scorecard.paper_claims()):
        assert f"| {cid}" in text, cid


def test_an_unknown_verdict_in_a_results_file_is_an_error(book: Path) -> None:
    path = book / "results" / "06_adv.json"
    record = json.loads(path.read_text())
    record["claims"]["C11a"]["verdict"] = "qualitatively fine"
    path.write_text(json.dumps(record))
    with pytest.raises(scorecard.ResultsError, match="06_adv.json.*C11a.*qualitatively fine"):
        scorecard.load(book, check=False)


def test_inventory_ids_of_chapter_claim_ids() -> None:
    ids = {c.id for c in scorecard.paper_claims()}
    assert len(ids) == len(scorecard.paper_claims())  # unique
    for cid in ids:
        assert scorecard.inventory_id(cid) == cid
        assert scorecard.inventory_id(f"{cid}-err") == cid
    assert scorecard.inventory_id("C19c") is None  # neither C19c nor C19 is an id
    assert scorecard.inventory_id("C3-conf") == "C3"


def test_public_numbers_name_a_claim_and_a_repository() -> None:
    ids = {c.id for c in scorecard.paper_claims()}
    for n in scorecard.public_numbers():
        assert scorecard.inventory_id(n["claim"]) in ids, n
        assert 0 <= float(n["value"]) <= 100, n
        assert n["url"].startswith("https://github.com/" + n["repository"].split(" ")[0]), n


def test_the_closest_public_number_is_shown_first(book: Path) -> None:
    card, _ = scorecard.load(book)
    (row,) = [r for r in card.rows if r.part == "C2-err"]
    values = [float(n["value"]) for n in row.public]
    assert values and values == sorted(values, key=lambda v: abs(v - 89.4))


def test_grade_conclusion_follows_its_rule() -> None:
    base = scorecard.Row("C1", "C1", "04", "", "", "", "", "book", "reproduced", "")
    rows = [replace(base, verdict=v) for v in reporting.VERDICTS]
    for n in range(len(rows) + 1):
        subset = rows[:n]
        run = [r for r in subset if r.verdict != "not run"]
        good = [r for r in run if r.verdict in scorecard.COUNTED]
        got = scorecard.grade_conclusion(subset)
        if not run:
            assert got == "not run"
        elif len(good) == len(run):
            assert got == "reproduced"
        elif not good and not any(r.verdict == "partly reproduced" for r in run):
            assert got == "not reproduced"
        else:
            assert got == "partly reproduced"


# --------------------------------------------------------------------------- freshness


def test_current_results_pass_the_check(book: Path) -> None:
    records = scorecard.check_results(book)
    assert sorted(records) == ["01_intro", "04_fgsm", "06_adv"]


def test_a_missing_results_file_is_an_error_naming_it(book: Path) -> None:
    (book / "results" / "04_fgsm.json").unlink()
    with pytest.raises(scorecard.ResultsError, match=r"04_fgsm\.json is missing") as err:
        scorecard.check_results(book)
    assert "01_intro" not in str(err.value) and "06_adv" not in str(err.value)


def test_a_stale_results_file_is_an_error_naming_it(book: Path) -> None:
    write_notebook(book / "06_adv.ipynb", 'ADVKERAS_REV = "0"', "x = 2")  # the code changed
    with pytest.raises(scorecard.ResultsError, match=r"06_adv\.json is stale") as err:
        scorecard.check_results(book)
    assert "04_fgsm" not in str(err.value)


def test_a_new_stamp_or_new_prose_keeps_the_results_current(book: Path) -> None:
    nb = book / "06_adv.ipynb"
    record = json.loads(nb.read_text())
    record["cells"][0]["source"] = "# chapter, rewritten"
    record["cells"][1]["source"] = 'ADVKERAS_REV = "' + "a" * 40 + '"'
    record["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    nb.write_text(json.dumps(record))
    scorecard.check_results(book)


def test_a_results_file_without_a_digest_or_a_notebook_is_an_error(book: Path) -> None:
    path = book / "results" / "04_fgsm.json"
    record = json.loads(path.read_text())
    record["code_sha256"] = None
    path.write_text(json.dumps(record))
    (book / "results" / "05_gone.json").write_text(json.dumps({**record, "chapter": "05_gone"}))
    with pytest.raises(scorecard.ResultsError) as err:
        scorecard.check_results(book)
    assert "04_fgsm.json records no code digest" in str(err.value)
    assert "05_gone.json has no notebook" in str(err.value)


def test_a_chapter_that_read_results_goes_stale_when_they_change(book: Path) -> None:
    records = scorecard.read_results(book)
    chapter(book, "10_summary", [claim("S1", None)], inputs=scorecard.input_digests(records))
    scorecard.check_results(book)
    chapter(book, "04_fgsm", [claim("C2-err", 89.4, 80.0), claim("C2-conf", 97.6, 98.9)])
    with pytest.raises(scorecard.ResultsError, match=r"10_summary\.json is stale.*04_fgsm"):
        scorecard.check_results(book)
    records = scorecard.read_results(book)
    inputs = scorecard.input_digests(records, exclude="10_summary")
    chapter(book, "10_summary", [claim("S1", None)], inputs=inputs)
    scorecard.check_results(book)
    chapter(book, "09_new", [claim("C28a", 91.1, 90.0)])  # a chapter it did not read
    with pytest.raises(scorecard.ResultsError, match=r"10_summary\.json is stale.*09_new"):
        scorecard.check_results(book)


def test_command_line_check_fails_on_a_stale_file(book: Path, capsys) -> None:
    assert scorecard.main(["check", str(book)]) == 0
    assert "3 results files current" in capsys.readouterr().out
    write_notebook(book / "01_intro.ipynb", "print('changed')")
    assert scorecard.main(["check", str(book)]) == 1
    assert "01_intro.json is stale" in capsys.readouterr().err


def test_the_books_own_results_build_a_scorecard() -> None:
    """The committed results files (whatever chapters exist) give one row group per claim."""
    card, records = scorecard.load(ROOT / "chapters", check=False)
    assert groups(card) == [c.id for c in scorecard.paper_claims()]
    assert set(card.chapters) == set(records)
    assert sum(card.counts().values()) == len(card.rows)


def test_every_conclusions_evidence_is_a_claim_of_the_inventory_or_of_a_chapter() -> None:
    """A typo in the evidence of a §10 bullet would read as "not yet run" for ever."""
    card, _ = scorecard.load(ROOT / "chapters", check=False)
    others = {r.part for r in card.others}
    ids = [c.id for c in scorecard.paper_conclusions()]
    assert ids == [f"§10-{i}" for i in range(1, len(ids) + 1)]
    for conclusion in scorecard.paper_conclusions():
        for cid in conclusion.evidence:
            assert scorecard.inventory_id(cid) is not None or cid in others, (conclusion.id, cid)
        claim = scorecard.conclusion_claim(card, conclusion)
        assert claim.verdict in reporting.VERDICTS and "rule:" in claim.note
        rows = [r for found in scorecard.evidence_rows(card, conclusion).values() for r in found]
        assert claim.verdict == scorecard.grade_conclusion(rows)


def test_the_books_results_files_are_current() -> None:
    """What ``make book`` checks first: every chapter's results file, written by its code now."""
    records = scorecard.check_results(ROOT / "chapters")
    assert set(records) == {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")}


def test_the_chapter_list_is_the_chapters_folder():
    """``CHAPTERS`` (what Colab fetches) names every notebook of chapters/, in order."""
    chapters = ROOT / "chapters"
    assert list(scorecard.CHAPTERS) == sorted(p.stem for p in chapters.glob("[0-9][0-9]_*.ipynb"))


def test_fetch_results_reads_what_read_results_reads_and_skips_missing_files(tmp_path):
    chapters = ROOT / "chapters"
    committed = scorecard.read_results(chapters)
    fetched = scorecard.fetch_results((chapters / "results").as_uri())
    assert fetched == committed
    some = tmp_path / "results"
    some.mkdir()
    (some / "03_linear_explanation.json").write_text(
        json.dumps(committed["03_linear_explanation"]), encoding="utf-8"
    )
    assert list(scorecard.fetch_results(some.as_uri())) == ["03_linear_explanation"]
    (some / "04_linear_perturbation.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(scorecard.ResultsError, match="04_linear_perturbation"):
        scorecard.fetch_results(some.as_uri())
    with pytest.raises(ValueError, match="argument `url`.*Received: 'results'"):
        scorecard.fetch_results("results")

"""Tests of the verdict vocabulary of advkeras.book.reporting (the words given by hand)."""

from __future__ import annotations

import json

import pytest

from advkeras.book import profiles, reporting


@pytest.mark.parametrize("word", ["identity", "shown", "partly reproduced"])
def test_hand_given_verdicts_are_kept_and_shown_in_the_table(word):
    claim = reporting.Claim("§3-b", "s", "m", paper=1.0, ours=1.0, unit="", verdict=word)
    assert claim.verdict == word  # not regraded to "reproduced" from the numbers
    table = reporting.claims_table([claim], profiles.get_profile("smoke"))
    assert f"| {word} |" in table


def test_computed_verdicts_never_use_the_hand_given_words():
    """Only a person decides that a check is an identity, a fact or a partial reproduction."""
    computed = {
        reporting.verdict(paper, ours, 2.0)
        for paper in (0.0, 50.0, 99.9)
        for ours in (None, 0.0, 1.0, 3.0, 5.0, 49.0, 99.0)
    }
    assert computed <= {"reproduced", "close", "not reproduced", "not run"}
    assert {"identity", "shown", "partly reproduced"} <= set(reporting.VERDICTS)


def test_unknown_verdict_names_the_argument_and_the_allowed_words():
    with pytest.raises(ValueError, match="`verdict`.*identity.*shown"):
        reporting.Claim("C8", "s", "m", 5.0, 88.6, verdict="partly")


def test_results_files_are_strict_json(tmp_path):
    """A NaN or infinite value is written as null, so strict JSON parsers read the file."""
    path = reporting.save_results(
        "ch",
        [],
        extra={"precision": float("nan"), "curve": [1.0, float("inf")]},
        directory=tmp_path,
    )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["extra"] == {"precision": None, "curve": [1.0, None]}


# --------------------------------------------------------------------------- the one rule


@pytest.mark.parametrize("word", ["reproduced", "not reproduced", "partly reproduced"])
def test_a_claim_without_a_number_is_graded_only_by_a_stated_rule(word):
    """paper=None: the verdict is given by hand, and the note states the rule that gave it."""
    with pytest.raises(ValueError, match="`paper`"):
        reporting.Claim("C18", "s", "m", paper=None, ours=64.0)  # not graded by itself
    with pytest.raises(ValueError, match="`note` of claim C18.*rule:"):
        reporting.Claim("C18", "s", "m", paper=None, ours=64.0, verdict=word, note="smaller")
    claim = reporting.Claim(
        "C18", "s", "m", paper=None, ours=64.0, verdict=word, note="rule: below 120"
    )
    assert claim.verdict == word


@pytest.mark.parametrize("word", ["identity", "shown", "qualitative", "not run"])
def test_words_that_are_not_a_grade_need_no_rule(word):
    claim = reporting.Claim("EQ5", "s", "m", paper=None, ours=0.0, verdict=word)
    assert claim.verdict == word
    assert reporting.Claim("C13", "s", "m", paper=None, ours=None).verdict == "not run"


# --------------------------------------------------------------------------- code digests


def _notebook(path, *sources, markdown="# title"):
    cells = [{"cell_type": "markdown", "source": markdown, "metadata": {}}]
    cells += [
        {"cell_type": "code", "source": s, "outputs": [], "metadata": {}, "execution_count": i}
        for i, s in enumerate(sources)
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    return path


def test_code_digest_sees_code_and_nothing_else(tmp_path):
    setup = 'import os\nADVKERAS_REV = "%s"\nprint(1)'
    base = reporting.code_digest(_notebook(tmp_path / "a.ipynb", setup % ("0" * 40), "x = 1"))
    same = [
        _notebook(tmp_path / "b.ipynb", setup % ("f" * 40), "x = 1"),  # another stamp
        _notebook(tmp_path / "c.ipynb", setup % ("0" * 40), "x = 1", markdown="# new prose"),
        _notebook(tmp_path / "d.ipynb", setup % ("0" * 40), "\nx = 1\n", ""),  # blank space
    ]
    for path in same:
        assert reporting.code_digest(path) == base, path.name
    changed = [
        _notebook(tmp_path / "e.ipynb", setup % ("0" * 40), "x = 2"),
        _notebook(tmp_path / "f.ipynb", setup % ("0" * 40), "x = 1", "y = 1"),
        _notebook(tmp_path / "g.ipynb", "x = 1", setup % ("0" * 40)),  # order matters
        _notebook(tmp_path / "h.ipynb", setup.replace("1)", "2)") % ("0" * 40), "x = 1"),
    ]
    digests = {reporting.code_digest(p) for p in changed}
    assert base not in digests and len(digests) == len(changed)


def test_code_digest_names_a_file_it_cannot_read(tmp_path):
    with pytest.raises(ValueError, match="`notebook`.*missing.ipynb"):
        reporting.code_digest(tmp_path / "missing.ipynb")


def test_save_results_records_the_digest_of_the_notebook_and_the_inputs(tmp_path):
    nb = _notebook(tmp_path / "ch.ipynb", "x = 1")
    claim = reporting.Claim("C5", "s", "m", paper=1.6, ours=1.62, tolerance=0.5)
    path = reporting.save_results(
        "ch", [claim], directory=tmp_path / "out", notebook=nb, inputs={"b": "2", "a": "1"}
    )
    record = json.loads(path.read_text())
    assert record["code_sha256"] == reporting.code_digest(nb)
    assert list(record["inputs"]) == ["a", "b"]
    with pytest.raises(ValueError, match="`notebook`"):
        reporting.save_results("ch", [claim], directory=tmp_path, notebook=tmp_path / "no.ipynb")


def test_listed_joins_items_as_prose_and_rejects_none() -> None:
    assert reporting.listed(["a"]) == "a"
    assert reporting.listed(iter(["a", "b"])) == "a and b"
    assert reporting.listed(["a", "b", "c"]) == "a, b and c"
    with pytest.raises(ValueError, match="items"):
        reporting.listed([])

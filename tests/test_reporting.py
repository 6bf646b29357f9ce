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
        for paper in (None, 0.0, 50.0, 99.9)
        for ours in (None, 0.0, 1.0, 3.0, 5.0, 49.0, 99.0)
    }
    assert computed <= {"reproduced", "close", "not reproduced", "not run", "qualitative"}
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

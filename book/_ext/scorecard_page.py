"""Sphinx extension: the ``scorecard`` directive, the book's reproduction scorecard.

``book/scorecard.md`` holds four of them, each with one argument::

    ```{scorecard} counts
    ```

``counts`` (how many claims have each verdict), ``claims`` (every claim of the paper,
with the chapter that measures it, a link), ``others`` (the book's other checks) and
``rule`` (the one verdict rule, printed from the docstring of ``reporting.VERDICTS``).
Each is made, at every build, by :mod:`advkeras.book.scorecard` from the results files
in ``chapters/results``. A results file that is missing, or stale (its notebook's code
changed since it was written), is an error of the build, naming the file. Nothing on
the page is typed, so a new chapter's results appear with no edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

PARTS = ("counts", "claims", "others", "rule")


def _link(stem: str | None) -> str:
    """A chapter as a ``{doc}`` link: its number, to its page."""
    from advkeras.book import scorecard

    return scorecard.doc_link(stem, "/chapters/")


class ScorecardDirective(SphinxDirective):
    """``{scorecard} PART``: one part of the scorecard, from the results files."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        from advkeras.book import scorecard

        part = self.arguments[0]
        if part not in PARTS:
            raise self.error(f"scorecard: unknown part {part!r}; expected one of {PARTS}")
        package = Path(scorecard.__file__).parent  # the page changes with the code and data
        for name in (
            "scorecard.py",
            "reporting.py",
            "paper_claims.json",
            "public_reproductions.json",
        ):
            self.env.note_dependency(str(package / name))
        if part == "rule":
            text = scorecard.verdict_rule()
        else:
            chapters = Path(self.env.srcdir) / "chapters"
            for path in sorted(chapters.glob("*.ipynb")) + sorted(chapters.glob("results/*.json")):
                self.env.note_dependency(str(path))
            try:
                card, _ = scorecard.load(chapters)
            except scorecard.ResultsError as err:
                raise self.error(f"the chapters' results files are not current:\n{err}") from None
            if part == "counts":
                text = scorecard.summary_markdown(card, link=_link)
            elif part == "claims":
                text = scorecard.claims_markdown(card.rows, link=_link)
            else:
                text = scorecard.claims_markdown(card.others, link=_link)
        container = nodes.container(classes=["scorecard", f"scorecard-{part}"])
        self.state.nested_parse(StringList(text.splitlines(), source="scorecard"), 0, container)
        return [container]


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("scorecard", ScorecardDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: a "Run this chapter" box at the top of every chapter page.

It reads what ``scripts/execute_chapters.py`` recorded in the notebook's metadata
(``metadata.advkeras``: the profile, the run time, the advkeras version and the date of
the execution whose outputs the page shows) and says how to run the chapter: the
Colab launch button, ``make reproduce`` locally, and what the ``smoke`` profile changes.
Pages that are not chapter notebooks, or that carry no such metadata, are left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes


def _duration(seconds: float) -> str:
    """``75.1`` → ``'1 min 15 s'``; ``11.6`` → ``'12 s'``."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _text(record: dict[str, Any]) -> str:
    from advkeras.book.profiles import get_profile

    when = str(record.get("executed", ""))[:10]
    smoke = get_profile("smoke").describe().split(": ", 1)[-1]
    return (
        f"The outputs below come from the `{record['profile']}` profile: this notebook ran in "
        f"{_duration(float(record['seconds']))} (advkeras {record.get('advkeras_version', '?')}"
        + (f", {when}" if when else "")
        + "). To run it yourself, open it in Colab with the launch button (the rocket) at the "
        "top of the page, or run `make reproduce` in a clone. With `ADVKERAS_PROFILE=smoke` "
        f"(the CI profile, under 90 s a chapter) it runs on {smoke}; its numbers then "
        "differ from the ones shown here."
    )


def add_run_box(app: Any, doctree: nodes.document) -> None:
    """``doctree-read`` handler: put the box after the chapter's title."""
    docname = app.env.docname
    source = Path(app.env.doc2path(docname))
    if not docname.startswith("chapters/") or source.suffix != ".ipynb":
        return
    record = json.loads(source.read_text()).get("metadata", {}).get("advkeras")
    if not record or "profile" not in record or "seconds" not in record:
        return
    box = nodes.admonition(classes=["tip", "run-this-chapter"])
    box += nodes.title(text="Run this chapter")
    paragraph = nodes.paragraph()
    for i, piece in enumerate(_text(record).split("`")):
        paragraph += nodes.literal(text=piece) if i % 2 else nodes.Text(piece)
    box += paragraph
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, box)


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", add_run_box)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

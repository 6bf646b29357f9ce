"""Every figure of the book has a caption and alt text (issue 15).

A chapter's figure is the image output of a code cell. myst-nb turns it into a numbered figure
when the cell's metadata holds ``mystnb.figure`` (``caption``, parsed as MyST, so glue roles and
math work in it, and ``name``, the figure's anchor) and gives the image its alt text from
``mystnb.image.alt``; in the jupytext ``.py`` both sit in the cell header::

    # %% mystnb={"figure": {"caption": "...", "name": "fig-ch04-sweep"}, "image": {"alt": "..."}}

Without them the image has no caption and Sphinx writes its file name as the alt text. myst-nb
wraps *every* display output of such a cell in the figure (glue outputs excepted), so a table
shown by the same cell would get the caption too: a figure cell shows one image and nothing
else. Numbers in a caption come through glue, like those of the prose; a percentage typed by
hand is an error.

A figure glued from a code cell (``glue(name, fig, display=False)``) is shown by the
``{glue:figure}`` directive of a markdown cell, which needs the caption as its content and the
``:alt:`` and ``:name:`` options; a glued image shown any other way has no caption. The browser
test (``tests/browser/test_pages.py``) checks the built pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`")
MATH = re.compile(r"\$[^$]*\$")
TYPED_PERCENT = re.compile(r"\d\s*%")
GLUE_PREFIX = "application/papermill.record/"
GLUE_FIGURE = re.compile(r"^```\{glue:figure\}[ \t]+(\S+)[ \t]*\n(.*?)^```", re.M | re.S)


def toc_chapters() -> list[str]:
    """The chapters named in ``_toc.yml`` (without suffix), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files: list[str] = []

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [f for f in files if f.startswith("chapters/")]


CHAPTERS = toc_chapters()


def _is_glue(output: Any) -> bool:
    return "scrapbook" in output.get("metadata", {})


def _is_hidden_glue(output: Any) -> bool:
    """A ``glue(..., display=False)`` output: myst-nb keeps it for glue roles and shows nothing."""
    data = output.get("data", {})
    return _is_glue(output) and bool(data) and all(k.startswith(GLUE_PREFIX) for k in data)


def _is_image(output: Any) -> bool:
    return any(mime in output.get("data", {}) for mime in IMAGE_MIMES)


def _glue_outputs(nb: nbformat.NotebookNode) -> Iterator[Any]:
    """Every output of a code cell that ``myst_nb.glue`` wrote."""
    for c in nb.cells:
        if c.cell_type == "code":
            yield from (o for o in c.get("outputs", []) if _is_glue(o))


def glued_names(nb: nbformat.NotebookNode) -> set[str]:
    return {o.metadata["scrapbook"]["name"] for o in _glue_outputs(nb)}


def glued_images(nb: nbformat.NotebookNode) -> set[str]:
    """The glued names whose value is an image (a figure glued for ``{glue:figure}``)."""
    return {
        o.metadata["scrapbook"]["name"]
        for o in _glue_outputs(nb)
        if any(k.removeprefix(GLUE_PREFIX) in IMAGE_MIMES for k in o.get("data", {}))
    }


def _caption_problems(where: str, caption: str, glued: set[str]) -> list[str]:
    problems = []
    unknown = sorted(set(GLUE_ROLE.findall(caption)) - glued)
    if unknown:
        problems.append(f"{where}: the caption uses names never glued: {unknown}")
    typed = TYPED_PERCENT.findall(MATH.sub("", GLUE_ROLE.sub("", caption)))
    if typed:
        problems.append(f"{where}: a percentage typed by hand in the caption: {typed}")
    return problems


def glue_figure_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with the glued figures of a notebook's markdown; empty when nothing is."""
    problems = []
    glued, images = glued_names(nb), glued_images(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for name, body in GLUE_FIGURE.findall(text):
            where = f"cell {i}, {{glue:figure}} {name}"
            lines = body.strip().splitlines()
            options = dict(
                (line.split(":", 2)[1].strip(), line.split(":", 2)[2].strip())
                for line in lines
                if line.startswith(":") and line.count(":") >= 2
            )
            caption = " ".join(line for line in lines if not line.startswith(":")).strip()
            if not caption:
                problems.append(f"{where}: no caption (the directive's content)")
            if not options.get("alt"):
                problems.append(f"{where}: no :alt: text")
            if not options.get("name"):
                problems.append(f"{where}: no :name:")
            problems += _caption_problems(where, caption, glued)
        rest = GLUE_FIGURE.sub("", text)
        for name in sorted(images):
            if re.search(r"\{glue(?::\w+)?\}`?\s*" + re.escape(name) + r"\b", rest):
                problems.append(
                    f"cell {i}: the glued image {name} is shown without {{glue:figure}}"
                )
    return problems


def figures(nb: nbformat.NotebookNode) -> list[tuple[int, dict]]:
    """(cell index, ``mystnb`` metadata) of every code cell with an image output."""
    return [
        (i, dict(cell.metadata.get("mystnb", {})))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any(_is_image(o) for o in cell.get("outputs", []))
    ]


def figure_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with the figures of a notebook; empty when nothing is.

    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output(
    ...     "display_data", data={"image/png": "iVBORw0KGgo="})])]
    >>> figure_problems(nb)  # doctest: +NORMALIZE_WHITESPACE
    ['cell 0: an image without a caption (mystnb.figure.caption)',
     'cell 0: an image without alt text (mystnb.image.alt)',
     'cell 0: a figure without a name (mystnb.figure.name)']
    """
    problems = []
    glued = glued_names(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("mystnb", {})
        figure, image = meta.get("figure") or {}, meta.get("image") or {}
        shown = [
            o
            for o in cell.get("outputs", [])
            if o.get("output_type") in ("display_data", "execute_result") and not _is_hidden_glue(o)
        ]
        images = [o for o in shown if _is_image(o)]
        if not images:
            if figure:
                problems.append(f"cell {i}: mystnb.figure on a cell without an image output")
            continue
        caption = str(figure.get("caption", "")).strip()
        if not caption:
            problems.append(f"cell {i}: an image without a caption (mystnb.figure.caption)")
        if not str(image.get("alt", "")).strip():
            problems.append(f"cell {i}: an image without alt text (mystnb.image.alt)")
        if not str(figure.get("name", "")).strip():
            problems.append(f"cell {i}: a figure without a name (mystnb.figure.name)")
        if len(images) > 1:
            problems.append(f"cell {i}: {len(images)} images in one cell (one figure per cell)")
        if len(shown) > len(images):
            problems.append(
                f"cell {i}: {len(shown) - len(images)} other display output(s) beside the image; "
                "myst-nb would put them in the figure too (move them to a cell of their own)"
            )
        problems += _caption_problems(f"cell {i}", caption, glued)
    return problems + glue_figure_problems(nb)


def read(chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_has_a_caption_and_alt_text(chapter: str) -> None:
    problems = figure_problems(read(chapter))
    assert not problems, f"{chapter}: " + "; ".join(problems)


def test_figure_names_are_unique_across_the_book() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for chapter in CHAPTERS:
        for i, meta in figures(read(chapter)):
            name = str((meta.get("figure") or {}).get("name", "")).strip()
            if name and name in seen:
                clashes.append(f"{name}: {seen[name]} and {chapter} cell {i}")
            seen.setdefault(name, f"{chapter} cell {i}")
    assert not clashes, clashes


# --------------------------------------------------------------------------- the checker


def _figure_cell(metadata: dict | None = None, *extra: Any) -> nbformat.NotebookNode:
    image = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})
    cell = nbformat.v4.new_code_cell("plot()", outputs=[*extra, image])
    if metadata is not None:
        cell.metadata["mystnb"] = metadata
    return cell


def _glue_output(name: str) -> Any:
    return nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/plain": "1.0"},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}},
    )


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), *cells]
    return nb


GOOD = {
    "figure": {"caption": "Error against eps: {glue:text}`err:.1f` %.", "name": "fig-t"},
    "image": {"alt": "A rising line."},
}


def test_checker_passes_a_captioned_figure_and_a_cell_without_image() -> None:
    nb = _notebook(
        nbformat.v4.new_code_cell("x = 1", outputs=[_glue_output("err")]),
        _figure_cell(GOOD),
        nbformat.v4.new_code_cell(
            "print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        ),
    )
    assert figure_problems(nb) == []
    assert [i for i, _ in figures(nb)] == [2]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, ["without a caption", "without alt text", "without a name"]),
        ({"figure": {"caption": "  ", "name": "f"}, "image": {"alt": "a"}}, ["without a caption"]),
        ({"figure": {"caption": "c", "name": "f"}, "image": {"alt": ""}}, ["without alt text"]),
        ({"figure": {"caption": "c", "name": "f"}}, ["without alt text"]),
        ({"figure": {"caption": "c"}, "image": {"alt": "a"}}, ["without a name"]),
        (
            {"figure": {"caption": "{glue:text}`nope` rises", "name": "f"}, "image": {"alt": "a"}},
            ["never glued: ['nope']"],
        ),
        (
            {
                "figure": {"caption": "error of 89.4 % at $10 \\%$", "name": "f"},
                "image": {"alt": "a"},
            },
            ["typed by hand"],
        ),
    ],
)
def test_checker_flags_a_figure_cell_without_what_it_needs(
    metadata: dict | None, expected: list[str]
) -> None:
    problems = figure_problems(_notebook(_figure_cell(metadata)))
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected, strict=True):
        assert problem.startswith("cell 1: ") and words in problem, (problem, words)


def test_checker_flags_a_table_or_a_second_image_in_a_figure_cell() -> None:
    table = nbformat.v4.new_output("display_data", data={"text/markdown": "| a |\n|---|"})
    image = nbformat.v4.new_output("execute_result", data={"image/png": "iVBORw0KGgo="})
    problems = figure_problems(_notebook(_figure_cell(GOOD, _glue_output("err"), table)))
    assert len(problems) == 1 and "1 other display output" in problems[0], problems
    problems = figure_problems(_notebook(_figure_cell(GOOD, _glue_output("err"), image)))
    assert len(problems) == 1 and "2 images in one cell" in problems[0], problems


def test_checker_flags_a_caption_on_a_cell_without_image() -> None:
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["mystnb"] = GOOD
    assert figure_problems(_notebook(cell)) == [
        "cell 1: mystnb.figure on a cell without an image output"
    ]


def _glued_figure(name: str, display: bool = False) -> nbformat.NotebookNode:
    prefix = "" if display else "application/papermill.record/"
    output = nbformat.v4.new_output(
        "display_data",
        data={f"{prefix}image/png": "iVBORw0KGgo=", f"{prefix}text/plain": "<Figure>"},
        metadata={"scrapbook": {"name": name, "mime_prefix": prefix}},
    )
    return nbformat.v4.new_code_cell("glue(...)", outputs=[output, _glue_output("err")])


def test_checker_passes_a_glued_figure_with_caption_alt_and_name() -> None:
    text = (
        "Above.\n\n```{glue:figure} fig_err\n:alt: A rising line.\n:name: fig-t-err\n\n"
        "Error against eps: {glue:text}`err:.1f` %.\n```\n\nBelow."
    )
    nb = _notebook(_glued_figure("fig_err"), nbformat.v4.new_markdown_cell(text))
    assert figure_problems(nb) == []
    assert glued_images(nb) == {"fig_err"}


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("```{glue:figure} fig_err\n:name: f\n\nA caption.\n```", ["no :alt: text"]),
        ("```{glue:figure} fig_err\n:alt: a\n:name: f\n```", ["no caption"]),
        ("```{glue:figure} fig_err\n:alt: a\n\nA caption, 12 %.\n```", ["no :name:", "typed"]),
        ("See {glue}`fig_err`.", ["shown without {glue:figure}"]),
        ("```{glue} fig_err\n```", ["shown without {glue:figure}"]),
    ],
)
def test_checker_flags_a_glued_figure_without_what_it_needs(
    markdown: str, expected: list[str]
) -> None:
    nb = _notebook(_glued_figure("fig_err"), nbformat.v4.new_markdown_cell(markdown))
    problems = figure_problems(nb)
    assert len(problems) == len(expected), problems
    for problem, words in zip(problems, expected, strict=True):
        assert problem.startswith("cell 2") and words in problem, (problem, words)


def test_checker_counts_a_glued_figure_shown_in_its_cell_as_a_figure() -> None:
    """``glue(name, fig)`` with the default ``display=True`` also shows the image in the cell."""
    problems = figure_problems(_notebook(_glued_figure("fig_err", display=True)))
    assert [p.split(": ", 1)[1] for p in problems] == [
        "an image without a caption (mystnb.figure.caption)",
        "an image without alt text (mystnb.image.alt)",
        "a figure without a name (mystnb.figure.name)",
    ]

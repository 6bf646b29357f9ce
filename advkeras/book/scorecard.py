"""The reproduction scorecard: every claim of the paper, from the chapters' results files.

Each chapter's closing cell writes ``chapters/results/<chapter>.json``
(:func:`advkeras.book.reporting.save_results`). This module reads every such file
present, checks that each is current, and gathers the paper's claims C1…C36 and F1
(``paper_claims.json``, the claim inventory) into one table: the paper's number,
ours, the profile, the verdict and the chapter. A claim no chapter has measured yet
is ``not run``, with what running it would take. Beside our number it puts the
closest number of the public reproductions of the paper (``public_reproductions.json``,
each with its repository). Nothing in the table is typed: a new chapter's results
file shows up in it as soon as it is there.

A results file is **current** when the ``code_sha256`` it records equals the
:func:`~advkeras.book.reporting.code_digest` of its notebook now, and when the results
it says it read (``inputs``, chapter 10) are still the ones present. File dates play
no part: a git checkout resets them. ``make book`` runs ``python -m
advkeras.book.scorecard check chapters`` and stops on a missing or stale file; the
book's scorecard page (``book/_ext/scorecard_page.py``) does the same check.

Example:

>>> card = build({})  # no results at all: every claim of the paper is "not run"
>>> len(card.rows) == len(paper_claims()), card.counts()["not run"] == len(card.rows)
(True, True)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from advkeras.book.reporting import VERDICTS, _fmt, code_digest, results_digest

_HERE = Path(__file__).resolve().parent
CHAPTER_FILE = re.compile(r"^(\d\d)_\w+$")
_CLAIM_ID = re.compile(r"^([CF]\d+)([a-z])?(?:-.*)?$")
COUNTED = ("reproduced", "identity", "shown")
"""Verdicts of a piece of evidence that support a conclusion (:func:`grade_conclusion`)."""


class ResultsError(ValueError):
    """A chapter's results file is missing, stale or unreadable; the message names it."""


@dataclass(frozen=True)
class PaperClaim:
    """One claim of the inventory: its id, the paper's section and number, what it needs."""

    id: str
    section: str
    chapter: int
    setting: str
    paper: str
    needs: str


@dataclass(frozen=True)
class Row:
    """One row of the scorecard: a claim (or one number of it) and what the book has for it.

    ``claim`` is the inventory id (``"C1"``); ``part`` the chapter's claim id
    (``"C1-err"``), the same as ``claim`` for a claim no chapter has. ``needs`` is what
    running a claim of the inventory takes (CIFAR-10, ImageNet weights, the MP-DBM, a
    GPU for the ``paper`` profile), shown beside a ``not run`` verdict.
    """

    claim: str
    part: str
    chapter: str | None
    setting: str
    metric: str
    paper: str
    ours: str
    profile: str | None
    verdict: str
    note: str
    public: tuple[dict[str, Any], ...] = ()
    needs: str = ""


@dataclass
class Scorecard:
    """Every claim of the inventory (``rows``) and the chapters' other checks (``others``)."""

    rows: list[Row]
    others: list[Row]
    chapters: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many rows have each verdict, every word of ``VERDICTS`` in its order."""
        return {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}

    def find(self, claim_id: str) -> list[Row]:
        """The rows of an inventory id (``"C11"``) or of a chapter's claim id (``"H8"``)."""
        return [r for r in self.rows + self.others if claim_id in (r.claim, r.part)]


@cache
def paper_claims() -> tuple[PaperClaim, ...]:
    """The inventory's claims C1…C36 and F1, in its order (``paper_claims.json``).

    >>> [c.id for c in paper_claims()][:3], paper_claims()[-1].id
    (['C1', 'C2', 'C3'], 'C36')
    """
    record = json.loads((_HERE / "paper_claims.json").read_text(encoding="utf-8"))
    return tuple(PaperClaim(**c) for c in record["claims"])


@dataclass(frozen=True)
class Conclusion:
    """A bullet of the paper's §10, paraphrased, and the claims that bear on it."""

    id: str
    text: str
    evidence: tuple[str, ...]


@cache
def paper_conclusions() -> tuple[Conclusion, ...]:
    """The bullets of §10 with their evidence (``paper_claims.json``).

    >>> [c.id for c in paper_conclusions()][:2], paper_conclusions()[0].evidence[0]
    (['§10-1', '§10-2'], '§3-c')
    """
    record = json.loads((_HERE / "paper_claims.json").read_text(encoding="utf-8"))
    return tuple(
        Conclusion(c["id"], c["text"], tuple(c["evidence"])) for c in record["conclusions"]
    )


@cache
def public_numbers() -> tuple[dict[str, Any], ...]:
    """The public reproductions' numbers, each with its repository (``public_reproductions.json``)."""
    record = json.loads((_HERE / "public_reproductions.json").read_text(encoding="utf-8"))
    return tuple(record["numbers"])


def verdict_rule() -> str:
    """The one verdict rule: the docstring of ``reporting.VERDICTS``, read from its source.

    The rule is written once, there; the book's scorecard page prints it from here.

    >>> text = verdict_rule()
    >>> text.startswith("The verdicts a claim can get") and "rule: ..." in text
    True
    """
    source = (_HERE / "reporting.py").read_text(encoding="utf-8")
    body = ast.parse(source).body
    for node, after in zip(body, body[1:], strict=False):
        names = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
        if names == ["VERDICTS"] and isinstance(after, ast.Expr):
            return str(ast.literal_eval(after.value))
    raise RuntimeError("reporting.py has no docstring under VERDICTS")  # pragma: no cover


def inventory_id(claim_id: str, ids: Iterable[str] | None = None) -> str | None:
    """The inventory claim a chapter's claim id belongs to, or ``None`` for the book's own checks.

    ``"C1-err"`` and ``"C11a"`` belong to ``C1`` and ``C11`` (C11 has no parts in the
    inventory); ``"C16a"`` is an inventory id itself; ``"H8"`` and ``"§3-a"`` are none.

    >>> [inventory_id(c) for c in ("C1-err", "C11a", "C16a", "C22-conf-clean", "H8", "F4")]
    ['C1', 'C11', 'C16a', 'C22', None, None]
    """
    known = set(ids) if ids is not None else {c.id for c in paper_claims()}
    match = _CLAIM_ID.match(claim_id)
    if match is None:
        return None
    base, letter = match.groups()
    if letter and base + letter in known:
        return base + letter
    return base if base in known else None


def _notebooks(chapters_dir: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(chapters_dir.glob("*.ipynb")) if CHAPTER_FILE.match(p.stem)}


def _results_dir(chapters_dir: Path, results_dir: str | os.PathLike[str] | None) -> Path:
    return Path(results_dir) if results_dir is not None else chapters_dir / "results"


#: The book's chapters, the notebooks' stems in order, which :func:`fetch_results` asks for.
CHAPTERS = (
    "01_introduction",
    "02_related_work",
    "03_linear_explanation",
    "04_linear_perturbation",
    "05_linear_models_vs_weight_decay",
    "06_adversarial_training",
    "07_model_capacity",
    "08_generalization",
    "09_alternative_hypotheses",
    "10_summary",
    "11_rubbish_examples",
    "12_after_the_paper",
)


def _record(text: str, stem: str, where: str) -> dict[str, Any]:
    """The results record of chapter ``stem`` read from ``text``; ``where`` names it in errors."""
    try:
        record = json.loads(text)
        claims = record["claims"]
        if not isinstance(claims, dict) or record["chapter"] != stem:
            raise KeyError("chapter")
    except (ValueError, KeyError, TypeError) as err:
        raise ResultsError(f"{where}: not a chapter's results file ({err!r})") from None
    return record


def read_results(
    chapters_dir: str | os.PathLike[str], results_dir: str | os.PathLike[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Every results file of ``results_dir`` (default ``<chapters_dir>/results``), by chapter.

    Raises:
        ResultsError: a file is not valid JSON or not a results record; the message names it.
    """
    folder = _results_dir(Path(chapters_dir), results_dir)
    return {
        path.stem: _record(path.read_text(encoding="utf-8"), path.stem, str(path))
        for path in sorted(folder.glob("*.json"))
    }


def fetch_results(
    url: str, chapters: Iterable[str] = CHAPTERS, *, timeout: float = 30.0
) -> dict[str, dict[str, Any]]:
    """The results files of ``chapters`` under ``url``: where no checkout is (Colab).

    ``url`` is a folder's address (``https://``, ``file://``), e.g. the
    repository's ``chapters/results`` at the commit a chapter was executed
    with. A chapter without a file there (HTTP 404, no such file) is left out,
    as :func:`read_results` leaves out a file that is not in the folder.

    Raises:
        ValueError: ``url`` is not an ``http(s)://`` or ``file://`` address.
        ResultsError: a file is there but is not a results record.
        OSError: the address cannot be reached.

    Example:

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "02_related_work.json").write_text(
    ...     json.dumps({"chapter": "02_related_work", "claims": {}}))
    >>> sorted(fetch_results(folder.as_uri()))
    ['02_related_work']
    """
    import urllib.error

    from advkeras.book.networks import is_url, open_file

    if not is_url(url):
        raise ValueError(
            "argument `url`: Expected an http(s):// or file:// address of a results folder. "
            f"Received: {url!r}"
        )
    records: dict[str, dict[str, Any]] = {}
    for stem in chapters:
        try:
            with open_file(url, f"{stem}.json", timeout=timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                continue
            raise
        except urllib.error.URLError as err:
            if isinstance(err.reason, FileNotFoundError):
                continue
            raise
        records[stem] = _record(text, stem, f"{str(url).rstrip('/')}/{stem}.json")
    return records


def check_results(
    chapters_dir: str | os.PathLike[str], results_dir: str | os.PathLike[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Read the results files and check every chapter's is there and current.

    Every chapter notebook ``NN_name.ipynb`` of ``chapters_dir`` needs
    ``results/NN_name.json`` whose ``code_sha256`` is the notebook's
    :func:`~advkeras.book.reporting.code_digest`; a file that records ``inputs`` (the
    other chapters' results it read) must have read every other results file present,
    as it is now. A results file without a notebook is an error too.

    Returns:
        The records, by chapter.

    Raises:
        ResultsError: every problem found, one line each, naming the file and what to run.
    """
    chapters_dir = Path(chapters_dir)
    folder = _results_dir(chapters_dir, results_dir)
    notebooks = _notebooks(chapters_dir)
    records = read_results(chapters_dir, results_dir)
    problems = []
    for stem, notebook in notebooks.items():
        path = folder / f"{stem}.json"
        rerun = f"re-execute it: make reproduce CHAPTERS={notebook}"
        record = records.get(stem)
        if record is None:
            problems.append(f"{path} is missing; {rerun}")
            continue
        recorded = record.get("code_sha256")
        if recorded is None:
            problems.append(f"{path} records no code digest (written before it was kept); {rerun}")
        elif recorded != code_digest(notebook):
            problems.append(f"{path} is stale: the code of {notebook} changed since; {rerun}")
        inputs = record.get("inputs") or {}
        if inputs:
            now = {k: results_digest(r) for k, r in records.items() if k != stem}
            changed = sorted(k for k in set(now) | set(inputs) if now.get(k) != inputs.get(k))
            if changed:
                problems.append(
                    f"{path} is stale: the results it read changed since ({', '.join(changed)}); "
                    + rerun
                )
    for stem in sorted(set(records) - set(notebooks)):
        problems.append(f"{folder / stem}.json has no notebook {chapters_dir / stem}.ipynb")
    if problems:
        raise ResultsError("\n".join(problems))
    return records


def input_digests(
    records: Mapping[str, Mapping[str, Any]], exclude: str | None = None
) -> dict[str, str]:
    """What a chapter that reads ``records`` passes to ``save_results(inputs=...)``.

    >>> input_digests({"a": {"claims": {}}, "b": {"claims": {}}}, exclude="b").keys()
    dict_keys(['a'])
    """
    return {k: results_digest(dict(r)) for k, r in sorted(records.items()) if k != exclude}


def _public(part: str, claim: str, paper: float | None, first: bool) -> tuple[dict, ...]:
    """The public numbers for a row, closest to the paper's number first."""
    found = [n for n in public_numbers() if n["claim"] == part]
    if not found and first:
        parts_named = {n["claim"] for n in public_numbers()}
        if claim in parts_named and part != claim:
            found = [n for n in public_numbers() if n["claim"] == claim]
    if paper is not None:
        found.sort(key=lambda n: abs(float(n["value"]) - paper))
    return tuple(found)


def _row(
    claim: str,
    part: str,
    chapter: str,
    c: Mapping[str, Any],
    paper_text: str,
    first: bool,
    needs: str = "",
) -> Row:
    unit = c.get("unit", "%")
    paper = c.get("paper")
    return Row(
        claim=claim,
        part=part,
        chapter=chapter,
        setting=str(c.get("setting", "")),
        metric=str(c.get("metric", "")),
        paper=_fmt(paper, unit) if paper is not None else paper_text,
        ours=_fmt(c.get("ours"), unit),
        profile=c.get("profile"),
        verdict=str(c["verdict"]),
        note=str(c.get("note", "")),
        public=_public(part, claim, paper, first),
        needs=needs,
    )


def natural_key(claim_id: str) -> tuple[Any, ...]:
    """Sort key that puts ``§10-2`` before ``§10-10`` and ``C2-err`` before ``C2-conf``.

    The results files keep claims in alphabetical order; within a claim the error
    comes first, then the other numbers.

    >>> sorted(["§10-10", "§10-2", "C2-conf", "C2-err", "C11a"], key=natural_key)
    ['C2-err', 'C2-conf', 'C11a', '§10-2', '§10-10']
    """
    pieces = re.split(r"(\d+)", claim_id)
    parts = [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in pieces if x]
    return (claim_id.startswith("§"), *[p if p[2] != "-err" else (1, 0, "") for p in parts])


def _chapter_number(stem: str) -> int:
    return int(stem[:2])


def build(records: Mapping[str, Mapping[str, Any]]) -> Scorecard:
    """The scorecard of the given results records (``{chapter: record}``).

    Each inventory claim's rows come from one chapter: the only one that has it, or,
    when several do (chapter 1 previews C2, which chapter 4 measures), the chapter of the
    claim's section. Claims of no inventory id go to ``others``.

    Raises:
        ResultsError: several chapters have a claim and none of them is its section's;
            or a verdict is not one of ``VERDICTS``.
    """
    inventory = paper_claims()
    ids = [c.id for c in inventory]
    found: dict[str, dict[str, list[tuple[str, Mapping[str, Any]]]]] = {i: {} for i in ids}
    others: list[Row] = []
    for stem in sorted(records):
        for part, c in sorted(records[stem]["claims"].items(), key=lambda kv: natural_key(kv[0])):
            if c.get("verdict") not in VERDICTS:
                raise ResultsError(
                    f"{stem}.json: claim {part} has the verdict {c.get('verdict')!r}, "
                    f"not one of {', '.join(VERDICTS)}"
                )
            claim = inventory_id(part, ids)
            if claim is None:
                others.append(_row(part, part, stem, c, "—", False))
            else:
                found[claim].setdefault(stem, []).append((part, c))
    rows: list[Row] = []
    for pc in inventory:
        by_chapter = found[pc.id]
        if not by_chapter:
            own = [s for s in records if _chapter_number(s) == pc.chapter]
            note = (
                f"{own[0]} has no row for it"
                if own
                else pc.needs or f"chapter {pc.chapter} has no results file yet"
            )
            rows.append(
                Row(pc.id, pc.id, None, pc.setting, "", pc.paper, "—", None, "not run", note)
            )
            continue
        if len(by_chapter) == 1:
            stem = next(iter(by_chapter))
        else:
            own = [s for s in by_chapter if _chapter_number(s) == pc.chapter]
            if len(own) != 1:
                raise ResultsError(
                    f"claim {pc.id} is in {', '.join(sorted(by_chapter))}, and none of them is "
                    f"the chapter of its section ({pc.chapter:02d})"
                )
            stem = own[0]
        for i, (part, c) in enumerate(by_chapter[stem]):
            rows.append(_row(pc.id, part, stem, c, pc.paper, i == 0, pc.needs))
    return Scorecard(rows=rows, others=others, chapters=sorted(records))


def load(
    chapters_dir: str | os.PathLike[str],
    results_dir: str | os.PathLike[str] | None = None,
    check: bool = True,
) -> tuple[Scorecard, dict[str, dict[str, Any]]]:
    """Read (and, with ``check``, check) the results files; return the scorecard and the records."""
    if check:
        records = check_results(chapters_dir, results_dir)
    else:
        records = read_results(chapters_dir, results_dir)
    return build(records), records


def grade_conclusion(rows: Sequence[Row]) -> str:
    """The verdict of a conclusion that rests on the claims of ``rows``, by one stated rule.

    Only the rows that were run count: ``reproduced`` when every one of them is
    reproduced, an identity or shown (:data:`COUNTED`); ``not reproduced`` when none
    of them is, nor partly reproduced; ``partly reproduced`` in between; ``not run``
    when no row was run (or there is none).

    >>> r = Row("C1", "C1", "04", "", "", "", "", "book", "reproduced", "")
    >>> from dataclasses import replace
    >>> grade_conclusion([r, replace(r, verdict="not run")])
    'reproduced'
    >>> grade_conclusion([r, replace(r, verdict="close")])
    'partly reproduced'
    >>> grade_conclusion([replace(r, verdict="partly reproduced")])
    'partly reproduced'
    >>> grade_conclusion([replace(r, verdict="not run")]), grade_conclusion([])
    ('not run', 'not run')
    """
    run = [r for r in rows if r.verdict != "not run"]
    if not run:
        return "not run"
    good = sum(r.verdict in COUNTED for r in run)
    if good == len(run):
        return "reproduced"
    if good == 0 and not any(r.verdict == "partly reproduced" for r in run):
        return "not reproduced"
    return "partly reproduced"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _public_cell(row: Row) -> str:
    if not row.public:
        return ""
    best = row.public[0]
    note = f"; {best['note']}" if best.get("note") else ""
    return f"{float(best['value']):g} % ([{best['repository']}]({best['url']}){note})"


def doc_link(stem: str | None, folder: str = "") -> str:
    """A chapter as Sphinx's ``{doc}`` role: its number, to its page (``folder``: where from).

    >>> doc_link("06_adversarial_training"), doc_link("06_x", "/chapters/"), doc_link(None)
    ('{doc}`6 <06_adversarial_training>`', '{doc}`6 </chapters/06_x>`', '')
    """
    return "" if stem is None else f"{{doc}}`{int(stem[:2])} <{folder}{stem}>`"


def default_link(stem: str | None) -> str:
    """A chapter as a plain Markdown link (the book's page uses Sphinx's ``{doc}`` role)."""
    return "" if stem is None else f"[{int(stem[:2])}](../chapters/{stem}.ipynb)"


def evidence_rows(card: Scorecard, conclusion: Conclusion) -> dict[str, list[Row]]:
    """The scorecard's rows for each piece of a conclusion's evidence (empty: not yet run).

    >>> card = build({})
    >>> rows = evidence_rows(card, paper_conclusions()[5])
    >>> {k: [r.verdict for r in v] for k, v in rows.items()}
    {'C7': ['not run'], 'C11': ['not run'], 'C14': ['not run']}
    """
    return {cid: card.find(cid) for cid in conclusion.evidence}


CONCLUSION_RULE = (
    "rule: reproduced when every evidence row that was run is reproduced, an identity or "
    "shown; not reproduced when none is, nor partly reproduced; partly reproduced in between; "
    "not run when none ran"
)
"""The rule :func:`grade_conclusion` applies, as a claim's note states it."""


def glue_name(prefix: str, claim_id: str) -> str:
    """A ``myst_nb.glue`` name for a claim id: letters, digits and underscores only.

    >>> glue_name("ch10", "§3-c"), glue_name("ch10", "C22-conf-mistakes")
    ('ch10_s3_c', 'ch10_c22_conf_mistakes')
    """
    slug = re.sub(r"[^0-9a-z]+", "_", claim_id.lower().replace("§", "s")).strip("_")
    return f"{prefix}_{slug}"


def evidence_text(rows: Sequence[Row]) -> str:
    """Our numbers and verdicts for one piece of evidence, in words; ``"not yet run"`` if none.

    >>> r = Row("C2", "C2-err", "04", "", "error", "89.4 %", "90.6 %", "book", "reproduced", "")
    >>> evidence_text([r]), evidence_text([])
    ('90.6 % (paper 89.4 %): reproduced', 'not yet run')
    """
    run = [r for r in rows if r.chapter is not None]
    if not run:
        return "not yet run"
    return "; ".join(
        (f"{r.part} " if len(run) > 1 else "")
        + (f"{r.ours}" if r.ours != "—" else "")
        + (f" (paper {r.paper})" if r.ours != "—" and r.paper not in ("—", "") else "")
        + (": " if r.ours != "—" else "")
        + r.verdict
        for r in run
    )


def conclusions_markdown(card: Scorecard, link: Callable[[str | None], str] = default_link) -> str:
    """Markdown table: each §10 conclusion, the evidence in the book, and its verdict."""
    lines = ["| § 10 | conclusion (paraphrased) | evidence in this book | verdict |"]
    lines.append("|---|---|---|---|")
    for c in paper_conclusions():
        rows = evidence_rows(card, c)
        pieces = []
        for cid, found in rows.items():
            chapters = sorted({r.chapter for r in found if r.chapter is not None})
            where = ", ".join(f"chapter {link(s)}" for s in chapters)
            pieces.append(f"{cid}" + (f" ({where})" if where else "") + f": {evidence_text(found)}")
        verdict = grade_conclusion([r for found in rows.values() for r in found])
        if not pieces:
            pieces = ["no chapter of this book measures it"]
        lines.append(f"| {c.id[4:]} | {_cell(c.text)} | {_cell('; '.join(pieces))} | {verdict} |")
    return "\n".join(lines)


def conclusion_claim(card: Scorecard, conclusion: Conclusion) -> Any:
    """The closing-table row of a §10 conclusion: the share of its evidence reproduced.

    ``ours`` is the percentage of the evidence rows that were run and are reproduced,
    identities or shown; the verdict is :func:`grade_conclusion`'s, its rule in the note.

    >>> c = conclusion_claim(build({}), paper_conclusions()[0])
    >>> c.id, c.ours, c.verdict
    ('§10-1', None, 'not run')
    """
    from advkeras.book import reporting

    rows = [r for found in evidence_rows(card, conclusion).values() for r in found]
    run = [r for r in rows if r.verdict != "not run"]
    good = sum(r.verdict in COUNTED for r in run)
    listed = ", ".join(f"{r.part} {r.verdict}" for r in rows if r.chapter is not None)
    if not conclusion.evidence:
        listed = "no chapter of this book measures it"
    return reporting.Claim(
        conclusion.id,
        conclusion.text,
        "evidence rows reproduced",
        paper=None,
        ours=100.0 * good / len(run) if run else None,
        verdict=grade_conclusion(rows),
        note=f"{CONCLUSION_RULE}; {listed or 'no evidence run yet'}",
    )


def counts_table(card: Scorecard) -> str:
    """Markdown: how many rows of the inventory have each verdict, and the total."""
    counts = card.counts()
    lines = ["| verdict | rows |", "|---|---:|"]
    lines += [f"| {v} | {n} |" for v, n in counts.items() if n]
    lines.append(f"| all | {sum(counts.values())} |")
    return "\n".join(lines)


def claims_markdown(rows: Sequence[Row], link: Callable[[str | None], str] = default_link) -> str:
    """Markdown table of ``rows``: claim, chapter, paper, ours, verdict, the closest public
    reproduction's number, setting and metric, profile, and the chapter's note.

    The columns a reader compares come first (paper, ours, verdict), so that they are on screen
    without scrolling; the long ones (the setting, the note) come last.
    """
    lines = [
        "| claim | chapter | paper | this book | verdict | closest public reproduction "
        "| setting: metric | profile | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = r.note or ""
        if r.verdict == "not run" and r.needs and r.needs not in note:
            note += ("; " if note else "") + f"it would take {r.needs}"
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    r.part,
                    link(r.chapter),
                    r.paper,
                    r.ours,
                    r.verdict,
                    _public_cell(r),
                    f"{r.setting}: {r.metric}" if r.metric else r.setting,
                    r.profile or "—",
                    note or "—",
                )
            )
            + " |"
        )
    return "\n".join(lines)


def summary_markdown(card: Scorecard, link: Callable[[str | None], str] = default_link) -> str:
    """Markdown: one sentence on what was read, and the count of verdicts."""
    n_claims = len({r.claim for r in card.rows})
    chapters = ", ".join(link(s) for s in card.chapters) or "none"
    return (
        f"{len(card.rows)} rows for the paper's {n_claims} claims (a claim with several numbers "
        f"has a row for each), from the results files of chapters {chapters}.\n\n"
        + counts_table(card)
    )


def to_markdown(card: Scorecard, link: Callable[[str | None], str] = default_link) -> str:
    """The whole scorecard as one Markdown text: counts, the paper's claims, other checks."""
    parts = [
        summary_markdown(card, link),
        "## The paper's claims",
        claims_markdown(card.rows, link),
    ]
    if card.others:
        parts += ["## The book's other checks", claims_markdown(card.others, link)]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m advkeras.book.scorecard check|markdown CHAPTERS_DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "markdown"))
    parser.add_argument("chapters", type=Path, help="the folder of the chapter notebooks")
    args = parser.parse_args(argv)
    try:
        card, records = load(args.chapters)
    except ResultsError as err:
        print(f"the chapters' results files are not current:\n{err}", file=sys.stderr)
        return 1
    if args.command == "markdown":
        print(to_markdown(card), end="")
    else:
        print(
            f"{len(records)} results files current; "
            + ", ".join(f"{v} {n}" for v, n in card.counts().items() if n)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

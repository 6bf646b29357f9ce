"""Paper-vs-this-book bookkeeping: claims, verdicts, the closing table and the results files.

Every chapter ends with a table computed from its results. A :class:`Claim`
holds the paper's number and ours; :func:`verdict` grades it; :func:`claims_table`
renders the table; :func:`save_results` writes ``chapters/results/<chapter>.json``
that the scorecard is built from.

Results from the ``smoke`` profile never overwrite the book's files: they go to
``$ADVKERAS_RESULTS_DIR`` if set, else to ``.cache/results-smoke`` beside the
chapters.

Example:

>>> c = Claim("C1", "softmax, FGSM eps=.25", "error", paper=99.9, ours=99.5, unit="%", tolerance=2.0)
>>> c.verdict
'reproduced'
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advkeras import environment
from advkeras._files import atomic_write_text
from advkeras.book.profiles import Profile, get_profile

VERDICTS = (
    "reproduced",
    "close",
    "partly reproduced",
    "not reproduced",
    "not run",
    "qualitative",
    "identity",
    "shown",
)
"""The verdicts a claim can get, and the one rule that assigns them in every chapter.

* **The paper gives a number.** Ours is graded against it: ``reproduced`` within the claim's
  tolerance, ``close`` within twice the tolerance, else ``not reproduced``.
* **The paper gives no number** ("more localised", "regularises less", "grows with n"). The
  chapter states a rule before the measurement, the claim's note repeats it as
  ``rule: ...``, and the verdict is ``reproduced`` when the measurement meets the rule and
  ``not reproduced`` when it does not.
* ``partly reproduced``: the paper's outcome reached by another route or failure mode, or a
  number that misses while the finding the paper draws from it holds by a stated rule; for
  a conclusion that rests on several claims (chapter 10), some of them reproduced and some
  not. The note says which.
* ``identity``: an equation checked numerically (it holds by algebra, so it cannot fail
  except by rounding or a bug). ``shown``: a fact about the data, or a setting of the
  method, that the chapter demonstrates rather than measures.
* ``qualitative``: only what is judged by eye (a picture compared with the paper's); the
  note says what was looked at.
* ``not run``: no number of ours; the note says what running it would take.

Only ``reproduced`` counts as a reproduction. The function ``verdict`` applies the first
point; ``Claim`` refuses a verdict on a claim without the paper's number unless its note
states the rule. The book's scorecard page prints this text."""

RULE_MARK = "rule:"
"""How a note states the rule that graded a claim without the paper's number."""

_RULE_GRADED = ("reproduced", "close", "partly reproduced", "not reproduced")


def verdict(
    paper: float | None, ours: float | None, tolerance: float, close_factor: float = 2.0
) -> str:
    """Grade ``ours`` against the paper's number.

    ``reproduced`` when ``|ours − paper| <= tolerance``, ``close`` within
    ``close_factor`` × tolerance, else ``not reproduced``; ``not run`` when we
    have no number. A claim without the paper's number is graded by a stated rule
    (see :data:`VERDICTS`), never here: ``paper=None`` with a number of ours is a
    ``ValueError``. The other words of :data:`VERDICTS` are given by hand
    (``Claim(..., verdict="identity")``).

    Example:

    >>> verdict(89.4, 90.6, 2.0), verdict(89.4, 82.1, 2.0), verdict(None, None, 2.0)
    ('reproduced', 'not reproduced', 'not run')
    """
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return "not run"
    if paper is None:
        raise ValueError(
            "Received an invalid value for argument `paper`. The paper gives no number "
            "(paper=None), so the claim is graded by a rule stated before the measurement: "
            f"give Claim(verdict=...) and the rule in its note ({RULE_MARK!r}). "
            f"Received: paper=None, ours={ours!r}"
        )
    gap = abs(float(ours) - float(paper))
    if gap <= tolerance:
        return "reproduced"
    if gap <= close_factor * tolerance:
        return "close"
    return "not reproduced"


@dataclass
class Claim:
    """One row of a chapter's "Paper vs this book" table.

    Args:
        id: the inventory's claim id (``"C1"``, ``"F1"``, ...).
        setting: model, data and attack in a few words.
        metric: what is measured (``"error"``, ``"confidence on mistakes"``...).
        paper: the paper's number (``None`` when it gives none).
        ours: our number (``None`` if not run).
        unit: ``"%"`` or ``""``.
        tolerance: the gap (in ``unit``) that still counts as reproduced.
        note: why a claim is not reproduced, or a caveat; shown in the table.
        verdict: computed from the numbers unless given. A claim without the
            paper's number needs one, from a rule the chapter states (see
            :data:`VERDICTS`); the note then says ``"rule: ..."``.

    Example:

    >>> Claim("C18", "filters", "pixels used", paper=None, ours=64.0, unit="",
    ...       verdict="reproduced", note="rule: fewer than the naive network's 120").verdict
    'reproduced'
    """

    id: str
    setting: str
    metric: str
    paper: float | None
    ours: float | None
    unit: str = "%"
    tolerance: float = 2.0
    note: str = ""
    verdict: str = field(default="")

    def __post_init__(self) -> None:
        if self.ours is not None:
            self.ours = float(self.ours)
        if not self.verdict:
            self.verdict = verdict(self.paper, self.ours, self.tolerance)
        elif self.verdict not in VERDICTS:
            raise ValueError(
                "Received an invalid value for argument `verdict`. Expected one of "
                f"{', '.join(VERDICTS)}. Received: verdict={self.verdict!r}"
            )
        if self.paper is None and self.verdict in _RULE_GRADED and RULE_MARK not in self.note:
            raise ValueError(
                f"Received an invalid value for argument `note` of claim {self.id}: the paper "
                f"gives no number, so a {self.verdict!r} verdict comes from a rule stated "
                f"before the measurement, and the note must state it ({RULE_MARK!r}). "
                f"Received: note={self.note!r}"
            )


def listed(items: Iterable[str]) -> str:
    """The items as prose: ``"a"``, ``"a and b"``, ``"a, b and c"``.

    For the sentences a chapter builds from its numbers.

    >>> listed(["1"]), listed(["1", "2"]), listed(f"{k}" for k in (1, 2, 5))
    ('1', '1 and 2', '1, 2 and 5')
    """
    items = list(items)
    if not items:
        raise ValueError("items=[]: listed() needs at least one item")
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.2f} %" if abs(value) < 10 else f"{value:.1f} %"
    return f"{value:.4g}{(' ' + unit) if unit else ''}"


def claims_table(claims: Sequence[Claim], profile: Profile | None = None) -> str:
    """Markdown table: claim, setting, metric, paper, this book, profile, verdict, note."""
    profile = profile or get_profile()
    lines = [
        "| claim | setting | metric | paper | this book | profile | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        v = c.verdict + (f": {c.note}" if c.note else "")
        lines.append(
            f"| {c.id} | {c.setting} | {c.metric} | {_fmt(c.paper, c.unit)} | "
            f"{_fmt(c.ours, c.unit)} | {profile.name} | {v} |"
        )
    return "\n".join(lines)


def show_claims(claims: Sequence[Claim], profile: Profile | None = None) -> Any:
    """Display the table in a notebook (an ``IPython.display.Markdown``), or return the text."""
    text = claims_table(claims, profile)
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython ships with every notebook
        return text
    return Markdown(text)


def results_dir(
    profile: Profile | None = None, chapters_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Where results files go: ``$ADVKERAS_RESULTS_DIR``, else ``results/`` (smoke: ``.cache``)."""
    profile = profile or get_profile()
    env = os.environ.get(environment.RESULTS_DIR)
    if env:
        return Path(env)
    base = Path(chapters_dir) if chapters_dir is not None else Path.cwd()
    if profile.name == "smoke":
        return base.parent / ".cache" / "results-smoke"
    return base / "results"


_REV_LINE = re.compile(r'^ADVKERAS_REV = "[0-9a-f]*"[ \t]*(?:\n|$)', re.MULTILINE)


def code_digest(notebook: str | os.PathLike[str]) -> str:
    r"""SHA-256 of the code a notebook runs: its code cells' sources, nothing else.

    Outputs, metadata, Markdown cells, empty code cells, leading and trailing blank
    space, and the set-up cell's ``ADVKERAS_REV = "..."`` line (re-stamped at every
    execution by ``scripts/execute_chapters.py``) do not count. A chapter's results
    file records this digest (:func:`save_results`); the scorecard recomputes it to
    tell a current results file from a stale one, without file dates (a git checkout
    resets them).

    Example:

    >>> import json, tempfile
    >>> def nb(*sources):
    ...     cells = [{"cell_type": "code", "source": s, "outputs": []} for s in sources]
    ...     path = Path(tempfile.mkdtemp()) / "ch.ipynb"
    ...     path.write_text(json.dumps({"cells": cells}))
    ...     return path
    >>> a = code_digest(nb('ADVKERAS_REV = "ab12"\nx = 1', "print(x)"))
    >>> a == code_digest(nb('ADVKERAS_REV = "cd34"\nx = 1', "print(x)\n", ""))
    True
    >>> a == code_digest(nb('ADVKERAS_REV = "ab12"\nx = 2', "print(x)"))
    False
    """
    path = Path(notebook)
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"Received an invalid value for argument `notebook`: expected a readable .ipynb "
            f"file with cells. Received: notebook={str(path)!r} ({err})"
        ) from None
    digest = hashlib.sha256()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        source = _REV_LINE.sub("", source).strip()
        if source:
            digest.update(source.encode("utf-8") + b"\0")
    return digest.hexdigest()


def results_digest(record: dict[str, Any]) -> str:
    """SHA-256 of a results record's claims: what a chapter that reads it depends on.

    >>> r = {"chapter": "x", "claims": {"C1": {"ours": 1.0}}, "python": "3.11"}
    >>> results_digest(r) == results_digest({**r, "python": "3.13"})
    True
    >>> results_digest(r) == results_digest({**r, "claims": {"C1": {"ours": 2.0}}})
    False
    """
    text = json.dumps(_strict(record.get("claims", {})), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_results(
    chapter: str,
    claims: Iterable[Claim],
    profile: Profile | None = None,
    extra: dict[str, Any] | None = None,
    directory: str | os.PathLike[str] | None = None,
    notebook: str | os.PathLike[str] | None = None,
    inputs: dict[str, str] | None = None,
) -> Path:
    """Write ``<chapter>.json`` with every claim (paper, ours, unit, profile, verdict).

    The record also holds ``code_sha256``, the :func:`code_digest` of the notebook
    that wrote it (``notebook``, by default ``<chapter>.ipynb`` in the working
    directory, which is the chapters' folder when a chapter runs; ``None`` where
    there is no such file), and ``inputs``: for a chapter that reads other chapters'
    results, their :func:`results_digest` by chapter. The file is written to a
    temporary name and renamed.
    """
    import advkeras

    profile = profile or get_profile()
    out_dir = Path(directory) if directory is not None else results_dir(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = Path(notebook) if notebook is not None else Path.cwd() / f"{chapter}.ipynb"
    if notebook is not None and not source.is_file():
        raise ValueError(
            "Received an invalid value for argument `notebook`: no such file. "
            f"Received: notebook={str(source)!r}"
        )
    record = {
        "chapter": chapter,
        "profile": profile.name,
        "advkeras_version": advkeras.__version__,
        "python": platform.python_version(),
        "code_sha256": code_digest(source) if source.is_file() else None,
        "inputs": dict(sorted((inputs or {}).items())),
        "claims": {c.id: {**asdict(c), "profile": profile.name} for c in claims},
        "extra": extra or {},
    }
    text = json.dumps(_strict(record), indent=1, sort_keys=True, allow_nan=False) + "\n"
    return atomic_write_text(out_dir / f"{chapter}.json", text)


def _strict(value: Any) -> Any:
    """``value`` with every non-finite float as None: the results files are strict JSON.

    >>> _strict({"a": [1.0, float("nan")], "b": (float("inf"), 2)})
    {'a': [1.0, None], 'b': [None, 2]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def load_results(directory: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read every ``*.json`` results file of a folder, keyed by chapter."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(directory).glob("*.json")):
        record = json.loads(path.read_text())
        out[record["chapter"]] = record
    return out

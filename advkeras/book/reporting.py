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

import json
import math
import os
import platform
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
"""The verdicts a claim can get. ``reproduced``, ``close`` and ``not reproduced`` grade a
measured claim against the paper's number and tolerance; ``partly reproduced`` is the
paper's outcome reached by another route or failure mode (say which in the note);
``qualitative`` is a claim without a number, graded by a stated rule; ``identity`` is an
equation checked numerically (it holds by algebra, so it cannot fail except by rounding
or a bug); ``shown`` is a fact about the data or a statement the chapter demonstrates
rather than measures. Only ``reproduced`` counts as a reproduction."""


def verdict(
    paper: float | None, ours: float | None, tolerance: float, close_factor: float = 2.0
) -> str:
    """Grade ``ours`` against ``paper``.

    ``reproduced`` when ``|ours − paper| <= tolerance``, ``close`` within
    ``close_factor`` × tolerance, else ``not reproduced``; ``not run`` when we
    have no number, ``qualitative`` when the paper gives none. The other words of
    :data:`VERDICTS` are given by hand (``Claim(..., verdict="identity")``).

    Example:

    >>> verdict(89.4, 90.6, 2.0), verdict(89.4, 82.1, 2.0), verdict(None, 1.0, 2.0)
    ('reproduced', 'not reproduced', 'qualitative')
    """
    if ours is None or (isinstance(ours, float) and math.isnan(ours)):
        return "not run"
    if paper is None:
        return "qualitative"
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
        paper: the paper's number (``None`` for a qualitative claim).
        ours: our number (``None`` if not run).
        unit: ``"%"`` or ``""``.
        tolerance: the gap (in ``unit``) that still counts as reproduced.
        note: why a claim is not reproduced, or a caveat; shown in the table.
        verdict: computed from the numbers unless given (e.g. ``"qualitative"``
            claims judged by a figure: ``"reproduced"`` with a note).
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


def save_results(
    chapter: str,
    claims: Iterable[Claim],
    profile: Profile | None = None,
    extra: dict[str, Any] | None = None,
    directory: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``<chapter>.json`` with every claim (paper, ours, unit, profile, verdict).

    The file is written to a temporary name and renamed.
    """
    import advkeras

    profile = profile or get_profile()
    out_dir = Path(directory) if directory is not None else results_dir(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "chapter": chapter,
        "profile": profile.name,
        "advkeras_version": advkeras.__version__,
        "python": platform.python_version(),
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

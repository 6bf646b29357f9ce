"""The book's machinery: run profiles, cached training recipes, the model cache, claims.

The executable book (``chapters/``) needs more than the library: budgets that
scale every experiment from a CI smoke run to the paper's settings, networks
trained once and shared between chapters, and a table of the paper's numbers
against ours at the end of each chapter. These live here, apart from the
library that ``import advkeras`` offers:

- :mod:`advkeras.book.profiles`: the ``smoke``, ``book`` and ``paper`` run profiles;
- :mod:`advkeras.book.experiments`: the paper's networks, trained under a profile and cached;
- :mod:`advkeras.book.cache`: the model cache, keyed by what trains a network;
- :mod:`advkeras.book.reporting`: claims, verdicts, the closing tables and the results files;
- :mod:`advkeras.book.scorecard`: every claim of the paper from the results files, and their
  freshness check.

Example:

>>> from advkeras.book import profiles
>>> profiles.get_profile("smoke").name
'smoke'
"""

from __future__ import annotations

__all__ = ["cache", "experiments", "profiles", "reporting", "scorecard"]

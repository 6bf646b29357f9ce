"""Every environment variable that advkeras reads, named in one place.

=========================  ==================================  =====================================
variable                   read by                             meaning
=========================  ==================================  =====================================
``ADVKERAS_DATA_DIR``      :mod:`advkeras.datasets`            folder holding ``mnist/`` (and
                                                               CIFAR-10); default ``data/`` beside
                                                               the package if it exists, else
                                                               ``keras.datasets`` downloads
``ADVKERAS_JIT_COMPILE``   :mod:`advkeras.attacks`             ``1`` or ``0``: compile the attack
                                                               functions with XLA or not (default:
                                                               XLA unless the model has convolutions)
``ADVKERAS_PROFILE``       :mod:`advkeras.book.profiles`       the book's run profile: ``smoke``,
                                                               ``book`` (default) or ``paper``
``ADVKERAS_CACHE_DIR``     :mod:`advkeras.book.cache`          folder of the book's trained-model
                                                               cache; default
                                                               ``~/.cache/advkeras/models``
``ADVKERAS_RESULTS_DIR``   :mod:`advkeras.book.reporting`      folder for the chapters' results
                                                               files; default ``chapters/results``
                                                               (smoke: ``.cache/results-smoke``)
``ADVKERAS_NETWORKS``      :mod:`advkeras.book.networks`       folder or URL of the book's shipped
                                                               trained networks; default
                                                               ``networks/`` of the checkout;
                                                               ``none``: always train
=========================  ==================================  =====================================

Each module reads its variable as ``os.environ.get(environment.NAME)`` with the
constant below, never with a literal string, so this table is the whole list
(``tests/test_environment.py`` checks it).

Example:

>>> from advkeras import environment
>>> environment.DATA_DIR
'ADVKERAS_DATA_DIR'
>>> environment.VARIABLES[environment.PROFILE]
"the book's run profile: smoke, book (default) or paper"
"""

from __future__ import annotations

__all__ = [
    "CACHE_DIR",
    "DATA_DIR",
    "JIT_COMPILE",
    "NETWORKS",
    "PROFILE",
    "RESULTS_DIR",
    "VARIABLES",
]

#: Folder holding ``mnist/`` (the four IDX files) and CIFAR-10 (:mod:`advkeras.datasets`).
DATA_DIR = "ADVKERAS_DATA_DIR"
#: ``1`` or ``0``: compile the attack functions with XLA or not (:mod:`advkeras.attacks`).
JIT_COMPILE = "ADVKERAS_JIT_COMPILE"
#: The book's run profile, ``smoke``, ``book`` or ``paper`` (:mod:`advkeras.book.profiles`).
PROFILE = "ADVKERAS_PROFILE"
#: Folder of the book's trained-model cache (:mod:`advkeras.book.cache`).
CACHE_DIR = "ADVKERAS_CACHE_DIR"
#: Folder for the chapters' results files (:mod:`advkeras.book.reporting`).
RESULTS_DIR = "ADVKERAS_RESULTS_DIR"
#: Folder or URL of the book's shipped trained networks (:mod:`advkeras.book.networks`).
NETWORKS = "ADVKERAS_NETWORKS"

#: Each variable's name and one-line meaning (the table above).
VARIABLES: dict[str, str] = {
    DATA_DIR: "folder holding mnist/ (and CIFAR-10); default data/ beside the package if it "
    "exists, else keras.datasets downloads",
    JIT_COMPILE: "1 or 0: compile the attack functions with XLA or not (default: XLA "
    "unless the model has convolutions)",
    PROFILE: "the book's run profile: smoke, book (default) or paper",
    CACHE_DIR: "folder of the book's trained-model cache; default ~/.cache/advkeras/models",
    RESULTS_DIR: "folder for the chapters' results files; default chapters/results "
    "(smoke: .cache/results-smoke)",
    NETWORKS: "folder or URL of the book's shipped trained networks; default networks/ of "
    "the checkout; none: always train",
}

"""Sphinx extension: a chapter's download menu also offers its jupytext source, ``NN_name.py``.

sphinx-book-theme's download menu (``use_download_button``) offers the page's own source (for a
chapter, the ``.ipynb``) and print-to-PDF. Each chapter notebook is paired with a jupytext
``.py`` beside it (the file that is edited and reviewed); this copies that file to
``_sources/<page>.py`` in the built book and adds a ``.py`` entry to the menu, after ``.ipynb``.
Pages without a paired ``.py`` are left as they are.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def add_py_download(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """``html-page-context`` handler, after the theme has built its header buttons."""
    source = Path(app.srcdir, pagename + ".py")
    if context.get("page_source_suffix") != ".ipynb" or not source.is_file():
        return
    menu = next(
        (b for b in context.get("header_buttons", []) if b.get("label") == "download-buttons"),
        None,
    )
    if menu is None:
        return
    target = Path(app.outdir, "_sources", pagename + ".py")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    menu["buttons"].insert(
        1,
        {
            "type": "link",
            "url": f"{context['pathto']('_sources', 1)}/{pagename}.py",
            "text": ".py",
            "icon": "fas fa-file-code",
            "tooltip": "Download the jupytext source (the notebook as a Python script)",
            "label": "download-py-button",
        },
    )


def setup(app: Any) -> dict[str, Any]:
    # sphinx-book-theme fills the download menu at priority 501.
    app.connect("html-page-context", add_py_download, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

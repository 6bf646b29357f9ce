"""Sphinx extension: each page gets each ``<script>`` once.

sphinx-thebe (which Jupyter Book 1 always loads) adds its inline configuration script,
``const THEBE_JS_URL = ...``, once per ``env-before-read-docs`` event, and a build can emit that
event more than once (the second copy is registered with filename ``None``, the first with
``""``, so Sphinx's own de-duplication keeps both): the page then declares the constant twice and the browser's console shows
"Identifier 'THEBE_JS_URL' has already been declared" (tests/browser catches it). This drops
the repeats from every page's script list, keeping the first of each.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script is registered with filename None by one path and "" by another.
    return (
        str(getattr(script, "filename", script) or ""),
        str(attributes.get("body", "")),
        tuple(sorted((k, str(v)) for k, v in attributes.items())),
    )


def unique_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """``html-page-context`` handler: remove repeated entries of ``context["script_files"]``."""
    seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # In place: the list is the builder's, to which later handlers (sphinx.ext.mathjax) add.
    context["script_files"][:] = unique


def setup(app: Any) -> dict[str, Any]:
    # Before the theme's and the extensions' handlers (default priority 500): Sphinx calls the
    # handlers of html-page-context only until one returns a template name.
    app.connect("html-page-context", unique_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Every environment variable that advkeras reads is a constant of advkeras.environment.

The package's source is scanned (its syntax trees, so docstrings do not count) for every use
of ``os.environ`` and ``os.getenv``; each must read a variable named by a constant of
:mod:`advkeras.environment`, so a new variable cannot be added without its entry there, in
that module's table and in the README's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from advkeras import environment

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "advkeras"
CONSTANTS = {name: getattr(environment, name) for name in environment.__all__ if name.isupper()}
CONSTANTS.pop("VARIABLES")


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _constant(node: ast.AST | None) -> str | None:
    """``NAME`` when ``node`` is ``environment.NAME`` for a constant of the module, else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "environment"
        and node.attr in CONSTANTS
    ):
        return node.attr
    return None


def environment_reads(source: str, where: str) -> list[str]:
    """The constants that ``source`` reads the environment with; AssertionError on anything else.

    Recognised reads: ``os.environ.get(K, ...)``, ``os.environ[K]``, ``K in os.environ`` and
    ``os.getenv(K, ...)``, with ``K`` an ``environment.NAME``. Any other use of ``os.environ``
    or ``getenv`` (a literal name, a copy of the whole environment, ``from os import environ``)
    is refused, so that the scan cannot be walked around.
    """
    tree = ast.parse(source)
    parents = _parents(tree)
    reads: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {a.name for a in node.names}
            assert not names & {"environ", "getenv", "environb", "getenvb"}, (where, names)
        if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
            continue
        if node.value.id != "os" or node.attr not in {"environ", "getenv", "environb", "getenvb"}:
            continue
        line = f"{where}:{node.lineno}"
        parent = parents[node]
        if node.attr in {"getenv", "getenvb"}:
            assert isinstance(parent, ast.Call) and parent.func is node and parent.args, line
            key = parent.args[0]
        elif isinstance(parent, ast.Attribute) and parent.attr == "get":
            call = parents[parent]
            assert isinstance(call, ast.Call) and call.func is parent and call.args, line
            key = call.args[0]
        elif isinstance(parent, ast.Subscript) and parent.value is node:
            key = parent.slice
        elif (
            isinstance(parent, ast.Compare)
            and len(parent.ops) == 1
            and isinstance(parent.ops[0], ast.In | ast.NotIn)
            and parent.comparators[0] is node
        ):
            key = parent.left
        else:
            raise AssertionError(f"{line}: a use of os.{node.attr} that is not a read of one key")
        name = _constant(key)
        assert name is not None, (
            f"{line}: reads the environment variable {ast.unparse(key)}; name it in "
            "advkeras/environment.py and read it as environment.NAME"
        )
        reads.append(name)
    return reads


def package_reads() -> dict[str, list[str]]:
    return {
        str(path.relative_to(ROOT)): environment_reads(
            path.read_text(), str(path.relative_to(ROOT))
        )
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_every_environment_read_of_the_package_is_a_constant_of_environment():
    reads = package_reads()
    used = {name for names in reads.values() for name in names}
    # ...and every constant is read somewhere: the table lists no stale variable.
    assert used == set(CONSTANTS), (used, set(CONSTANTS))
    assert reads["advkeras/datasets.py"] == ["DATA_DIR"]
    assert reads["advkeras/attacks/compiled.py"] == ["JIT_COMPILE"]
    assert reads["advkeras/book/profiles.py"] == ["PROFILE"]
    assert reads["advkeras/book/cache.py"] == ["CACHE_DIR"]
    assert reads["advkeras/book/reporting.py"] == ["RESULTS_DIR"]


@pytest.mark.parametrize(
    "source",
    [
        "import os\nx = os.environ.get('ADVKERAS_NEW')",
        "import os\nx = os.environ['ADVKERAS_NEW']",
        "import os\nx = os.getenv('ADVKERAS_NEW', '')",
        "import os\nx = 'ADVKERAS_NEW' in os.environ",
        "import os\nNEW = 'ADVKERAS_NEW'\nx = os.environ.get(NEW)",
        "import os\nx = dict(os.environ)",
        "from os import environ\nx = environ.get('ADVKERAS_NEW')",
        "import os\nx = os.environ.get(environment.NEW)",
    ],
)
def test_the_scan_refuses_a_variable_read_without_its_constant(source):
    with pytest.raises(AssertionError):
        environment_reads(source, "example.py")


def test_the_scan_accepts_reads_through_the_constants():
    source = (
        "import os\n"
        "a = os.environ.get(environment.DATA_DIR, '')\n"
        "b = os.environ[environment.CACHE_DIR]\n"
        "c = os.getenv(environment.PROFILE)\n"
        "d = environment.JIT_COMPILE in os.environ\n"
    )
    reads = environment_reads(source, "example.py")
    assert sorted(reads) == ["CACHE_DIR", "DATA_DIR", "JIT_COMPILE", "PROFILE"]


def test_constants_are_advkeras_variables_with_a_one_line_meaning():
    assert set(environment.VARIABLES) == set(CONSTANTS.values())
    for name, meaning in environment.VARIABLES.items():
        assert name.startswith("ADVKERAS_") and name.isupper(), name
        assert meaning.strip() and "\n" not in meaning, name
    doc = environment.__doc__ or ""
    for name in CONSTANTS.values():
        assert f"``{name}``" in doc, name


def test_readme_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `ADVKERAS_")]
    listed = {line.split("`")[1] for line in rows}
    assert set(CONSTANTS.values()) <= listed, set(CONSTANTS.values()) - listed

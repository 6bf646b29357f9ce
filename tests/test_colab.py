"""The chapters' set-up cell, which makes them run on Colab, and the version floors.

Every chapter opens with the same code cell. On Colab (or when ``ADVKERAS_INSTALL_SOURCE`` is
set, as in ``make colab``) it installs advkeras, pinned to a commit of this repository, and
myst-nb, and never TensorFlow, Keras or NumPy, which are Colab's own. ``make colab`` runs the
chapters on Python 3.13 with the pins of ``.ci/colab-constraints.txt``, which must equal the lower
bounds that ``pyproject.toml`` declares.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("0*.ipynb"))
CONSTRAINTS = ROOT / ".ci" / "colab-constraints.txt"
RUNNER = ROOT / "scripts" / "execute_chapters.py"
REPO_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
REV = re.compile(r'^ADVKERAS_REV = "([0-9a-f]{40})"$', re.MULTILINE)
COLABS_OWN = ("tensorflow", "keras", "numpy")


def first_code_cell_of(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code")


def first_code_cell(path: Path) -> nbformat.NotebookNode:
    return first_code_cell_of(nbformat.read(path, as_version=4))


def paired_cell(path: Path) -> str:
    """The source of the first code cell of the jupytext ``.py`` pair of ``path``."""
    import jupytext

    return first_code_cell_of(jupytext.read(path.with_suffix(".py"))).source


SETUP = first_code_cell(CHAPTERS[0]).source if CHAPTERS else ""


def pins() -> dict[str, str]:
    """``name -> version`` of every ``name==version`` line of the constraints file."""
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"{CONSTRAINTS.name}: not a name==version pin: {line!r}"
            out[name.strip().lower()] = pinned.strip()
    return out


def floors() -> dict[str, str]:
    """``name -> version`` of the ``>=`` lower bound of every dependency in pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    out = {}
    for text in requirements:
        req = Requirement(text)
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lower) == 1, f"pyproject.toml: {text!r} needs exactly one >= lower bound"
        out[req.name.lower()] = lower[0]
    return out


# --------------------------------------------------------------------------- the set-up cell


def test_there_are_chapters() -> None:
    assert len(CHAPTERS) >= 5, CHAPTERS


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_setup_cell_is_identical_in_every_chapter_and_its_pair(path: Path) -> None:
    cell = first_code_cell(path).source
    assert cell == SETUP, f"{path.name}: the first code cell differs from {CHAPTERS[0].name}'s"
    assert paired_cell(path) == SETUP, f"{path.with_suffix('.py').name}: first code cell differs"


def test_makefile_extracts_the_setup_cell_from_the_py_pair() -> None:
    """``make colab`` runs the cell as a script, cut out of the ``.py`` with awk."""
    makefile = (ROOT / "Makefile").read_text()
    program = re.search(r"awk '([^']*)'", makefile)
    assert program, "the Makefile no longer cuts the set-up cell out with awk"
    setup_py = re.search(r"^SETUP_CELL := (\S+)$", makefile, re.MULTILINE)
    assert setup_py and (ROOT / setup_py.group(1)).is_file()
    if shutil.which("awk") is None:
        pytest.skip("no awk on this machine")
    cut = subprocess.run(
        ["awk", program.group(1).replace("$$", "$"), str(ROOT / setup_py.group(1))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert cut.strip() == SETUP.strip()


def test_setup_cell_installs_the_repository_of_config_at_a_pinned_commit() -> None:
    assert REPO_URL.startswith("https://github.com/"), REPO_URL
    assert f'"advkeras @ git+{REPO_URL}@{{ADVKERAS_REV}}"' in SETUP
    assert len(REV.findall(SETUP)) == 1, "one ADVKERAS_REV line with 40 hex digits"
    assert "ADVKERAS_INSTALL_SOURCE" in SETUP
    assert '"google.colab" in sys.modules' in SETUP


def test_setup_cell_points_colab_at_the_shipped_networks_of_the_pinned_commit() -> None:
    raw = REPO_URL.replace("https://github.com/", "https://raw.githubusercontent.com/")
    assert f'"ADVKERAS_NETWORKS",\n        f"{raw}/{{ADVKERAS_REV}}/networks",' in SETUP
    assert (ROOT / "networks" / "manifest.json").is_file()


def test_pinned_revision_is_a_commit_of_this_repository() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (no .git): cannot check the pinned commit")
    rev = REV.search(SETUP).group(1)
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}^{{commit}}"], capture_output=True
    )
    assert found.returncode == 0, (
        f"ADVKERAS_REV {rev} is not a commit of this repository (a shallow clone? "
        "git fetch --unshallow); scripts/execute_chapters.py --stamp-only chapters/*.ipynb "
        "pins HEAD"
    )
    ancestor = subprocess.run(
        ["git", "-C", str(ROOT), "merge-base", "--is-ancestor", rev, "HEAD"], capture_output=True
    )
    assert ancestor.returncode == 0, f"ADVKERAS_REV {rev} is not in the history of HEAD"


def install_call(source: str) -> ast.Call:
    """The one ``subprocess.check_call([...])`` of the cell."""
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "subprocess.check_call"
    ]
    assert len(calls) == 1, "the set-up cell runs pip through one subprocess.check_call"
    return calls[0]


def test_setup_cell_installs_nothing_of_colabs_own_and_is_not_quiet() -> None:
    call = install_call(SETUP)
    args = call.args[0]
    assert isinstance(args, ast.List)
    assert ast.unparse(args.elts[:4]) == ast.unparse(
        ast.parse('sys.executable, "-m", "pip", "install"').body[0].value.elts
    )
    words = [e.value for e in args.elts if isinstance(e, ast.Constant)]
    assert "myst-nb" in words
    for word in words:
        assert not re.match(rf"({'|'.join(COLABS_OWN)})\b", word, re.IGNORECASE), word
        assert word not in {"-q", "-qq", "-qqq", "--quiet", "-U", "--upgrade"}, word
    for name in COLABS_OWN:
        assert not re.search(rf"pip install[^\n]*\b{name}\b", SETUP, re.IGNORECASE), name
    assert not re.search(r"(?<![\w-])(-q+|--quiet)(?![\w-])", SETUP), "no --quiet: Colab's restart"
    assert "%pip" not in SETUP and "!pip" not in SETUP


@pytest.fixture
def fake_site(tmp_path: Path) -> Path:
    """Stand-ins for pip, TensorFlow, Keras, NumPy and advkeras; pip logs its arguments."""
    site = tmp_path / "site"
    (site / "pip").mkdir(parents=True)
    (site / "pip" / "__init__.py").write_text("")
    (site / "pip" / "__main__.py").write_text(
        "import json, os, sys\n"
        "with open(os.environ['FAKE_PIP_LOG'], 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    (site / "tensorflow.py").write_text(
        "import os, types\n"
        "__version__ = '9.9.9-tf'\n"
        "class _GPU:\n"
        "    name = '/physical_device:GPU:0'\n"
        "def _list(kind):\n"
        "    return [_GPU()] if os.environ.get('FAKE_GPU') and kind == 'GPU' else []\n"
        "config = types.SimpleNamespace(list_physical_devices=_list)\n"
    )
    for name in ("keras", "numpy", "advkeras"):
        (site / f"{name}.py").write_text(f"__version__ = '9.9.9-{name}'\n")
    return site


def run_setup(site: Path, *, colab: bool = False, **env: str) -> tuple[str, list[list[str]]]:
    """Run the set-up cell in a fresh interpreter; return its stdout and the pip calls."""
    cell = site.parent / "setup_cell.py"
    cell.write_text(SETUP)
    log = site.parent / "pip.log"
    log.unlink(missing_ok=True)
    environ = {
        k: v for k, v in os.environ.items() if k not in {"ADVKERAS_INSTALL_SOURCE", "FAKE_GPU"}
    }
    environ.update(PYTHONPATH=str(site), FAKE_PIP_LOG=str(log), **env)
    prelude = "import sys, types\n"
    if colab:
        prelude += "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
    code = prelude + f"exec(compile(open({str(cell)!r}).read(), 'setup', 'exec'))\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        cwd=site.parent,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done.stdout, calls


def test_setup_cell_outside_colab_installs_nothing_and_prints_versions(fake_site: Path) -> None:
    stdout, calls = run_setup(fake_site)
    assert calls == []
    python = ".".join(map(str, sys.version_info[:3]))
    for text in (f"Python {python}", "TensorFlow 9.9.9-tf", "Keras 9.9.9-keras"):
        assert text in stdout, stdout
    assert "NumPy 9.9.9-numpy" in stdout and "advkeras 9.9.9-advkeras" in stdout, stdout
    assert "GPU: none" in stdout, stdout


def test_setup_cell_on_colab_installs_the_pinned_commit(fake_site: Path) -> None:
    stdout, calls = run_setup(fake_site, colab=True, FAKE_GPU="1")
    rev = REV.search(SETUP).group(1)
    assert calls == [["install", f"advkeras @ git+{REPO_URL}@{rev}", "myst-nb"]]
    assert "GPU: /physical_device:GPU:0" in stdout, stdout


def test_setup_cell_installs_from_an_override(fake_site: Path) -> None:
    _, calls = run_setup(fake_site, ADVKERAS_INSTALL_SOURCE="/src/advkeras")
    assert calls == [["install", "/src/advkeras", "myst-nb"]]
    _, calls = run_setup(fake_site, colab=True, ADVKERAS_INSTALL_SOURCE="/src/advkeras")
    assert calls == [["install", "/src/advkeras", "myst-nb"]]
    _, calls = run_setup(fake_site, ADVKERAS_INSTALL_SOURCE="")
    assert calls == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_setup_cell_committed_output_is_versions_only(path: Path) -> None:
    cell = first_code_cell(path)
    assert cell.get("execution_count") is not None
    assert cell.outputs, f"{path.name}: the set-up cell has no output"
    kinds = {(o.output_type, o.get("name")) for o in cell.outputs}
    assert kinds == {("stream", "stdout")}, f"{path.name}: set-up cell outputs {kinds}"
    text = "".join(o.text for o in cell.outputs)
    assert re.search(r"Python 3\.\d+\.\d+, TensorFlow \d", text), text
    assert "advkeras " in text and "GPU: " in text, text


# --------------------------------------------------------------------------- stamping


def load_runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("execute_chapters", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_pair(folder: Path, stem: str, rev: str) -> tuple[Path, Path]:
    """A chapter with the real set-up cell (pinned to ``rev``) and an output, and its .py."""
    import jupytext

    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    cell = nbformat.v4.new_code_cell(REV.sub(f'ADVKERAS_REV = "{rev}"', SETUP))
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="versions\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell('# A chapter\n\nADVKERAS_REV = "not this one"'),
        cell,
        nbformat.v4.new_code_cell('ADVKERAS_REV = "' + "0" * 40 + '"'),  # not the set-up cell
    ]
    ipynb = folder / f"{stem}.ipynb"
    nbformat.write(nb, ipynb)
    py = folder / f"{stem}.py"
    jupytext.write(nb, py, fmt="py:percent")
    return ipynb, py


def test_stamp_revision_changes_only_the_rev_line_of_the_setup_cell(tmp_path: Path) -> None:
    runner = load_runner()
    old, new = "a" * 40, "b" * 40
    a, a_py = write_pair(tmp_path, "01_a", old)
    b, b_py = write_pair(tmp_path, "02_b", old)
    before = {p: p.read_text() for p in (a, a_py, b, b_py)}
    changed = runner.stamp_revision([a], new)
    assert sorted(changed) == sorted([a, a_py, b, b_py])  # every chapter in the folder
    for path, text in before.items():
        expected = text.replace(old, new, 1)
        assert path.read_text() == expected, path
    nb = nbformat.read(a, as_version=4)
    assert nb.cells[1].outputs[0].text == "versions\n"
    assert nb.cells[2].source == 'ADVKERAS_REV = "' + "0" * 40 + '"'
    assert runner.stamp_revision([a], new) == []  # nothing left to do
    with pytest.raises(ValueError):
        runner.stamp_revision([a], "HEAD")


def test_runner_stamp_only_pins_git_head(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (no .git): nothing to stamp")
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    ipynb, py = write_pair(tmp_path, "01_a", "a" * 40)
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--stamp-only", str(ipynb)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert REV.search(first_code_cell(ipynb).source).group(1) == head
    assert REV.search(py.read_text()).group(1) == head


# --------------------------------------------------------------------------- version floors


def test_pyproject_floors_are_the_versions_the_colab_job_installs() -> None:
    assert pins() == floors(), (
        "pyproject.toml's lower bounds and .ci/colab-constraints.txt disagree: "
        "the floors are promises, and the Colab job is what tests them"
    )
    for name in COLABS_OWN:
        assert name in pins(), name


def test_requires_python_covers_the_dev_and_colab_pythons() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    makefile = (ROOT / "Makefile").read_text()
    assert "python3.11" in makefile and "python3.13" in makefile


def test_installed_versions_meet_the_floors() -> None:
    """The environment running the tests (.venv, from requirements.txt) keeps the promises."""
    for name, floor in floors().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue  # e.g. matplotlib, an extra
        assert Version(installed) >= Version(floor), f"{name} {installed} < floor {floor}"

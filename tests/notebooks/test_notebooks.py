"""The notebooks in ``notebooks/``: committed without outputs, in step with their generator, and
every one runs from top to bottom without an error (nbclient, kernel ``python3``, 60 s a cell).

Each notebook runs in a temporary copy of its folder with this checkout first on ``PYTHONPATH``,
so the kernel imports the cnnlab under test. Data come from the cache the set-up fills.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 60


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lecture_is_covered_in_order():
    names = [p.stem for p in NOTEBOOKS]
    assert names == sorted(_generator().NOTEBOOKS), "notebooks/ and scripts/make_notebooks.py list different notebooks"
    assert len(names) == 9 and names[0].startswith("01-images") and names[-1].startswith("09-alexnet")


def test_notebooks_match_their_generator():
    gen = _generator()
    for path in NOTEBOOKS:
        assert path.read_text(encoding="utf-8") == gen.render(path.stem, gen.NOTEBOOKS[path.stem]), (
            f"{path.name} differs from scripts/make_notebooks.py: run python scripts/make_notebooks.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.get("outputs") == [], f"{path.name}: code cell {i} has outputs"
        assert cell.get("execution_count") is None, f"{path.name}: code cell {i} has an execution count"


def test_outputs_check_sees_outputs(tmp_path):
    """The check above fails on a notebook that carries an output or an execution count."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells[0].execution_count = 1
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(AssertionError, match="has outputs"):
        test_committed_notebook_has_no_outputs(path)


def _kernel_name() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    assert "python3" in specs, f"no python3 kernel; found {sorted(specs)} (scripts/setup.sh installs it)"
    return "python3"


def run_notebook(path: Path, workdir: Path):
    """Execute a copy of ``path`` in ``workdir``; returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(nb, kernel_name=_kernel_name(), timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    t0 = time.perf_counter()
    nb = run_notebook(path, tmp_path)  # nbclient raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    # What the reader is promised is there: the rich views render, not only their text fallback.
    mimes = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})}
    expected = {"01-images-are-numbers": "image/png", "04-classic-filters": "image/png",
                "05-activations": "image/png", "07-mlp-baselines": "text/html",
                "08-lecture-cnn": "text/html", "09-alexnet": "text/html"}.get(path.stem)
    if expected:
        assert expected in mimes, f"{path.name} shows no {expected}; outputs carry {sorted(mimes)}"
    print(f"{path.name}: {seconds:.1f} s")

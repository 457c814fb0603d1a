"""The engine's import graph, read from the source with ``ast`` (nothing is imported).

Two rules (issue 11, "one-way layers in the engine"):

1. The engine's layers import one way only: autograd → ops → Tensor → functional → nn. A
   module may import its own layer and the layers before it, never a later one, not even
   inside a function or under ``TYPE_CHECKING``. The leaf modules (``_args``, ``_dtype``,
   ``random``) may be imported by every layer and import nothing of cnnlab themselves.
2. ``Tensor._data`` and ``Tensor._wrap`` are private to ``cnnlab/_tensor.py``,
   ``cnnlab/_ops/`` and ``cnnlab/autograd/``. Autograd is allowed because it sits below the
   Tensor and is the one place that wraps op outputs and fills ``.grad`` (``Function.apply``,
   ``run_backward``), through the class that ``_tensor.py`` registers with it. Everything
   else uses ``t.detach().numpy()`` and ``cnnlab.from_numpy``.

Each checker is also run on small made-up sources below, so a test that passes proves the
checker can see a violation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cnnlab"

# Layers in import order; a module may import only layers at or before its own.
LAYERS = (
    ("autograd", ("cnnlab.autograd",)),
    ("ops", ("cnnlab._ops",)),
    ("Tensor", ("cnnlab._tensor", "cnnlab._creation", "cnnlab._functions")),
    ("functional", ("cnnlab.functional",)),
    ("nn", ("cnnlab.nn",)),
)
LEAVES = ("cnnlab._args", "cnnlab._dtype", "cnnlab.random", "cnnlab._device", "cnnlab._size", "cnnlab._printing",
          "cnnlab.return_types", "cnnlab._html")
PRIVATE_OK = ("cnnlab._tensor", "cnnlab._ops", "cnnlab.autograd")  # may use _data / _wrap
PRIVATE_NAMES = ("_data", "_wrap")


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def layer_of(module: str) -> int | None:
    """The layer index of a cnnlab module, -1 for a leaf, None outside the engine."""
    if _within(module, LEAVES):
        return -1
    for rank, (_, prefixes) in enumerate(LAYERS):
        if _within(module, prefixes):
            return rank
    return None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str, root: Path) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = root / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(source: str, module: str, is_package: bool, root: Path) -> list[tuple[str, int]]:
    """Every cnnlab module that ``source`` imports, anywhere in the file, with its line."""
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "cnnlab"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "cnnlab":
                continue
            for alias in node.names:  # `from .. import functional` imports a module
                sub = f"{target}.{alias.name}"
                found.append((sub if _is_module(sub, root) else target, node.lineno))
    return found


def layering_violations(files: dict[str, tuple[str, bool]], root: Path) -> list[str]:
    """``files`` maps module name → (source, is_package); returns one line per violation."""
    problems = []
    for module, (source, is_package) in sorted(files.items()):
        rank = layer_of(module)
        if rank is None:
            continue
        for target, line in imports(source, module, is_package, root):
            if target == module:
                continue
            t_rank = layer_of(target)
            if rank == -1:
                ok = t_rank == -1
            else:
                ok = t_rank is not None and t_rank <= rank
            if not ok:
                where = "outside the engine" if t_rank is None else (
                    "a leaf" if t_rank == -1 else f"layer {LAYERS[t_rank][0]}")
                mine = "a leaf" if rank == -1 else f"layer {LAYERS[rank][0]}"
                problems.append(f"{module} (line {line}, {mine}) imports {target} ({where})")
    return problems


def private_access(files: dict[str, tuple[str, bool]]) -> list[str]:
    """Reads or writes of ``x._data`` and uses of ``_wrap`` outside the engine's core."""
    problems = []
    for module, (source, _) in sorted(files.items()):
        if _within(module, PRIVATE_OK):
            continue
        for node in ast.walk(ast.parse(source)):
            name = None
            if isinstance(node, ast.Attribute) and node.attr in PRIVATE_NAMES:
                name = node.attr
            elif isinstance(node, ast.Name) and node.id == "_wrap":
                name = node.id
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) > 1
                  and isinstance(node.args[1], ast.Constant) and node.args[1].value in PRIVATE_NAMES):
                name = node.args[1].value
            if name:
                problems.append(f"{module} (line {node.lineno}) uses {name}; use t.detach().numpy() "
                                "or cnnlab.from_numpy(array)")
    return problems


def package_files(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    return {module_name(p, root): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
            for p in root.rglob("*.py")}


# ---------------------------------------------------------------------------- the rules
def test_every_layer_exists():
    names = set(package_files())
    for layer, prefixes in LAYERS:
        assert any(_within(n, prefixes) for n in names), f"no module found for layer {layer}"
    for leaf in LEAVES:
        assert leaf in names, f"leaf module {leaf} is missing"


def test_engine_layers_import_one_way():
    problems = layering_violations(package_files(), PACKAGE)
    assert not problems, "imports against autograd → ops → Tensor → functional → nn:\n" + "\n".join(problems)


def test_no_private_tensor_access_outside_the_engine():
    problems = private_access(package_files())
    assert not problems, "private Tensor internals used outside the engine:\n" + "\n".join(problems)


# ------------------------------------------------------------- the checkers see violations
@pytest.mark.parametrize("module, source", [
    ("cnnlab._ops.conv", "def f():\n    from .._tensor import Tensor\n"),  # inside a function
    ("cnnlab._ops.conv", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..functional import conv2d\n"),
    ("cnnlab.autograd.function", "from .. import _tensor\n"),
    ("cnnlab._tensor", "def relu(self):\n    from .functional import relu\n"),
    ("cnnlab.functional.conv", "from ..nn.modules.conv import Conv2d\n"),
    ("cnnlab.functional.conv", "import cnnlab\n"),  # the package pulls in every layer
    ("cnnlab.nn.modules.conv", "from ...train import fit\n"),
    ("cnnlab._args", "from ._tensor import Tensor\n"),
])
def test_layering_checker_catches(module, source):
    files = {module: (source, False)}
    assert layering_violations(files, PACKAGE), f"a violating import in {module} went unnoticed"


@pytest.mark.parametrize("module, source", [
    ("cnnlab._ops.conv", "from ..autograd.function import Function\nfrom .._args import pair\n"),
    ("cnnlab.nn.modules.conv", "from ... import functional as F\nfrom ..._creation import empty\n"),
    ("cnnlab._tensor", "from ._ops import activation\nfrom .autograd.grad_mode import no_grad\n"),
])
def test_layering_checker_allows_downward_imports(module, source):
    assert not layering_violations({module: (source, False)}, PACKAGE)


@pytest.mark.parametrize("source", [
    "x = t._data\n",
    "t._data[...] = 0\n",
    "y = Tensor._wrap(a)\n",
    "ok = hasattr(out, '_data')\n",
])
def test_private_access_checker_catches(source):
    assert private_access({"cnnlab.viz.features": (source, False)})
    assert not private_access({"cnnlab._ops.conv": (source, False)})  # the engine may

"""wcgen's imports point down its layer order, and no package-level cycle
exists (issue 13). The order, bottom first (docs/API.md, "Layout"):

  0  wcgen.errors, wcgen.core        state, files, checkpoints, grids
  1  wcgen.objectives, wcgen.classification_losses, wcgen.augment
  2  wcgen.data, wcgen.models
  3  wcgen.methods
  4  wcgen.eval
  5  wcgen.train                     the driver
  6  wcgen.experiments, wcgen.cli    tables and sweeps over the driver;
                                    the launchers' start-up

A module may import its own layer's other modules and any lower layer;
`wcgen/__init__.py` (the public face) may import anything.
"""

import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = {
    "wcgen.errors": 0, "wcgen.core": 0,
    "wcgen.objectives": 1, "wcgen.classification_losses": 1,
    "wcgen.augment": 1,
    "wcgen.data": 2, "wcgen.models": 2,
    "wcgen.methods": 3,
    "wcgen.eval": 4,
    "wcgen.train": 5,
    "wcgen.experiments": 6, "wcgen.cli": 6,
}


def _unit(module: str) -> str:
  """The layered unit a dotted wcgen module belongs to."""
  parts = module.split(".")
  return ".".join(parts[:2])


def _imports(path: str, module: str):
  """wcgen modules imported anywhere in the file (function bodies too)."""
  with open(path) as f:
    tree = ast.parse(f.read())
  package = module if path.endswith("__init__.py") else module.rpartition(
      ".")[0]
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        anchor = package.split(".")
        anchor = anchor[:len(anchor) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
      names = [f"{base}.{a.name}" for a in node.names] if base == "wcgen" \
          else [base]
    else:
      continue
    for name in names:
      if name == "wcgen" or name.startswith("wcgen."):
        yield node.lineno, name


def _modules():
  root = os.path.join(REPO, "wcgen")
  for directory, _, names in os.walk(root):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(directory, name)
        rel = os.path.relpath(path, REPO)[:-3].replace(os.sep, ".")
        yield path, rel.removesuffix(".__init__")


def test_every_wcgen_unit_has_a_layer():
  units = {_unit(m) for _, m in _modules() if m != "wcgen"}
  assert units <= set(LAYERS), sorted(units - set(LAYERS))


def test_imports_point_down_the_layer_order():
  upward = []
  for path, module in _modules():
    if module == "wcgen":
      continue
    mine = LAYERS[_unit(module)]
    for line, name in _imports(path, module):
      if name == "wcgen":
        upward.append(f"{module}:{line} imports the top-level package")
        continue
      theirs = LAYERS.get(_unit(name))
      assert theirs is not None, f"{module}:{line} imports unknown {name}"
      if theirs > mine:
        upward.append(f"{module}:{line} (layer {mine}) imports {name} "
                      f"(layer {theirs})")
  assert not upward, "\n".join(upward)


@pytest.mark.parametrize("unit", ["wcgen.data", "wcgen.models"])
def test_data_and_models_import_neither_eval_nor_train(unit):
  for path, module in _modules():
    if _unit(module) == unit:
      for line, name in _imports(path, module):
        assert _unit(name) not in ("wcgen.eval", "wcgen.train",
                                   "wcgen.experiments"), f"{module}:{line}"

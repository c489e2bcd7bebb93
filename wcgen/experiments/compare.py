"""The main job's comparison: named runs of one config, side by side.

`make main` (launch/compare.py) trains ERM, the best re-balancing baseline
and the worst-case method on the same data, classifier, steps and seed,
and prints one table with class names: validation accuracy (what choices
are made on) beside the test accuracy read once at the end of each run.
"""

from typing import Any, Dict, List, Sequence

from wcgen.core import results as results_lib
from wcgen.data import specs

# Each run of the comparison: overrides of the shared config. The best
# re-balancing baseline at every budget measured so far is logit
# adjustment (docs/RESULTS.md, Table 1).
PRESETS: Dict[str, Dict[str, Any]] = {
    "erm": {"method.name": "erm"},
    "logit_adjusted": {"method.name": "erm", "loss.name": "logit_adjusted"},
    "worst_case": {"method.name": "worst_case"},
}
DEFAULT_RUNS = ("erm", "logit_adjusted", "worst_case")


def _pct(value) -> str:
  return "-" if value is None else f"{100 * value:.2f}"


def comparison_table(names: Sequence[str],
                     results: List[results_lib.RunResults]) -> str:
  """Markdown: one row per run, overall and per-class test accuracy, the
  classes named."""
  first = results[0]
  classes = specs.class_names(first.dataset)
  head = ("| run | val acc. | test acc. | test balanced | " +
          " | ".join(classes) + " |")
  lines = [head, "|" + "---|" * (4 + len(classes))]
  for name, r in zip(names, results):
    per_class = " | ".join(_pct(a) for a in
                           (r.test_per_class_accuracy or
                            [None] * len(classes)))
    lines.append(f"| {name} | {_pct(r.val_accuracy)} | "
                 f"{_pct(r.test_accuracy)} | "
                 f"{_pct(r.test_balanced_accuracy)} | {per_class} |")
  counts = ", ".join(str(c) for c in first.train_class_counts)
  lines += ["", f"{first.dataset}, imbalance factor "
            f"{first.imbalance_factor:g} ({counts} training images per "
            f"class), seed {first.seed}, {first.steps} steps of batch "
            f"{first.batch_size}; the final classifier of each run; test "
            "accuracy read once, at the end."]
  return "\n".join(lines) + "\n"

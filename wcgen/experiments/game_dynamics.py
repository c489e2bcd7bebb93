"""How far each finished game's worst case moved, read from its training log.

One recipe of the per-sample game runs in two regimes from seed to seed
(docs/RESULTS.md, "The game's two regimes"): Q stays near its seeds, or
it leaves the data in the game's first steps and stays off it, where it
costs accuracy. A run's accuracy shows this only indirectly; the metrics
the game logs at every log step (metrics.jsonl) show it directly, and a
table of them is the command behind the figures RESULTS.md quotes
("the residual's RMS was 0.33 on average over the game's steps").

Over "the game's steps" means the logged steps after `method.warmup_steps`,
the steps where C trains on Q (G and the critic may train before them:
the paper's G(z, y) game learns to draw classes during the warm-up).
"""

import dataclasses
import os
from typing import Callable, Dict, List, Optional

import numpy as np

from wcgen.core import files
from wcgen.core import results as results_lib

# What methods.worst_case logs at every log step, and how the table shows
# it: (name, words, scale, digits).
RESIDUAL = "perturbation_rms"  # RMS of G(x_i, y_i, z) - x_i, pixels in [-1, 1]
METRICS = ((RESIDUAL, "residual RMS", 1.0, 3),
           ("w_distance", "critic's distance", 1.0, 2),
           ("c_acc_fake_eval", "C right on Q, inference mode (%)", 100.0, 1))

# A per-sample run whose residual RMS, averaged over the game's steps, is
# above this is "off the data" (a tenth of the [-1, 1] pixel range). The 24
# per-sample runs of G's lr 6e-4 archived by session 29 average at most
# 0.07 or at least 0.33, nothing between, so any value in (0.07, 0.33)
# splits them the same way.
OFF_DATA_RMS = 0.2


@dataclasses.dataclass(frozen=True)
class GameDynamics:
  """One run's game metrics: the first logged step after the warm-up, the
  residual's RMS there (None without a residual: the paper's G(z, y)),
  and each of METRICS averaged over the game's logged steps (None when
  the run did not log it)."""
  first_step: int
  first_residual_rms: Optional[float]
  means: Dict[str, Optional[float]]

  @property
  def off_data(self) -> Optional[bool]:
    """Whether Q left the data (None without a residual)."""
    mean = self.means.get(RESIDUAL)
    return None if mean is None else mean > OFF_DATA_RMS


def read(workdir: str, warmup_steps: int) -> Optional[GameDynamics]:
  """The game metrics of the run in `workdir` after `warmup_steps`, or None
  for a run that logged none of them (ERM, a control)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return None
  game = [row for row in files.read_jsonl(path)
          if row.get("step", 0) > warmup_steps
          and any(name in row for name, *_ in METRICS)]
  if not game:
    return None
  game.sort(key=lambda row: row["step"])

  def mean(name: str) -> Optional[float]:
    values = [row[name] for row in game if name in row]
    return float(np.mean(values)) if values else None

  return GameDynamics(first_step=game[0]["step"],
                      first_residual_rms=game[0].get(RESIDUAL),
                      means={name: mean(name) for name, *_ in METRICS})


def _number(value: Optional[float], digits: int, scale: float = 1.0) -> str:
  return "-" if value is None else f"{scale * value:.{digits}f}"


def table(runs: Dict[str, List[results_lib.RunResults]],
          run_dir: Callable[[str, int], str]) -> str:
  """Markdown: one row per seed of every run in `runs` ({name: results})
  that logged game metrics, `run_dir(name, seed)` its folder; then how
  many of the seeds with a residual left the data. Empty when no run
  played a game."""
  rows, off, with_residual = [], 0, 0
  for name, found in runs.items():
    for r in found:
      dynamics = read(run_dir(name, r.seed),
                      int(r.config["method"]["warmup_steps"]))
      if dynamics is None:
        continue
      if dynamics.off_data is not None:
        with_residual += 1
        off += dynamics.off_data
      rows.append(
          f"| {name} | {r.seed} | "
          f"{_number(r.val_accuracy, 2, 100.0)}"
          f" | {_number(dynamics.first_residual_rms, 3)} "
          f"(step {dynamics.first_step}) | "
          + " | ".join(_number(dynamics.means[m], digits, scale)
                       for m, _, scale, digits in METRICS)
          + " | " + {None: "-", True: "**off the data**",
                     False: "near its seeds"}[dynamics.off_data] + " |")
  if not rows:
    return ""
  head = (["run", "seed", "val acc.", "residual RMS, first logged step"] +
          [f"{words}, mean" for _, words, *_ in METRICS] + ["Q"])
  return "\n".join(
      ["How each game's worst case moved (metrics.jsonl, means over the "
       "logged steps after the warm-up; residual RMS in pixels of the "
       f"[-1, 1] range; off the data: mean residual RMS > {OFF_DATA_RMS}):",
       "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head), *rows,
       "", f"{off} of {with_residual} seeds with a residual left the data."]
  ) + "\n"


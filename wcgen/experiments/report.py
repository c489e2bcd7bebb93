"""Writes a table's results: Markdown and CSV (ours as mean ± std over
seeds, the paper's number beside it, labelled) and a plot where the table
has one. Every file is written atomically."""

import csv
import io
import math
import os
from typing import Dict, List, Sequence

# Figures are built without pyplot (no global backend to set, nothing
# left open), so the library can be used inside notebooks.
from matplotlib.figure import Figure
import numpy as np

from wcgen.core import files
from wcgen.data import specs
from wcgen.errors import DataError
from wcgen.experiments.tables import Table

# {row id: {column id: [the metric of each seed's run]}}: accuracies in
# [0, 1], distances as they are (Table.scale says which).
Results = Dict[str, Dict[str, Sequence[float]]]


def mean_std(values: Sequence[float], scale: float = 100.0):
  """(mean, sample std) of values * scale (accuracies in percent); std is 0
  for a single seed."""
  scaled = scale * np.asarray(values, np.float64)
  std = float(scaled.std(ddof=1)) if len(scaled) > 1 else 0.0
  return float(scaled.mean()), std


def cell_text(values: Sequence[float], scale: float = 100.0) -> str:
  if not len(values):
    return "—"
  mean, std = mean_std(values, scale)
  return f"{mean:.2f} ± {std:.2f}" if len(values) > 1 else f"{mean:.2f}"


def paper_text(value) -> str:
  return "—" if value is None else f"{value:.2f}"


def markdown(table: Table, results: Results, header: str = "") -> str:
  """One row per method; per column, ours (mean ± std, n seeds) and the
  paper's number."""
  cols = table.columns
  # A table with no paper numbers (a stand-in on another dataset, or beyond
  # the paper) has no paper columns.
  has_paper = any(r.paper for r in table.rows)
  head = ["method"]
  for c in cols:
    head += ([f"{c.label} (ours)", f"{c.label} (paper)"] if has_paper else
             [c.label])
  lines = [f"## {table.title}", ""]
  if header:
    lines += [header, ""]
  lines += ["| " + " | ".join(head) + " |",
            "|" + "---|" * len(head)]
  for row in table.rows:
    cells = [row.label if row.overrides is not None else
             f"{row.label} (not in wcgen)"]
    for c in cols:
      cells.append(cell_text(results.get(row.id, {}).get(c.id, ()),
                             table.scale))
      if has_paper:
        cells.append(paper_text(row.paper.get(c.id)))
    lines.append("| " + " | ".join(cells) + " |")
  seeds = sorted({len(v) for r in results.values() for v in r.values()})
  note = (f"Ours: mean ± sample std over {'/'.join(map(str, seeds)) or 0}"
          f" seed(s) of {table.metric_note}.")
  if has_paper:
    note += (" Paper: the numbers printed in the paper, from its own code "
             "and budget, which we do not have.")
  else:
    note += " The paper has no numbers for this setting."
  lines += ["", note]
  return "\n".join(lines) + "\n"


def csv_text(table: Table, results: Results) -> str:
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(["table", "row", "column", "seeds", "mean", "std", "paper",
                   "values"])
  for row in table.rows:
    for c in table.columns:
      values = list(results.get(row.id, {}).get(c.id, ()))
      mean, std = (mean_std(values, table.scale) if values else
                   (math.nan, math.nan))
      paper = row.paper.get(c.id)
      writer.writerow([
          table.id, row.id, c.id, len(values),
          "" if not values else f"{mean:.4f}",
          "" if not values else f"{std:.4f}",
          "" if paper is None else f"{paper:.2f}",
          " ".join(f"{table.scale * v:.4f}" for v in values)])
  return out.getvalue()


def plot(table: Table, results: Results, path: str) -> bool:
  """The metric against the columns' x (one panel per dataset); returns
  whether anything was drawn."""
  if table.plot_x_label is None:
    return False
  datasets: List[str] = []  # those with any result, in table order
  for c in table.columns:
    if c.dataset not in datasets and any(
        results.get(r.id, {}).get(c.id) for r in table.rows):
      datasets.append(c.dataset)
  if not datasets:
    return False
  fig = Figure(figsize=(4.2 * len(datasets), 3.4))
  axes = fig.subplots(1, len(datasets), squeeze=False)
  drawn = False
  for ax, dataset in zip(axes[0], datasets):
    cols = sorted((c for c in table.columns if c.dataset == dataset),
                  key=lambda c: c.x)
    for row in table.rows:
      pts = [(c.x, *mean_std(results[row.id][c.id], table.scale))
             for c in cols
             if results.get(row.id, {}).get(c.id)]
      if not pts:
        continue
      x, m, s = map(np.asarray, zip(*pts))
      ax.errorbar(x, m, yerr=s, marker="o", capsize=3, label=row.label)
      drawn = True
    ax.set_xscale("log")
    ax.set_xlabel(table.plot_x_label)
    ax.set_ylabel(table.metric_label)
    ax.set_title(dataset)
  if drawn:
    for ax in axes[0]:
      ax.legend(fontsize=7)
    files.atomic_write_figure(fig, path)
  return drawn


def _pct(values) -> str:
  values = [v for v in values if v is not None]
  return f"{100 * np.mean(values):.1f}" if values else "—"


def _class_names(result, k: int) -> Sequence[str]:
  """The class names of a run's dataset (from its recorded config), or the
  class indices for a dataset wcgen does not know."""
  try:
    names = specs.class_names(result.config["data"]["name"])
  except (KeyError, TypeError, DataError):  # an unknown dataset
    return [str(c) for c in range(k)]
  return names if len(names) == k else [str(c) for c in range(k)]


def breakdown_markdown(table: Table, runs) -> str:
  """Per column: each row's many/medium/few-shot and per-class test
  accuracy (%), averaged over seeds, from the runs' results.json.

  runs: {row id: {column id: [RunResults of each seed]}}.
  """
  lines = [f"## {table.title}: accuracy by class", "",
           "Mean over seeds of each run's final test accuracy (%) per "
           "training-frequency group (many-shot: > 100 training images, "
           "medium: 20-100, few: < 20) and per class (the training images "
           "per class are in the column's heading row).", ""]
  for column in table.columns:
    if column.metric:  # scored on another test set (e.g. distorted)
      continue
    rows = [(r, runs[r.id][column.id]) for r in table.rows
            if runs.get(r.id, {}).get(column.id)]
    if not rows:
      continue
    counts = rows[0][1][0].train_class_counts
    k = len(counts)
    names = _class_names(rows[0][1][0], k)
    lines += [f"### {column.label}", "",
              "| method | seeds | many | medium | few | " +
              " | ".join(f"{c} ({n})" for c, n in zip(names, counts)) + " |",
              "|" + "---|" * (k + 5)]
    for row, seed_runs in rows:
      shots = [r.test_shot_accuracy for r in seed_runs]
      per_class = np.mean([r.test_per_class_accuracy for r in seed_runs], 0)
      lines.append("| " + " | ".join(
          [row.label, str(len(seed_runs))] +
          [_pct([s[g] for s in shots]) for g in ("many", "medium", "few")] +
          [f"{100 * a:.1f}" for a in per_class]) + " |")
    lines.append("")
  return "\n".join(lines)


def write(table: Table, results: Results, directory: str,
          header: str = "", runs=None) -> Dict[str, str]:
  """table<id>.md, table<id>.csv, table<id>.png (if any) and, given the
  runs of an accuracy table, table<id>_by_class.md in directory."""
  base = os.path.join(directory, f"table{table.id}")
  files.atomic_write_bytes(base + ".md",
                           markdown(table, results, header).encode())
  files.atomic_write_bytes(base + ".csv", csv_text(table, results).encode())
  written = {"md": base + ".md", "csv": base + ".csv"}
  if runs and table.metric == "test_accuracy":
    files.atomic_write_bytes(base + "_by_class.md",
                             breakdown_markdown(table, runs).encode())
    written["by_class"] = base + "_by_class.md"
  if plot(table, results, base + ".png"):
    written["png"] = base + ".png"
  return written

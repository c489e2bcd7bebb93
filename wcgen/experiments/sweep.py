"""Named runs of one base config, chosen on the validation split.

A sweep is a list of (name, overrides) pairs (see configs/sweeps/*.py).
Each run trains in WORKDIR/<name>/seed<s> through the one driver, with
`evaluate_test=False` unless the sweep says otherwise, so that the test
set is never read while choices are being made. A finished run is read
back only when its recorded config equals the run's (the driver checks),
so the same command continues an interrupted sweep and never reuses a run
of another config. The summary (`sweep.md`) lists each run's validation
accuracy, many/medium/few-shot accuracy, the rarest classes and wall time;
sweeps sharing a workdir each keep their own summary (`<sweep name>.md`).
"""

import os
import re
import statistics
from typing import Any, Dict, List, Optional, Sequence, Tuple

from absl import logging
import ml_collections
import numpy as np
from scipy import stats

from wcgen.core import files
from wcgen.core import results as results_lib
from wcgen.data import specs
from wcgen.errors import ConfigError
from wcgen.experiments import archive
from wcgen.experiments import game_dynamics
from wcgen.experiments import paired
from wcgen.experiments import tables
from wcgen.train import posthoc
from wcgen.train import trainer

Overrides = Dict[str, Any]
Sweep = Sequence[Tuple[str, Overrides]]


def run_config(base: ml_collections.ConfigDict, overrides: Overrides,
               seed: int, read_test: bool) -> ml_collections.ConfigDict:
  """`base` with the dotted `overrides`, the training seed, and whether the
  test set is read at the end."""
  config = base.copy_and_resolve_references()
  config.update_from_flattened_dict(
      {**overrides, "seed": seed, "schedule.evaluate_test": read_test})
  return config


def run_dir(workdir: str, name: str, seed: int) -> str:
  """Where run `name` of a sweep trains with `seed`."""
  return os.path.join(workdir, name, f"seed{seed}")


def run_sweep(base: ml_collections.ConfigDict, sweep: Sweep, workdir: str,
              seeds: Sequence[int] = (0,), read_test: bool = False,
              only: Optional[Sequence[str]] = None,
              summary_name: str = "sweep.md", train: bool = True,
              archive_dir: Optional[str] = None
              ) -> Dict[str, List[results_lib.RunResults]]:
  """Trains (or reads) every run; returns {name: [results per seed]} and
  keeps WORKDIR/<summary_name> up to date as runs finish. With `only`,
  only those runs train; the others' finished seeds are read and listed.
  When training, every run's seeds finished beyond `seeds` are read and
  listed (and returned) too: a command that trains seed 0 does not drop
  seeds 1-2 from the summary; nor does the summary written after one run
  drop a later run's seeds that finished before this command.

  With `archive_dir`, each run's records are copied there
  (`archive.archive_runs`) as soon as it finishes, before the next run
  starts: the workdir is not committed, and a sweep stopped part-way
  must not take the records of its finished runs with it.

  With `train=False` nothing is trained and nothing written: only the
  seeds that finished are returned (a run is read only when its recorded
  config equals the sweep's; another config's results are refused in one
  line, as when training). A stopped run (errors.Stopped, e.g. SIGTERM)
  stops the sweep: rerun the same command to continue.
  """
  results = {}
  trains = lambda name: train and (not only or name in only)
  # Seeds finished in the workdir beyond `seeds` (e.g. seeds 1-2 when this
  # command trains with --seeds=1) are listed too when training, so that
  # the summary written, and archived, is the workdir's whole record rather
  # than this command's seeds only.
  others = {name: _finished(base, name, overrides, workdir,
                            [s for s in _seed_folders(workdir, name)
                             if s not in seeds], read_test,
                            skip_other_configs=True)
            for name, overrides in sweep} if train else {}
  # Runs left out by `only` are read, not trained, and read first: the
  # summary written after each trained run lists every finished run of the
  # sweep, those after it in the sweep's order too, so that a sweep
  # trained a run at a time keeps one whole summary.
  for name, overrides in sweep:
    if not trains(name):
      results[name] = _finished(base, name, overrides, workdir, seeds,
                                read_test)
  # The seeds of runs still to train that finished before this command
  # (a sweep continued, or run again with one seed more): listed in the
  # summaries written before their turn, which would drop them otherwise.
  waiting = {name: _finished(base, name, overrides, workdir, seeds,
                             read_test, skip_other_configs=True)
             for name, overrides in sweep if trains(name)}
  for name, overrides in sweep:
    if not trains(name):
      continue
    for seed in seeds:
      directory = run_dir(workdir, name, seed)
      results.setdefault(name, []).append(trainer.train_and_evaluate(
          run_config(base, overrides, seed, read_test), directory))
      done = {(n, r.seed) for n, found in results.items() for r in found}
      listed = {n: others.get(n, []) + [r for r in waiting.get(n, [])
                                        if (n, r.seed) not in done]
                for n, _ in sweep}
      files.atomic_write_bytes(
          os.path.join(workdir, summary_name),
          summary(_with_seeds(results, listed, sweep), sweep).encode())
      if archive_dir is not None:
        archive.archive_runs(workdir, archive_dir,
                             [os.path.relpath(directory, workdir)],
                             summaries=[summary_name])
  return _with_seeds(results, others, sweep)


def _seed_folders(workdir: str, name: str) -> List[int]:
  """The seeds s of WORKDIR/<name>/seed<s> folders, finished or not."""
  directory = os.path.join(workdir, name)
  if not os.path.isdir(directory):
    return []
  return sorted(int(m.group(1)) for m in map(
      re.compile(r"seed(\d+)").fullmatch, os.listdir(directory)) if m)


def _finished(base: ml_collections.ConfigDict, name: str,
              overrides: Overrides, workdir: str, seeds: Sequence[int],
              read_test: bool, skip_other_configs: bool = False
              ) -> List[results_lib.RunResults]:
  """The results of run `name`'s `seeds` finished in `workdir`. A seed
  recorded with another config is refused in one line (ConfigError), or
  with `skip_other_configs` left out with a warning: a seed the command
  did not name is not a reason to stop it."""
  found = []
  for seed in seeds:
    try:
      done = trainer.finished_results(
          run_config(base, overrides, seed, read_test),
          run_dir(workdir, name, seed))
    except ConfigError as e:
      if not skip_other_configs:
        raise
      logging.warning("not listed in the summary: %s", e)
      continue
    if done is not None:
      found.append(done)
  return found


def _with_seeds(results: Dict[str, List[results_lib.RunResults]],
                others: Dict[str, List[results_lib.RunResults]],
                sweep: Sweep) -> Dict[str, List[results_lib.RunResults]]:
  """{name: results} of the runs with any, in the sweep's order, each
  run's seeds from `results` and `others` in order."""
  merged = {name: sorted(results.get(name, []) + others.get(name, []),
                         key=lambda r: r.seed) for name, _ in sweep}
  return {name: runs for name, runs in merged.items() if runs}


def read_sweep(base: ml_collections.ConfigDict, sweep: Sweep, workdir: str,
               seeds: Sequence[int] = (0,), read_test: bool = False
               ) -> Dict[str, List[results_lib.RunResults]]:
  """run_sweep(..., train=False): the finished runs, nothing trained."""
  return run_sweep(base, sweep, workdir, seeds, read_test, train=False)


def report(base: ml_collections.ConfigDict, sweep: Sweep, workdir: str,
           seeds: Sequence[int] = (0,), read_test: bool = False,
           distortions: Sequence[str] = (), final: Sequence[str] = (),
           figure_path: Optional[str] = None,
           against: Optional[str] = None,
           image_paired: bool = False,
           dynamics: bool = False) -> Tuple[str, Optional[str]]:
  """(summary, path of the robustness figure or None) of the finished runs,
  nothing trained: `distortions` (KIND:LEVEL) add each run's accuracy on
  distorted copies of the validation split, drawn to `figure_path`;
  `final` names the runs chosen on validation, whose test set is read
  once here (clean and with each distortion) instead of training them
  again; `against` names the run every other is tested against, column
  by column (see `versus`), and with `image_paired` also image by image
  on validation (and on the test set between --final runs; see
  `paired_table`); `dynamics` adds how far each game's worst case moved
  (game_dynamics.table)."""
  names = {name for name, _ in sweep}
  unchosen = set(final) - names
  if unchosen:
    raise ConfigError(f"--final names runs not in this report: "
                      f"{sorted(unchosen)}")
  if image_paired and against is None:
    raise ConfigError("--paired compares every run with --against's run; "
                      "give --against too")
  if against is not None and against not in names:
    raise ConfigError(f"--against={against} is not a run of this report; "
                      f"choose one of {sorted(names)}")
  results = read_sweep(base, sweep, workdir, seeds, read_test)
  extra = distorted_validation(workdir, list(results), seeds, distortions)
  if final:
    refuse_partial_test_reads(workdir, results, final, seeds)
    extra.update(posthoc_columns(workdir, [n for n in results if n in final],
                                 seeds, distortions, split="test",
                                 clean=True))
  drawn = figure_path is not None and robustness_figure(
      robustness_series({name: [r.val_accuracy for r in found]
                         for name, found in results.items()},
                        distortions, extra), figure_path)
  text = summary(results, sweep, extra)
  if against is not None:
    text += "\n" + versus(results, sweep, against, extra)
  if image_paired:
    text += "\n" + paired_table(workdir, results, sweep, against, final)
  if dynamics:
    text += "\n" + (game_dynamics.table(
        results, lambda name, seed: run_dir(workdir, name, seed))
        or "No run of this report logged game metrics.\n")
  if final:
    text += "\n" + by_class(results, sweep, final, {
        name: [posthoc.score_distorted(run_dir(workdir, name, r.seed),
                                       [{}])[0]["per_class_accuracy"]
               for r in results[name]]
        for name in final if name in results}, against)
  return text, figure_path if drawn else None


def refuse_partial_test_reads(
    workdir: str, results: Dict[str, List[results_lib.RunResults]],
    final: Sequence[str], seeds: Sequence[int]) -> None:
  """Raises ConfigError, before anything is read, if --final would make a
  first reading of the test set of a run whose requested seeds have not
  all finished: a configuration's test set is read once, with every seed,
  so that no seed's test figure is seen while the others may still be
  chosen, stopped or run again. Records already read are printed again."""
  for name in final:
    done = {r.seed for r in results.get(name, [])}
    missing = sorted(set(seeds) - done)
    unread = sorted(seed for seed in done if not posthoc.was_test_read(
        run_dir(workdir, name, seed)))
    if missing and unread:
      raise ConfigError(
          f"--final={name}: seeds {missing} have not finished; train them "
          f"before the test set of seeds {unread} is read (a "
          f"configuration's test set is read once, with all its seeds)")


def _paired_cell(workdir: str, results, name: str, against: str,
                 split: str) -> str:
  seeds = sorted({r.seed for r in results[name]} &
                 {r.seed for r in results[against]})
  flags = lambda run: [posthoc.correct_per_image(run_dir(workdir, run, s),
                                                 split) for s in seeds]
  found = paired.image_paired(flags(name), flags(against))
  count = f"{len(seeds)} seed" + "s" * (len(seeds) != 1)
  if found["discordant"] == 0:
    return f"+0.00 (the same on every image, {count})"
  return (f"{100 * found['delta']:+.2f} ± {100 * found['se']:.2f} "
          f"(p {found['p']:.3f}, {count}, "
          f"{100 * found['discordant']:.1f}% discordant)")


def paired_table(workdir: str,
                 results: Dict[str, List[results_lib.RunResults]],
                 sweep: Sweep, against: str, final: Sequence[str] = ()
                 ) -> str:
  """Markdown table of every run against `against`, image by image
  (experiments.paired): the difference of the accuracies averaged over
  the seeds both have, ± its standard error over the evaluated images.
  Validation for every run; the test set only between runs both named in
  `final` (whose test set --final reads), never a first reading.

  Welch's test (`versus`) sees the seeds' spread on one fixed split; this
  sees the split's own sampling error, which every seed shares: a
  validation difference larger than the seeds' spread but inside this
  error is a property of those validation images as much as of the
  methods."""
  if against not in results:
    return f"`{against}` has no finished run to compare with.\n"
  splits = [("val", "validation")] + (
      [("test", "test")] if against in final else [])
  lines = [f"Against `{against}`, image by image: difference of the "
           "accuracies (points, mean over the seeds both have) ± its "
           "standard error over the images (normal p; discordant: the "
           "images the two score differently, averaged over seeds).", "",
           "| run | " + " | ".join(t for t, _ in splits) + " |",
           "|---|" + "---|" * len(splits)]
  for name, _ in sweep:
    if name == against or name not in results:
      continue
    lines.append(f"| {name} | " + " | ".join(
        _paired_cell(workdir, results, name, against, split)
        if split == "validation" or name in final else "-"
        for _, split in splits) + " |")
  return "\n".join(lines) + "\n"


def _class_row(label: str, values: np.ndarray, signed: bool = False) -> str:
  fmt = "{:+.1f}" if signed else "{:.1f}"
  return f"| {label} | " + " | ".join(fmt.format(100 * v)
                                       for v in values) + " |"


def by_class(results: Dict[str, List[results_lib.RunResults]], sweep: Sweep,
             final: Sequence[str], test_per_class: Dict[str, List[Sequence[
                 float]]], against: Optional[str] = None) -> str:
  """Markdown table of the `final` runs' accuracy per class, by name, on
  validation and on the test set (mean over seeds; `test_per_class` holds
  each seed's test accuracies per class, in the order of `results`), and,
  when `against` is one of them, each other run's difference to it on
  both splits, seed by seed where both have the seed. A gain on
  validation that the test set does not repeat shows here in which
  classes it lives (one or two classes can carry a whole difference)."""
  rows = [name for name, _ in sweep if name in final and name in results
          and name in test_per_class]
  if not rows:
    return "No finished run among --final.\n"
  first = results[rows[0]][0]
  k = len(first.train_class_counts)
  names = specs.class_names(first.dataset)
  val = {n: {r.seed: np.asarray(r.val_per_class_accuracy, float)
             for r in results[n] if r.val_per_class_accuracy is not None}
         for n in rows}
  test = {n: {r.seed: np.asarray(t, float)
              for r, t in zip(results[n], test_per_class[n])} for n in rows}
  lines = ["Accuracy per class (%, mean over seeds; training images per "
           "class in the heading):", "",
           "| run, split | " + " | ".join(
               f"{c} ({n})" for c, n in zip(names, first.train_class_counts))
           + " |", "|---|" + "---|" * k]
  for name in rows:
    for split, seeds in (("val", val[name]), ("test", test[name])):
      if seeds:
        lines.append(_class_row(f"{name}, {split}",
                                np.mean(list(seeds.values()), 0)))
  if against in rows:
    for name in rows:
      if name == against:
        continue
      for split, by_seed in (("val", val), ("test", test)):
        common = sorted(set(by_seed[name]) & set(by_seed[against]))
        if common:
          lines.append(_class_row(
              f"Δ {name} − {against}, {split} ({len(common)} seeds)",
              np.mean([by_seed[name][s] - by_seed[against][s]
                       for s in common], 0), signed=True))
  return "\n".join(lines) + "\n"


def every_run(sweeps: Sequence[Sweep]) -> List[Tuple[str, Overrides]]:
  """The runs of several sweeps in order, each name once (sweeps sharing
  a workdir may list the same run, with the same overrides)."""
  runs = {}
  for sweep in sweeps:
    for name, overrides in sweep:
      runs.setdefault(name, overrides)
  return list(runs.items())


def parse_distortion(text: str) -> Tuple[str, Overrides]:
  """"gaussian:0.3" -> ("G(0.3)", the config.data overrides)."""
  kind, sep, level = text.partition(":")
  short = tables.DISTORTION_SHORT.get(kind)
  try:
    value = float(level)
  except ValueError:
    value = None
  if not sep or short is None or value is None or value <= 0:
    raise ConfigError(f"distortion {text!r}: write KIND:LEVEL with KIND "
                      "gaussian or salt_pepper and LEVEL > 0, e.g. "
                      "gaussian:0.3")
  return f"{short}({value:g})", {"data.test_distortion": kind,
                                 "data.test_distortion_level": value}


_SPLIT_PREFIX = {"validation": "val", "test": "test"}


def column_title(split: str, distortion: Optional[str] = None) -> str:
  """"val G(0.3)", "test G(0.3)", "test": the summary's header of a split
  scored after training, distorted (KIND:LEVEL) or clean (None)."""
  prefix = _SPLIT_PREFIX[split]
  return prefix if distortion is None else (
      f"{prefix} {parse_distortion(distortion)[0]}")


def posthoc_columns(workdir: str, names: Sequence[str], seeds: Sequence[int],
                    distortions: Sequence[str], split: str = "validation",
                    clean: bool = False) -> Dict[str, Dict[str, List[float]]]:
  """{column_title: {run name: [accuracy of each finished seed]}}: each
  finished run's final classifier on `split`, clean first if `clean`, then
  with each distortion (wcgen.train.posthoc, kept in the run's posthoc/
  folder). On the validation split it measures robustness while choices
  are being made; on the test split it is the one reading of the test set
  for configurations already chosen (sweep --final)."""
  parsed = ([(column_title(split), {})] if clean else []) + [
      (column_title(split, d), parse_distortion(d)[1]) for d in distortions]
  out = {title: {} for title, _ in parsed}
  for name in names:
    for seed in seeds:
      run = run_dir(workdir, name, seed)
      if not os.path.exists(os.path.join(run, "results.json")):
        continue
      scored = posthoc.score_distorted(run, [o for _, o in parsed],
                                       split=split)
      for (title, _), result in zip(parsed, scored):
        out[title].setdefault(name, []).append(result["accuracy"])
  return out


def distorted_validation(workdir: str, names: Sequence[str],
                         seeds: Sequence[int], distortions: Sequence[str]
                         ) -> Dict[str, Dict[str, List[float]]]:
  """posthoc_columns on distorted copies of the validation split:
  robustness, measured without the test set."""
  return posthoc_columns(workdir, names, seeds, distortions, "validation")


Series = Tuple[List[float], List[float], List[float], int]


def robustness_series(clean: Dict[str, List[float]],
                      distortions: Sequence[str],
                      scored: Dict[str, Dict[str, List[float]]]
                      ) -> Dict[str, Dict[str, Series]]:
  """{kind: {run name: (levels, mean %, std %, seeds)}}: each run's
  validation accuracy against the level of each kind of distortion, level
  0 being the clean split. `clean` is {run name: [validation accuracy of
  each seed]}, `scored` distorted_validation's answer for `distortions`.
  A run appears under a kind only where it has a distorted score; `seeds`
  is the fewest seeds behind any of its points."""
  levels: Dict[str, List[Tuple[float, str]]] = {}
  for text in distortions:
    overrides = parse_distortion(text)[1]
    levels.setdefault(overrides["data.test_distortion"], []).append(
        (overrides["data.test_distortion_level"],
         column_title("validation", text)))
  out = {}
  for kind, points in levels.items():
    for name, accuracies in clean.items():
      series = [(0.0, accuracies)] + [
          (level, scored[title][name]) for level, title in sorted(points)
          if scored.get(title, {}).get(name)]
      if len(series) == 1:
        continue
      out.setdefault(kind, {})[name] = (
          [level for level, _ in series],
          [100 * statistics.mean(v) for _, v in series],
          [100 * statistics.stdev(v) if len(v) > 1 else 0.0
           for _, v in series],
          min(len(v) for _, v in series))
  return out


_KIND_AXIS = {"gaussian": "Gaussian noise σ (pixels on [0, 1])",
              "salt_pepper": "salt-and-pepper rate r"}


def robustness_figure(series: Dict[str, Dict[str, Series]],
                      path: str) -> bool:
  """robustness_series drawn: one panel per kind of distortion, one line
  per run with its seed spread. Returns whether anything was drawn."""
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  if not series:
    return False
  fig = Figure(figsize=(4.6 * len(series), 3.6))
  axes = fig.subplots(1, len(series), squeeze=False)[0]
  for ax, (kind, runs) in zip(axes, series.items()):
    for name, (x, mean, std, seeds) in runs.items():
      ax.errorbar(x, mean, yerr=std, marker="o", capsize=3,
                  label=f"{name} ({seeds} seed{'s' * (seeds > 1)})")
    ax.set_xlabel(_KIND_AXIS.get(kind, kind))
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(alpha=0.3)
  fig.suptitle("Validation split with each distortion on its "
               "data.test_distortion_fraction of the images (level 0: clean)",
               fontsize=9)
  axes[-1].legend(fontsize=7, loc="lower left")
  files.atomic_write_figure(fig, path)
  return True


def _mean_std(values: List[Optional[float]]) -> str:
  values = [100 * v for v in values if v is not None]
  if not values:
    return "-"
  if len(values) == 1:
    return f"{values[0]:.2f}"
  return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def welch(a: Sequence[float], b: Sequence[float]
          ) -> Tuple[float, float, float, float]:
  """(mean(a) - mean(b), Welch's t, its degrees of freedom, two-sided p):
  is a difference of two runs' means larger than their seeds' spread
  allows by chance (unequal variances, as two methods have)? t and p are
  nan when either side has fewer than two seeds or neither varies."""
  delta = float(np.mean(a) - np.mean(b))
  if min(len(a), len(b)) < 2 or np.var(a) + np.var(b) == 0:
    return delta, float("nan"), float("nan"), float("nan")
  test = stats.ttest_ind(a, b, equal_var=False)
  return delta, float(test.statistic), float(test.df), float(test.pvalue)


def _versus_cell(values: List[float], base: List[float]) -> str:
  if not values or not base:
    return "-"
  delta, t, df, p = welch(values, base)
  if np.isnan(t):
    seeds = min(len(values), len(base))
    why = "one seed" if seeds < 2 else "no spread"
    return f"{100 * delta:+.2f} (untested: {why})"
  return f"{100 * delta:+.2f} (t {t:.1f}, df {df:.1f}, p {p:.3f})"


Columns = Dict[str, Dict[str, List[float]]]  # {title: {run name: values}}


def versus(results: Dict[str, List[results_lib.RunResults]], sweep: Sweep,
           against: str, extra: Optional[Columns] = None) -> str:
  """Markdown table of every run against the run `against`, column by
  column (validation accuracy, test accuracy where read, then `extra`'s):
  the difference of the means in points, Welch's t over the seeds, its
  degrees of freedom and two-sided p. "A difference inside the seed
  spread is not a win": this says which are, from the runs themselves."""
  if against not in results:
    return f"`{against}` has no finished run to test against.\n"
  columns = {"val acc.": {n: [r.val_accuracy for r in runs]
                          for n, runs in results.items()},
             "test (in run)": {n: [r.test_accuracy for r in runs
                               if r.test_accuracy is not None]
                               for n, runs in results.items()},
             **(extra or {})}
  columns = {title: column for title, column in columns.items()
             if column.get(against)}
  lines = [f"Against `{against}`: difference of the means (points), "
           "Welch's t-test over seeds (two-sided p; p >= 0.05 is inside the "
           "seed spread, not a difference).", "",
           "| run | " + " | ".join(columns) + " |",
           "|---|" + "---|" * len(columns)]
  for name, _ in sweep:
    if name == against or name not in results:
      continue
    lines.append(f"| {name} | " + " | ".join(
        _versus_cell(column.get(name, []), column[against])
        for column in columns.values()) + " |")
  return "\n".join(lines) + "\n"


def _code_versions(runs: Sequence[results_lib.RunResults]) -> str:
  """The commits (short, "+dirty" kept) that finished the runs, each once,
  in seed order; "-" for a run that did not record one."""
  short = [(r.code_version[:7] + ("+dirty" if r.code_version.endswith(
      "+dirty") else "")) if r.code_version else "-" for r in runs]
  return ", ".join(dict.fromkeys(short))


def _minutes_per_run(runs: Sequence[results_lib.RunResults]) -> str:
  """Mean wall time of the seeds whose whole training time is known (its
  total across resumes, or one process's time when it was not resumed);
  a resumed seed without a total is left out and the count says so
  ("15.8 (2 of 3 whole)"); "-" when no seed's time is known."""
  whole = [r.wall_time_sec_total if r.wall_time_sec_total is not None
           else r.wall_time_sec_this_process for r in runs
           if r.wall_time_sec_total is not None or not r.resumed_from_step]
  if not whole:
    return "-"
  minutes = f"{statistics.mean(whole) / 60:.1f}"
  return (minutes if len(whole) == len(runs) else
          f"{minutes} ({len(whole)} of {len(runs)} whole)")


def summary(results: Dict[str, List[results_lib.RunResults]], sweep: Sweep,
            extra: Optional[Dict[str, Dict[str, List[float]]]] = None
            ) -> str:
  """Markdown table of the runs so far: validation accuracy (mean ± std
  over seeds), shot groups, the hardest class (the lowest validation
  accuracy over all the runs listed, when it is not one of the two rarest)
  and the two rarest classes (by name), the test accuracy read at the end
  of training where a run has one, wall time, then `extra`'s columns ({title: {run name: [values]}}, e.g.
  distorted_validation's), and the commits that produced the runs; then
  each run's overrides."""
  extra = extra or {}
  if not results:
    return "No run finished yet.\n"
  first = next(iter(results.values()))[0]
  names = specs.class_names(first.dataset)
  k = len(first.train_class_counts)
  per_class = [r.val_per_class_accuracy for runs in results.values()
               for r in runs if r.val_per_class_accuracy is not None]
  hardest = (int(min(range(k), key=lambda c: statistics.mean(
      p[c] for p in per_class))) if per_class else k - 1)
  shown = ([hardest] if hardest < k - 2 else []) + [k - 2, k - 1]
  titles = [f"{names[c]} (hardest)" if c == hardest and c < k - 2 else
            names[c] for c in shown]
  # A test read at the end of training (--read_test) has a column of its
  # own, apart from --final's reads in `extra`, and only when a run has one.
  in_run = any(r.test_accuracy is not None for runs in results.values()
               for r in runs)
  lines = ["| run | seeds | val acc. | many | medium | few | " +
           " | ".join(titles) + (" | test (in run)" if in_run else "") +
           " | min/run |" + "".join(f" {t} |" for t in extra) + " code |",
           "|---|---|---|---|---|---|" + "---|" * len(shown) +
           "---|" * in_run + "---|" + "---|" * len(extra) + "---|"]
  for name, _ in sweep:
    runs = results.get(name)
    if not runs:
      continue
    shot = lambda g: [(r.val_shot_accuracy or {}).get(g) for r in runs]
    cls = lambda c: [(r.val_per_class_accuracy or [None] * k)[c]
                     for r in runs]
    lines.append(
        f"| {name} | {len(runs)} | {_mean_std([r.val_accuracy for r in runs])}"
        f" | {_mean_std(shot('many'))} | {_mean_std(shot('medium'))} | "
        f"{_mean_std(shot('few'))} | " +
        "".join(f"{_mean_std(cls(c))} | " for c in shown) +
        (f"{_mean_std([r.test_accuracy for r in runs])} | " if in_run
         else "") +
        f"{_minutes_per_run(runs)} |" +
        "".join(f" {_mean_std(column.get(name, []))} |"
                for column in extra.values()) +
        f" {_code_versions(runs)} |")
  lines += ["", "Overrides of each run (on the base config):", ""]
  lines += [f"- `{name}`: " + (", ".join(f"`{k}={v!r}`"
                                         for k, v in overrides.items()) or
                               "none") for name, overrides in sweep
            if name in results]
  return "\n".join(lines) + "\n"

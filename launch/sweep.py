r"""Runs a named sweep of one config on the validation split.

  python launch/sweep.py --config=configs/fmnist_wgan.py \
      --sweep=budget --workdir=workdirs/sweeps/budget [--seeds=1] \
      [--only=erm_1600,...] [--read_test]

Sweeps are listed in configs/sweeps/issue15.py (the default --sweeps) and
configs/sweeps/issue16.py (--sweeps=issue16), each a list of named
overrides. The test set is not read unless --read_test is given: choose
on validation, then read the test set once for the final configuration.
Writes WORKDIR/<sweep>.md (validation accuracy per run) as runs finish.

  python launch/sweep.py --config=configs/fmnist_wgan.py --sweep=all \
      --report_only --seeds=3 --workdir=workdirs/sweeps/issue15

trains nothing: it prints one table of every finished run of every sweep
(each run's config checked against the sweep's, as when training), the
ablation table of docs/RESULTS.md. --distorted_validation=gaussian:0.3,...
adds each run's validation accuracy on distorted copies of the validation
split (kept in each run's posthoc/ folder) and draws them against the
distortion's level in WORKDIR/robustness_<sweep>.png. --final=RUN,...
then reads the test set once for the runs chosen on validation (clean and
with the same distortions; kept in posthoc/ too, as a record that it was
read), instead of training them again with --read_test; it refuses,
before reading anything, a run whose --seeds have not all finished.
--against=RUN
adds a table of every run against RUN (e.g. the control that would
explain a gain without the method), column by column: the difference of
the means and Welch's t-test over the seeds. --paired adds the same
comparison image by image on the validation split (and on the test set
between --final runs): the difference ± the split's own sampling error,
which every seed shares and Welch's test cannot see; it scores each run's
final checkpoint once and keeps the flags in posthoc/ (archived too).
--final adds the per-class table of the chosen runs, validation beside
test. --dynamics adds, per seed of every game, how far its worst case
moved (from metrics.jsonl: the residual's RMS, the critic's distance,
C's accuracy on Q) and which seeds left the data.

--archive=DIR copies the small records of every finished run (results.json,
config.json, metrics.jsonl, fidelity.json and the figures scored after
training, posthoc/*.json) to DIR (when training, each run's as soon as it
finishes), a tracked folder such as
docs/runs/issue15: the workdir is not committed, so without it a fresh
clone cannot print a table again. --report_only --workdir=DIR reads them.
Of the summaries (*.md) it copies only this sweep's, SWEEP.md: another
sweep's summary in this workdir may be older than DIR's.
"""

import os

from absl import app
from absl import flags
from ml_collections import config_flags

from wcgen import cli


FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Base config file.",
                                lock_config=True)
flags.DEFINE_string("sweeps", "issue15", "The sweep file: a module of "
                    "configs/sweeps/ (issue15, issue16).")
flags.DEFINE_string("sweep", None, "A sweep's name in that file, or all "
                    "(with --report_only).")
flags.DEFINE_string("workdir", None, "Parent directory of the runs.")
flags.DEFINE_integer("seeds", 1, "Training seeds 0..N-1 per run.")
flags.DEFINE_list("only", [], "Only these runs of the sweep.")
flags.DEFINE_bool("read_test", False, "Read the test set at the end of each "
                  "run (only for final configurations).")
flags.DEFINE_bool("report_only", False, "Train nothing: print the table "
                  "of the runs that finished (seeds 0..N-1 that exist).")
flags.DEFINE_list("distorted_validation", [], "With --report_only: also "
                  "score each finished run on distorted copies of the "
                  "validation split, KIND:LEVEL each (gaussian:0.3, "
                  "salt_pepper:0.1); robustness without the test set.")
flags.DEFINE_list("final", [], "With --report_only: the runs whose "
                  "configuration was chosen on validation; read the test "
                  "set once for each of their seeds (clean, and with each "
                  "--distorted_validation distortion), without training "
                  "again; refused while any of --seeds is unfinished.")
flags.DEFINE_string("against", None, "With --report_only: test every "
                    "run against this one, column by column (difference "
                    "of the means, Welch's t over the seeds).")
flags.DEFINE_bool("paired", False, "With --report_only and --against: "
                  "compare every run with --against's image by image on "
                  "the same validation images (and test images, between "
                  "--final runs), with the split's own standard error.")
flags.DEFINE_bool("dynamics", False, "With --report_only: add how far "
                  "each game's worst case moved, per seed, from its "
                  "metrics.jsonl (the residual's RMS, the critic's "
                  "distance, C's accuracy on Q) and which seeds left the "
                  "data.")
flags.DEFINE_string("archive", None, "Afterwards, copy the small records "
                    "(results.json, config.json, metrics.jsonl, "
                    "fidelity.json, posthoc/*.json) of every "
                    "finished run under --workdir, and this sweep's own "
                    "summary (SWEEP.md; not other sweeps' summaries, which "
                    "may be older there), to this tracked folder "
                    "(e.g. docs/runs/issue15), so that --report_only "
                    "--workdir=ARCHIVE prints the table on a fresh clone.")
flags.mark_flags_as_required(["config", "sweep", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  import importlib  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import archive  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import sweep  # pylint: disable=g-import-not-at-top

  def run():
    module = f"configs.sweeps.{FLAGS.sweeps}"
    try:
      sweeps = importlib.import_module(module).SWEEPS
    except ModuleNotFoundError as e:
      if e.name != module:
        raise
      raise ConfigError(f"no sweep file configs/sweeps/{FLAGS.sweeps}.py; "
                        "give --sweeps=issue15 or issue16") from None
    if FLAGS.sweep == "all":
      if not FLAGS.report_only:
        raise ConfigError("--sweep=all names every run of every sweep; give "
                          "it with --report_only, and train one sweep at a "
                          "time")
      runs = sweep.every_run(sweeps.values())
    elif FLAGS.sweep in sweeps:
      runs = sweeps[FLAGS.sweep]
    else:
      raise ConfigError(f"unknown sweep {FLAGS.sweep!r}; choose one of "
                        f"{sorted(sweeps)} or all")
    unknown = set(FLAGS.only) - {name for name, _ in runs}
    if unknown:
      raise ConfigError(f"--only names runs not in sweep {FLAGS.sweep!r}: "
                        f"{sorted(unknown)}")
    sweep_runs = runs
    if FLAGS.only:
      runs = [(name, overrides) for name, overrides in runs
              if name in FLAGS.only]
    for flag in ("distorted_validation", "final", "against", "paired",
                 "dynamics"):
      if FLAGS[flag].value and not FLAGS.report_only:
        raise ConfigError(f"--{flag} works on finished runs; give it with "
                          "--report_only")
    if FLAGS.report_only:
      text, figure = sweep.report(
          cli.config_or_exit(), runs, FLAGS.workdir, range(FLAGS.seeds),
          FLAGS.read_test, FLAGS.distorted_validation, FLAGS.final,
          os.path.join(FLAGS.workdir, f"robustness_{FLAGS.sweep}.png"),
          FLAGS.against, FLAGS.paired, FLAGS.dynamics)
      print(text)
      if figure:
        print(f"Validation accuracy against each distortion: {figure}")
    else:
      # The whole sweep, so that its summary lists every finished run;
      # only FLAGS.only's train.
      results = sweep.run_sweep(cli.config_or_exit(), sweep_runs,
                                FLAGS.workdir, range(FLAGS.seeds),
                                FLAGS.read_test, only=FLAGS.only,
                                summary_name=f"{FLAGS.sweep}.md",
                                archive_dir=FLAGS.archive)
      print(sweep.summary(results, sweep_runs))
    if FLAGS.archive:
      copied = archive.archive_runs(FLAGS.workdir, FLAGS.archive,
                                    summaries=[f"{FLAGS.sweep}.md"])
      print(f"Records of {len(copied)} finished runs in {FLAGS.archive}")

  cli.run_or_exit(run)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)

"""The main job's table: runs side by side, classes by name; the
validation sweep's summary; the results schema they read."""

import dataclasses
import json
import os

import pytest

from wcgen.core import results as results_lib
from wcgen.errors import DataError
from wcgen.experiments import compare
from wcgen.experiments import sweep


def _result(acc, val, dataset="fashion_mnist"):
  return results_lib.RunResults.from_json_dict({
          "method": "erm", "config": {},
          "dataset": dataset, "imbalance_factor": 100.0, "seed": 0,
          "steps": 800, "batch_size": 64,
          "train_class_counts": [5700, 3417, 2048, 1228, 736, 441, 265, 159,
                                 95, 57],
          "val_accuracy": val, "test_accuracy": acc,
          "test_balanced_accuracy": acc,
          "test_per_class_accuracy": [acc] * 9 + [0.125],
          "val_per_class_accuracy": [val] * 9 + [0.5],
          "val_shot_accuracy": {"many": val, "medium": 0.5, "few": None},
          "wall_time_sec_this_process": 120.0})


def test_comparison_names_the_classes_and_shows_both_splits():
  table = compare.comparison_table(["erm", "worst_case"],
                                   [_result(0.8, 0.81), _result(0.7, 0.72)])
  lines = table.splitlines()
  assert lines[0].startswith("| run | val acc. | test acc. |")
  assert "| T-shirt/top |" in lines[0] and lines[0].endswith(
      "| Ankle boot |")
  assert lines[2].startswith("| erm | 81.00 | 80.00 | 80.00 | 80.00 |")
  assert lines[3].endswith("| 12.50 |")
  assert "5700, 3417" in table and "read once, at the end" in table
  table = compare.comparison_table(["erm"], [_result(0.8, 0.8, "cifar10")])
  assert "| airplane |" in table and "| truck |" in table


def test_sweep_summary_is_mean_and_std_over_seeds_by_name():
  runs = [("erm_800", {"method.name": "erm"}), ("other", {"method.eps": 0.1})]
  results = {"erm_800": [_result(0.8, 0.80), _result(0.8, 0.84)]}
  text = sweep.summary(results, runs)
  header, _, row = text.splitlines()[:3]
  assert "| Bag | Ankle boot |" in header
  # mean 82.00, sample std of (80, 84) = 2.83; the rarest class 50.00.
  assert row.startswith("| erm_800 | 2 | 82.00 ± 2.83 | 82.00 ± 2.83 |")
  assert "| test (in run) | min/run |" in header
  assert "| 50.00 ± 0.00 | 80.00 ± 0.00 | 2.0 |" in row
  # Runs that never read the test set in training: no such column, so the
  # only test figures a sweep's table shows are --final's.
  unread = [dataclasses.replace(r, test_accuracy=None)
            for r in results["erm_800"]]
  header, _, row = sweep.summary({"erm_800": unread}, runs).splitlines()[:3]
  assert "test" not in header
  assert row.endswith("| 50.00 ± 0.00 | 2.0 | - |")
  assert row.endswith("| 2.0 | - |")  # no commit recorded by these runs
  # A resumed seed records only its last part's time: left out, and said.
  resumed = [unread[0], dataclasses.replace(
      unread[1], resumed_from_step=600, wall_time_sec_this_process=30.0)]
  _, _, row = sweep.summary({"erm_800": resumed}, runs).splitlines()[:3]
  assert row.endswith("| 2.0 (1 of 2 whole) | - |")
  _, _, row = sweep.summary({"erm_800": resumed[1:]}, runs).splitlines()[:3]
  assert row.endswith("| - | - |")
  # With the total across its processes recorded, it counts as whole.
  resumed[1] = dataclasses.replace(resumed[1], wall_time_sec_total=240.0)
  _, _, row = sweep.summary({"erm_800": resumed}, runs).splitlines()[:3]
  assert row.endswith("| 3.0 | - |")
  assert "other" not in text  # not run yet
  assert "`method.name='erm'`" in text
  assert "hardest" not in header  # the lowest class is a rarest one
  # Shirt (class 6) lowest over all the runs listed: its own column. The
  # commits that finished the seeds, each once.
  shirt = dataclasses.replace(_result(0.8, 0.84), code_version="f" * 40)
  shirt.val_per_class_accuracy[6] = 0.1
  first = dataclasses.replace(_result(0.8, 0.80),
                              code_version="a" * 40 + "+dirty")
  text = sweep.summary({"erm_800": [first, shirt, shirt]}, runs)
  header, _, row = text.splitlines()[:3]
  assert header.endswith("| code |")
  assert row.endswith("| aaaaaaa+dirty, fffffff |")
  assert "| few | Shirt (hardest) | Bag | Ankle boot |" in header
  # Shirt: mean of 80, 10 and 10 = 33.33, sample std 40.41.
  assert "| - | 33.33 ± 40.41 |" in row


def test_welch_against_the_closed_form_with_two_degrees_of_freedom():
  """Two seeds a side with equal sample variances: Welch's df is exactly 2,
  where Student's t has the closed form P(|T| > t) = 1 - t / sqrt(2 + t^2)
  (independent of scipy's t distribution)."""
  delta, t, df, p = sweep.welch([0.9, 0.8], [0.7, 0.6])
  assert delta == pytest.approx(0.2)
  # (0.85 - 0.65) / sqrt(0.005 / 2 + 0.005 / 2)
  assert t == pytest.approx(0.2 / 0.005 ** 0.5)
  assert df == pytest.approx(2.0)
  assert p == pytest.approx(1 - t / (2 + t * t) ** 0.5)
  # Unequal variances and sizes: the Welch-Satterthwaite df by hand.
  a, b = [0.80, 0.84, 0.85], [0.70, 0.78]
  va, vb = 0.00070, 0.0032  # sample variances
  assert sweep.welch(a, b)[2] == pytest.approx(
      (va / 3 + vb / 2) ** 2 / ((va / 3) ** 2 / 2 + (vb / 2) ** 2 / 1))
  for a, b, expected in (([0.9], [0.7, 0.6], 0.25),
                         ([0.5, 0.5], [0.4, 0.4], 0.1)):
    delta, *rest = sweep.welch(a, b)
    assert delta == pytest.approx(expected)
    assert all(x != x for x in rest)  # nan


def test_versus_tests_each_run_and_column_against_one_run():
  """--against: per column, the difference of the means in points and
  Welch's test; one-seed or spread-less pairs are marked untested, runs
  not finished are left out, and a run without seeds says so."""
  runs = [("control", {}), ("game", {}), ("one_seed", {}), ("missing", {})]
  results = {"control": [_result(0.8, 0.7), _result(0.8, 0.6)],
             "game": [_result(0.8, 0.9), _result(0.8, 0.8)],
             "one_seed": [_result(0.8, 0.75)]}
  extra = {"val G(0.3)": {"control": [0.4, 0.4], "game": [0.5, 0.5]}}
  text = sweep.versus(results, runs, "control", extra)
  lines = text.splitlines()
  assert lines[0].startswith("Against `control`")
  assert lines[2] == "| run | val acc. | test (in run) | val G(0.3) |"
  _, _, _, p = sweep.welch([0.9, 0.8], [0.7, 0.6])
  assert lines[4] == (f"| game | +20.00 (t 2.8, df 2.0, p {p:.3f}) | "
                      "+0.00 (untested: no spread) | "
                      "+10.00 (untested: no spread) |")
  assert lines[5] == ("| one_seed | +10.00 (untested: one seed) | "
                      "+0.00 (untested: one seed) | - |")
  assert "missing" not in text and "| control |" not in text
  assert "no finished run" in sweep.versus({}, runs, "control")


def test_by_class_pairs_seeds_and_names_the_classes():
  """--final's per-class table: each run's mean over seeds on validation
  and on the test set, by class name, and the difference to --against
  over the seeds both have (seed 2 of "control" has no partner)."""
  seeded = lambda r, s: dataclasses.replace(r, seed=s)
  runs = [("control", {}), ("move", {}), ("unread", {})]
  results = {"control": [seeded(_result(0.8, 0.7), s) for s in (0, 1, 2)],
             "move": [seeded(_result(0.8, 0.9), s) for s in (0, 1)],
             "unread": [_result(0.8, 0.8)]}
  test = {"control": [[0.5] * 10, [0.7] * 10, [0.0] * 10],
          "move": [[0.6] * 9 + [1.0], [0.8] * 9 + [0.9]]}
  text = sweep.by_class(results, runs, ["control", "move"], test, "control")
  lines = text.splitlines()
  assert lines[2].startswith("| run, split | T-shirt/top (5700) |")
  assert lines[2].endswith("| Ankle boot (57) |")
  row = lambda label: next(l for l in lines if l.startswith(f"| {label} |"))
  cells = lambda label: row(label).strip("|").split("|")[1:]
  assert [c.strip() for c in cells("control, val")] == ["70.0"] * 9 + [
      "50.0"]
  assert cells("control, test")[0].strip() == "40.0"  # (50 + 70 + 0) / 3
  # Paired on seeds 0 and 1: (60 - 50 + 80 - 70) / 2; (100 - 50 + 90 - 70) / 2.
  moved = cells("Δ move − control, test (2 seeds)")
  assert moved[0].strip() == "+10.0" and moved[-1].strip() == "+35.0"
  assert cells("Δ move − control, val (2 seeds)")[0].strip() == "+20.0"
  assert "unread" not in text
  without = sweep.by_class(results, runs, ["move"], test, None)
  assert "Δ" not in without and "control" not in without
  assert "No finished run" in sweep.by_class(results, runs, ["x"], {})


def test_read_sweep_reads_finished_runs_and_refuses_another_config(
    finished_run, tmp_path):
  """--report_only: finished runs are read back by name and seed without
  training (missing seeds and runs are left out), and a run whose recorded
  config is not the sweep's is refused, as when training."""
  import shutil  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  config, workdir, finished = finished_run
  for name in ("same", "other"):
    shutil.copytree(workdir, tmp_path / name / "seed0")
  runs = [("same", {}), ("missing", {"method.eps": 0.1})]
  found = sweep.read_sweep(config, runs, str(tmp_path), seeds=(0, 1),
                           read_test=True)
  assert list(found) == ["same"] and len(found["same"]) == 1
  assert found["same"][0].val_accuracy == finished.val_accuracy
  with pytest.raises(ConfigError, match="method.eps"):
    sweep.read_sweep(config, [("other", {"method.eps": 0.1})], str(tmp_path),
                     read_test=True)
  assert [n for n, _ in sweep.every_run([runs, [("same", {}), ("x", {})]])
          ] == ["same", "missing", "x"]


def test_every_run_of_every_issue15_sweep_is_a_valid_config():
  """configs/sweeps/issue15.py and issue16.py: unique run names, each run
  a valid config that does not read the test set, and one name always the
  same run within a file (a shared workdir reads finished runs back by
  name)."""
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  from configs.sweeps import issue15  # pylint: disable=g-import-not-at-top
  from configs.sweeps import issue16  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import sweep  # pylint: disable=g-import-not-at-top
  from wcgen.train import validation  # pylint: disable=g-import-not-at-top
  base = fmnist_wgan.get_config()
  for module in (issue15, issue16):
    by_name = {}
    for name, runs in module.SWEEPS.items():
      names = [n for n, _ in runs]
      assert len(names) == len(set(names)), name
      for run_name, overrides in runs:
        config = sweep.run_config(base, overrides, 0, False)
        validation.validate_config(config, device_count=2)
        assert config.schedule.evaluate_test is False
        assert by_name.setdefault(run_name, overrides) == overrides, run_name
  # issue 16's runs train on the clean, balanced training set.
  for _, overrides in issue16.SWEEPS["robust"]:
    assert sweep.run_config(base, overrides, 0, False
                            ).data.imbalance_factor == 1.0
  # "imbalance" is the IF=100 runs of the same names at IF=20, no more.
  at_if100 = dict(sweep.every_run(issue15.SWEEPS.values()))
  for name, overrides in issue15.SWEEPS["imbalance"]:
    assert overrides["data.imbalance_factor"] == 20.0
    assert at_if100[name.replace("_if20", "")] == {
        k: v for k, v in overrides.items() if k != "data.imbalance_factor"}
  # IF=1 for the feature-space worst case and its control is issue 16's
  # clean table: issue 15's runs of those names on the clean split.
  robust = dict(issue16.SWEEPS["robust"])
  for name in ("seed_control_realbn", "seed_control_featadv0.2_realbn"):
    assert robust[f"{name}_clean_3200"] == {
        **at_if100[f"{name}_3200"], "data.imbalance_factor": 1.0}
  # The classifier grid moves one knob of C at a time, the same for all.
  tuning = dict(issue15.SWEEPS["tuning"])
  assert tuning["erm_lr2e-3"]["optim.classifier.lr"] == 2e-3
  assert {k[len("per_sample_"):] for k in tuning if
          k.startswith("per_sample_")} == {
              k[len("erm_"):] for k in tuning if k.startswith("erm_")}


def test_every_results_json_on_record_reads_as_the_schema(tmp_path):
  """wcgen.core.results.RunResults: the driver's results.json round-trips;
  a file from before a field existed reads it as not recorded (None); one
  lacking a required field, or not JSON, is named in one line."""
  record = _result(0.7, 0.72).to_json_dict()
  assert results_lib.RunResults.from_json_dict(record).to_json_dict() == record
  older = {k: v for k, v in record.items()
           if k not in ("imbalance_factor_realised", "validation_images")}
  older["a_field_since_removed"] = 1
  path = tmp_path / "results.json"
  path.write_text(json.dumps(older))
  read = results_lib.read(str(path))
  assert read.imbalance_factor_realised is None
  assert read.validation_images == 0 and read.val_accuracy == 0.72
  assert read.metric("test_accuracy") == 0.7
  del older["steps"]
  path.write_text(json.dumps(older))
  with pytest.raises(DataError, match="is not a readable results.json"):
    results_lib.read(str(path))
  path.write_text("{not json")
  with pytest.raises(DataError, match="results.json"):
    results_lib.read(str(path))


def test_distorted_validation_columns(finished_run, tmp_path):
  """--distorted_validation: each finished seed of a run is scored on a
  distorted copy of the validation split (the posthoc figure, read back
  from the run), shown as one more column, mean ± std over seeds."""
  import shutil  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.train import posthoc  # pylint: disable=g-import-not-at-top
  _, workdir, finished = finished_run
  for seed in (0, 1):
    shutil.copytree(workdir, tmp_path / "run" / f"seed{seed}")
  extra = sweep.distorted_validation(str(tmp_path), ["run", "missing"],
                                     range(3), ["gaussian:0.3"])
  direct, = posthoc.score_distorted(
      str(tmp_path / "run" / "seed0"),
      [{"data.test_distortion": "gaussian",
        "data.test_distortion_level": 0.3}], split="validation")
  assert extra == {"val G(0.3)": {"run": [direct["accuracy"]] * 2}}
  text = sweep.summary({"run": [finished, finished]}, [("run", {})], extra)
  header, _, row = text.splitlines()[:3]
  assert header.endswith("| min/run | val G(0.3) | code |")
  assert f"| {100 * direct['accuracy']:.2f} ± 0.00 | " in row
  # --final: the test split, clean and distorted, read once per run.
  final = sweep.posthoc_columns(str(tmp_path), ["run"], range(3),
                                ["gaussian:0.3"], split="test", clean=True)
  on_test, = posthoc.score_distorted(
      str(tmp_path / "run" / "seed0"),
      [{"data.test_distortion": "gaussian",
        "data.test_distortion_level": 0.3}], split="test")
  assert final == {"test": {"run": [finished.test_accuracy] * 2},
                   "test G(0.3)": {"run": [on_test["accuracy"]] * 2}}
  for bad in ("gaussian", "blur:0.3", "gaussian:-1", "gaussian:x"):
    with pytest.raises(ConfigError, match="KIND:LEVEL"):
      sweep.parse_distortion(bad)


def test_robustness_series_per_kind_and_its_figure(tmp_path):
  """The robustness figure's numbers: level 0 is each run's clean
  validation accuracy, then each distortion of its kind in order of level,
  mean and sample std over seeds in %; a run with no distorted score is
  left out, and nothing is drawn when no run has one."""
  clean = {"erm": [0.8, 0.9], "game": [0.7, 0.7], "unscored": [0.5]}
  scored = {"val G(0.3)": {"erm": [0.4, 0.6], "game": [0.6, 0.7]},
            "val G(0.1)": {"erm": [0.7, 0.7]},
            "val S(0.1)": {"game": [0.65]}}
  series = sweep.robustness_series(
      clean, ["gaussian:0.3", "salt_pepper:0.1", "gaussian:0.1"], scored)
  assert sorted(series) == ["gaussian", "salt_pepper"]
  assert sorted(series["gaussian"]) == ["erm", "game"]
  x, mean, std, seeds = series["gaussian"]["erm"]
  assert x == [0.0, 0.1, 0.3] and seeds == 2
  assert mean == pytest.approx([85.0, 70.0, 50.0])
  assert std == pytest.approx([100 * 0.1 / 2 ** 0.5, 0.0,
                               100 * 0.2 / 2 ** 0.5])
  assert series["gaussian"]["game"][0] == [0.0, 0.3]  # no G(0.1) score
  assert series["salt_pepper"] == {"game": ([0.0, 0.1], pytest.approx(
      [70.0, 65.0]), [0.0, 0.0], 1)}
  path = tmp_path / "robustness.png"
  assert sweep.robustness_figure(series, str(path))
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  assert not sweep.robustness_figure(
      sweep.robustness_series({"erm": [0.8]}, ["gaussian:0.3"], {}),
      str(tmp_path / "none.png"))
  assert not (tmp_path / "none.png").exists()


def test_report_reads_the_test_set_only_for_the_final_runs(finished_run,
                                                           tmp_path):
  """sweep.report (launch/sweep.py --report_only): every finished run gets
  its distorted-validation column and the robustness figure; only the runs
  named final get their test set read (kept in their posthoc/ folder),
  and the clean test figure is the one the driver read."""
  import shutil  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  config, workdir, finished = finished_run
  for name in ("chosen", "other"):  # without anything scored before
    shutil.copytree(workdir, tmp_path / name / "seed0",
                    ignore=shutil.ignore_patterns("posthoc"))
  runs = [("chosen", {}), ("other", {})]
  figure = str(tmp_path / "robustness.png")
  text, drawn = sweep.report(config, runs, str(tmp_path), read_test=True,
                             distortions=["gaussian:0.3"], final=["chosen"],
                             figure_path=figure)
  assert drawn == figure and os.path.getsize(figure) > 1000
  header, _, chosen, other = text.splitlines()[:4]
  assert header.endswith("| val G(0.3) | test | test G(0.3) | code |")
  cells = lambda row: [c.strip() for c in row.strip("|").split("|")]
  assert cells(chosen)[-3] == f"{100 * finished.test_accuracy:.2f}"
  assert cells(chosen)[-2] != "-" and cells(other)[-3:-1] == ["-", "-"]
  assert os.path.exists(tmp_path / "chosen" / "seed0" / "posthoc" /
                        "test.json")
  assert not os.path.exists(tmp_path / "other" / "seed0" / "posthoc" /
                            "test.json")
  # The per-class table: the test row is the driver's per-class reading.
  row = next(l for l in text.splitlines() if l.startswith("| chosen, test |"))
  assert row == "| chosen, test | " + " | ".join(
      f"{100 * a:.1f}" for a in finished.test_per_class_accuracy) + " |"
  assert "| other, " not in text
  with pytest.raises(ConfigError, match="--final names runs not in"):
    sweep.report(config, runs, str(tmp_path), read_test=True,
                 final=["missing"])
  with pytest.raises(ConfigError, match="give --against too"):
    sweep.report(config, runs, str(tmp_path), image_paired=True)
  # --against: the same runs, each tested against one of them.
  text, _ = sweep.report(config, runs, str(tmp_path), read_test=True,
                         against="other")
  assert "Against `other`" in text
  assert "| chosen | +0.00 (untested: one seed) |" in text
  with pytest.raises(ConfigError, match="--against=missing is not a run"):
    sweep.report(config, runs, str(tmp_path), against="missing")


def test_final_reads_no_test_set_before_every_seed_has_finished(
    finished_run, tmp_path):
  """--final with --seeds=2 while only seed 0 has trained: refused before
  anything is read (no posthoc/test.json appears); once seed 0 alone has
  been read (--seeds=1, a one-seed configuration), printing it again
  beside an unfinished seed reads nothing new and is allowed."""
  import shutil  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  config, workdir, finished = finished_run
  run = tmp_path / "chosen" / "seed0"
  shutil.copytree(workdir, run, ignore=shutil.ignore_patterns("posthoc"))
  # As a sweep trains it: the test set not read at the end of training.
  record = json.loads((run / "results.json").read_text())
  record["test_accuracy"] = None
  record["config"]["schedule"]["evaluate_test"] = False
  (run / "results.json").write_text(json.dumps(record))
  runs = [("chosen", {})]
  with pytest.raises(ConfigError, match=r"--final=chosen: seeds \[1\] have "
                     r"not finished; train them before the test set of "
                     r"seeds \[0\] is read"):
    sweep.report(config, runs, str(tmp_path), seeds=(0, 1), final=["chosen"])
  assert not (run / "posthoc" / "test.json").exists()
  text, _ = sweep.report(config, runs, str(tmp_path), seeds=(0,),
                         final=["chosen"])
  kept = json.loads((run / "posthoc" / "test.json").read_text())
  # The checkpoint's reading is the driver's own reading of the same step.
  assert kept["accuracy"] == pytest.approx(finished.test_accuracy)
  again, _ = sweep.report(config, runs, str(tmp_path), seeds=(0, 1),
                          final=["chosen"])
  assert again == text

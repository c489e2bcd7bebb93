"""game_dynamics: the game's metrics after the warm-up, from metrics.jsonl,
checked against means computed by hand on logs written here."""

import json
import os
import shutil

from wcgen.core import results as results_lib
from wcgen.experiments import game_dynamics
from wcgen.experiments import sweep


def _write_log(workdir, rows):
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, "metrics.jsonl"), "w") as f:
    for row in rows:
      f.write(json.dumps(row) + "\n")
    f.write('{"step": 999, "perturbation_rms": 0.9')  # a torn last line


def _results(seed, warmup_steps, val_accuracy=0.9):
  return results_lib.RunResults(
      method="worst_case", dataset="fashion_mnist", imbalance_factor=1.0,
      seed=seed, steps=400, batch_size=8, train_class_counts=[1] * 10,
      wall_time_sec_this_process=1.0,
      config={"method": {"warmup_steps": warmup_steps}},
      val_accuracy=val_accuracy)


def _game_rows(rms, distance, c_acc, first_step=250):
  # Train rows of the game at every 50 steps, with an eval row between
  # them (no game metrics) as the driver writes.
  rows = []
  for i, (r, w, a) in enumerate(zip(rms, distance, c_acc)):
    step = first_step + 50 * i
    rows.append({"step": step, "c_loss": 1.0, "perturbation_rms": r,
                 "w_distance": w, "c_acc_fake_eval": a})
    rows.append({"step": step, "val_accuracy": 0.5})
  return rows


def test_means_over_the_game_steps_only(tmp_path):
  workdir = str(tmp_path / "run")
  # Before and at the warm-up's last step: logged values that must not count.
  warmup = [{"step": 100, "c_loss": 2.0},
            {"step": 200, "perturbation_rms": 5.0, "w_distance": 50.0,
             "c_acc_fake_eval": 0.0}]
  _write_log(workdir, warmup + _game_rows([0.3, 0.1, 0.08], [3.0, 1.0, 2.0],
                                          [0.25, 0.5, 0.75]))
  dynamics = game_dynamics.read(workdir, warmup_steps=200)
  assert dynamics.first_step == 250
  assert dynamics.first_residual_rms == 0.3
  assert abs(dynamics.means["perturbation_rms"] - 0.16) < 1e-12
  assert abs(dynamics.means["w_distance"] - 2.0) < 1e-12
  assert abs(dynamics.means["c_acc_fake_eval"] - 0.5) < 1e-12
  assert dynamics.off_data is False  # 0.16 < OFF_DATA_RMS
  # With the warm-up said to end earlier, the step-200 row counts too.
  earlier = game_dynamics.read(workdir, warmup_steps=150)
  assert earlier.first_step == 200
  assert abs(earlier.means["perturbation_rms"] - (5.0 + 0.48) / 4) < 1e-12
  assert earlier.off_data is True


def test_runs_without_a_residual_or_a_game(tmp_path):
  paper = str(tmp_path / "paper")  # G(z, y): a critic, no residual
  _write_log(paper, [{"step": 300, "w_distance": 2.5,
                      "c_acc_fake_eval": 0.8}])
  dynamics = game_dynamics.read(paper, warmup_steps=200)
  assert dynamics.first_residual_rms is None
  assert dynamics.means["perturbation_rms"] is None
  assert dynamics.off_data is None
  erm = str(tmp_path / "erm")
  _write_log(erm, [{"step": 300, "c_loss": 1.0}])
  assert game_dynamics.read(erm, warmup_steps=200) is None
  assert game_dynamics.read(str(tmp_path / "absent"), 200) is None


def test_table_rows_and_count(tmp_path):
  folders = {("game", 0): _game_rows([0.05, 0.07], [0.2, 0.4], [0.5, 0.6]),
             ("game", 1): _game_rows([0.3, 0.4], [10.0, 14.0], [0.1, 0.2]),
             ("erm", 0): [{"step": 300, "c_loss": 1.0}]}
  for (name, seed), rows in folders.items():
    _write_log(str(tmp_path / name / f"seed{seed}"), rows)
  runs = {"erm": [_results(0, 200)],
          "game": [_results(0, 200, 0.88), _results(1, 200, 0.85)]}
  text = game_dynamics.table(
      runs, lambda name, seed: str(tmp_path / name / f"seed{seed}"))
  lines = [l for l in text.splitlines() if l.startswith("| game")]
  assert lines == [
      "| game | 0 | 88.00 | 0.050 (step 250) | 0.060 | 0.30 | 55.0 | "
      "near its seeds |",
      "| game | 1 | 85.00 | 0.300 (step 250) | 0.350 | 12.00 | 15.0 | "
      "**off the data** |"]
  assert "| erm |" not in text
  assert text.rstrip().endswith("1 of 2 seeds with a residual left the data.")
  assert game_dynamics.table({"erm": runs["erm"]}, lambda n, s: str(
      tmp_path / n / f"seed{s}")) == ""


def test_the_sweep_report_adds_a_trained_games_dynamics(finished_run,
                                                         tmp_path):
  """--dynamics on a real (tiny) worst-case run: the row's critic distance
  is the mean the test computes itself from the run's log."""
  config, run, _ = finished_run
  workdir = tmp_path / "sweep"
  shutil.copytree(run, workdir / "game" / "seed0",
                  ignore=shutil.ignore_patterns("posthoc"))
  text = sweep.report(config, [("game", {})], str(workdir), read_test=True,
                      dynamics=True)[0]
  warmup = config.method.warmup_steps
  with open(os.path.join(run, "metrics.jsonl")) as f:
    logged = [json.loads(line) for line in f]
  distances = [row["w_distance"] for row in logged
               if row["step"] > warmup and "w_distance" in row]
  assert len(distances) >= 2  # the tiny run logs the game twice
  row = next(l for l in text.splitlines() if l.startswith("| game | 0 |"))
  # The paper's G(z, y): no residual, so neither its RMS nor a regime.
  cells = [c.strip() for c in row.strip("|").split("|")]
  assert cells[3].startswith("- (step ")
  assert cells[5] == f"{sum(distances) / len(distances):.2f}"
  assert cells[7] == "-"
  assert "0 of 0 seeds with a residual left the data." in text
  # Without the flag the report has no such table.
  assert "How each game's worst case moved" not in sweep.report(
      config, [("game", {})], str(workdir), read_test=True)[0]

"""Archiving a sweep's records: the report prints the same table from the
archive as from the workdir, and an archived record is never replaced."""

import json
import os
import shutil

import pytest

from wcgen.errors import ConfigError
from wcgen.experiments import archive
from wcgen.experiments import sweep


def test_the_archive_prints_the_workdirs_report_and_keeps_its_records(
    finished_run, tmp_path):
  config, run, _ = finished_run
  workdir = tmp_path / "sweep"
  for name in ("only_run", "twin"):
    shutil.copytree(run, workdir / name / "seed0",
                    ignore=shutil.ignore_patterns("posthoc"))
  (workdir / "levers.md").write_text("the sweep's summary\n")
  # The run's config is the base with no overrides and the test read, as
  # the fixture trained it. --final scores its test split after training
  # (from the checkpoint) and keeps the figure in posthoc/; --paired the
  # per-image flags of both splits.
  runs = [("only_run", {}), ("twin", {})]
  report = lambda where: sweep.report(
      config, runs, str(where), read_test=True, final=["only_run", "twin"],
      against="twin", image_paired=True)[0]
  from_workdir = report(workdir)
  assert ("| only_run | +0.00 (the same on every image, 1 seed) | "
          "+0.00 (the same on every image, 1 seed) |") in from_workdir
  kept = tmp_path / "docs" / "runs"
  assert archive.archive_runs(str(workdir), str(kept),
                              summaries=["levers.md"]) == [
      "only_run/seed0", "twin/seed0"]
  # Only the small records travel: no checkpoints, events or grids.
  assert sorted(os.listdir(kept / "only_run" / "seed0")) == [
      "config.json", "metrics.jsonl", "posthoc", "results.json"]
  assert sorted(os.listdir(kept / "only_run" / "seed0" / "posthoc")) == [
      "test.json", "test_correct.npz", "validation_correct.npz"]
  assert (kept / "levers.md").read_text() == "the sweep's summary\n"
  # The same tables from the archive, the test column and the image-paired
  # comparison included, with no checkpoint to load.
  assert report(kept) == from_workdir
  # Archiving again is a no-op; another record under the same name stops
  # the copy before anything is written, and the archived one stays.
  archive.archive_runs(str(workdir), str(kept), summaries=["levers.md"])
  results = workdir / "only_run" / "seed0" / "results.json"
  before = (kept / "only_run" / "seed0" / "results.json").read_bytes()
  results.write_text(results.read_text().replace('"seed": 0', '"seed": 5'))
  with pytest.raises(ConfigError, match="holds another finished run"):
    archive.archive_runs(str(workdir), str(kept), summaries=["levers.md"])
  assert (kept / "only_run" / "seed0" / "results.json").read_bytes() == before


def test_archiving_a_missing_workdir_is_a_one_line_error(tmp_path):
  with pytest.raises(ConfigError, match="is not a folder"):
    archive.archive_runs(str(tmp_path / "nowhere"), str(tmp_path / "kept"),
                         summaries=[])


def test_a_sweep_archives_each_run_as_soon_as_it_finishes(finished_run,
                                                          tmp_path):
  # A sweep that stops part-way (here its second run is refused; in life a
  # session that ends or a kill) keeps the records of the runs it finished:
  # the workdir is not committed, the archive is.
  config, run, _ = finished_run
  workdir = tmp_path / "sweep"
  shutil.copytree(run, workdir / "done" / "seed0")
  kept = tmp_path / "kept"
  runs = [("done", {}), ("refused", {"method.name": "no_such_method"})]
  # Another sweep's summary, older in this workdir than in the archive
  # (a second clone trained that sweep's later runs): left as archived.
  (workdir / "other.md").write_text("| old table |\n")
  kept.mkdir()
  (kept / "other.md").write_text("| newer table |\n")
  with pytest.raises(ConfigError, match="no_such_method"):
    sweep.run_sweep(config, runs, str(workdir), read_test=True,
                    archive_dir=str(kept), summary_name="levers.md")
  record = ("done", "seed0", "results.json")
  assert (kept.joinpath(*record).read_bytes()
          == workdir.joinpath(*record).read_bytes())
  assert "done" in (kept / "levers.md").read_text()
  assert not (kept / "refused").exists()
  assert (kept / "other.md").read_text() == "| newer table |\n"


def test_a_sweep_trained_a_run_at_a_time_keeps_one_whole_summary(
    finished_run, tmp_path):
  # `--only` trains one run; the sweep's summary (and its archived copy)
  # still lists every finished run of the sweep, not just that one, those
  # after it in the sweep's order too.
  config, run, _ = finished_run
  workdir = tmp_path / "sweep"
  for name in ("first", "second"):
    shutil.copytree(run, workdir / name / "seed0")
  kept = tmp_path / "kept"
  runs = [("first", {}), ("second", {}), ("not_run", {})]
  results = sweep.run_sweep(config, runs, str(workdir), read_test=True,
                            only=["first"], summary_name="levers.md",
                            archive_dir=str(kept))
  assert sorted(results) == ["first", "second"]
  for text in ((workdir / "levers.md").read_text(),
               (kept / "levers.md").read_text()):
    assert "| first | 1 |" in text and "| second | 1 |" in text
    assert "not_run" not in text.split("Overrides")[0]


def test_a_summary_keeps_the_seeds_the_command_did_not_name(finished_run,
                                                            tmp_path):
  # Training seed 0 of one run (--seeds=1) must not shrink the summary to
  # seed 0: another run's seed 1, finished earlier, stays listed. A seed
  # recorded with another config is not the sweep's run and is left out.
  config, run, finished = finished_run
  workdir = tmp_path / "sweep"
  shutil.copytree(run, workdir / "first" / "seed0")
  for seed in (0, 1, 2):
    shutil.copytree(run, workdir / "second" / f"seed{seed}")
  record = json.loads((workdir / "second" / "seed1" / "results.json")
                      .read_text())
  record["seed"] = record["config"]["seed"] = 1
  record["val_accuracy"] = finished.val_accuracy + 0.5
  (workdir / "second" / "seed1" / "results.json").write_text(
      json.dumps(record))
  # seed2 keeps seed 0's config: another run's record, not listed.
  results = sweep.run_sweep(config, [("first", {}), ("second", {})],
                            str(workdir), seeds=(0,), read_test=True,
                            only=["first"], summary_name="levers.md")
  assert [r.seed for r in results["second"]] == [0, 1]
  assert ([r.val_accuracy for r in results["second"]]
          == [finished.val_accuracy, finished.val_accuracy + 0.5])
  text = (workdir / "levers.md").read_text()
  assert "| first | 1 |" in text and "| second | 2 |" in text
  assert sweep.read_sweep(config, [("second", {})], str(workdir),
                          read_test=True)["second"][0].seed == 0
  assert len(sweep.read_sweep(config, [("second", {})], str(workdir),
                              read_test=True)["second"]) == 1


def test_a_summary_written_before_a_runs_turn_lists_its_finished_seeds(
    finished_run, tmp_path, monkeypatch):
  # `--only=first,second` with both already finished (a sweep continued
  # with one seed more): the summary written after `first` must still list
  # `second`'s finished seed, not drop it until `second`'s turn, and the
  # last summary lists each seed once.
  config, run, _ = finished_run
  workdir = tmp_path / "sweep"
  for name in ("first", "second"):
    shutil.copytree(run, workdir / name / "seed0")
  summary_path = workdir / "levers.md"
  seen = {}
  train = sweep.trainer.train_and_evaluate

  def recording(run_config, directory):
    name = os.path.basename(os.path.dirname(directory))
    seen[name] = summary_path.read_text() if summary_path.exists() else ""
    return train(run_config, directory)

  monkeypatch.setattr(sweep.trainer, "train_and_evaluate", recording)
  sweep.run_sweep(config, [("first", {}), ("second", {})], str(workdir),
                  read_test=True, only=["first", "second"],
                  summary_name="levers.md")
  assert "| first | 1 |" in seen["second"]
  assert "| second | 1 |" in seen["second"]
  text = summary_path.read_text()
  assert "| first | 1 |" in text and "| second | 1 |" in text

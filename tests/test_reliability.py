"""Faults: corrupt checkpoints, a changed config, SIGTERM."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest
from flax import traverse_util

from wcgen import methods
from wcgen.errors import ConfigError, DataError
from wcgen.core import checkpointing
from wcgen.core import files
from wcgen.core import jsonl_writer
from wcgen.core import recorded_config
from wcgen.core import results as results_lib
from wcgen.train import trainer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _truncate_files_under(path):
  for root, _, names in os.walk(path):
    for name in names:
      full = os.path.join(root, name)
      with open(full, "r+b") as f:
        f.truncate(max(os.path.getsize(full) // 3, 1))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_data):
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.method.name = "erm"  # the checkpoint logic is method-independent
  config.data.data_dir, config.data.tfds_dir = tiny_data
  workdir = str(tmp_path_factory.mktemp("rel") / "run")
  trainer.train_and_evaluate(config, workdir)
  return config, workdir


def _target(config):
  method = methods.create(config, 10, 1)
  return method.init(jax.random.PRNGKey(99), (32, 32, 1))


def test_corrupt_latest_checkpoint_falls_back_and_is_kept(run_dir, tmp_path,
                                                          caplog):
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  ckpt_dir = os.path.join(copy, "checkpoints")
  _truncate_files_under(os.path.join(ckpt_dir, "4"))
  ckpt = checkpointing.Checkpointer(ckpt_dir)
  state = ckpt.restore_or(_target(config))
  ckpt.close()
  assert int(state.step) == 2
  assert "step 4 is unreadable" in caplog.text
  assert os.path.isdir(os.path.join(copy, "checkpoints_unreadable", "4"))
  # The fallback state is the real step-2 state, not the target.
  good = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  assert good.latest_step == 4


def test_no_good_checkpoint_is_a_one_line_error(run_dir, tmp_path):
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  ckpt_dir = os.path.join(copy, "checkpoints")
  for step in ("2", "4"):
    _truncate_files_under(os.path.join(ckpt_dir, step))
  ckpt = checkpointing.Checkpointer(ckpt_dir)
  with pytest.raises(DataError, match="no checkpoint in .* can be restored"):
    ckpt.restore_or(_target(config))


def test_an_earlier_step_restores_as_saved_and_a_corrupt_one_is_refused(
    run_dir, tmp_path):
  """`Checkpointer.restore(step)` (diagnostics read earlier steps): the
  step's own state, no fallback to another step, nothing moved."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  ckpt_dir = os.path.join(copy, "checkpoints")
  ckpt = checkpointing.Checkpointer(ckpt_dir)
  assert ckpt.all_steps == [2, 4]
  assert int(ckpt.restore(2, _target(config)).step) == 2
  with pytest.raises(DataError, match="no checkpoint of step 3; it keeps"):
    ckpt.restore(3, _target(config))
  with open(os.path.join(ckpt_dir, "2", "_CHECKPOINT_METADATA"), "a") as f:
    f.write(" ")  # a stray write after the save: checksums differ
  with pytest.raises(DataError, match="step 2 .* is corrupt"):
    ckpt.restore(2, _target(config))
  assert os.path.isdir(os.path.join(ckpt_dir, "2"))
  ckpt.close()


def test_orbax_tmp_directory_from_a_killed_save_is_ignored(run_dir, tmp_path):
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  ckpt_dir = os.path.join(copy, "checkpoints")
  shutil.copytree(os.path.join(ckpt_dir, "4"),
                  os.path.join(ckpt_dir, "6.orbax-checkpoint-tmp"))
  ckpt = checkpointing.Checkpointer(ckpt_dir)
  assert int(ckpt.restore_or(_target(config)).step) == 4


def test_changed_config_is_refused_with_the_fields(run_dir):
  config, workdir = run_dir
  changed = config.copy_and_resolve_references()
  changed.method.eps = 0.5
  changed.data.imbalance_factor = 10.0
  with pytest.raises(ConfigError) as info:
    trainer.check_same_config(changed, workdir)
  message = str(info.value)
  assert "eps: 0.3 -> 0.5" in message
  assert "data.imbalance_factor: 2.0 -> 10.0" in message
  assert "--allow_config_change" in message and "\n" not in message
  trainer.check_same_config(config, workdir)  # same config: fine


def _start_long_run(tiny_data, workdir):
  """(process, command) of a long ERM run through the launcher, returned
  once it has logged a first metrics row."""
  cmd = [sys.executable, os.path.join(REPO, "launch", "main.py"),
         "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
         ":tiny", f"--workdir={workdir}", "--cpu_devices=1",
         f"--config.data.data_dir={tiny_data[0]}",
         f"--config.data.tfds_dir={tiny_data[1]}", "--config.method.name=erm",
         "--config.schedule.num_train_steps=100000", "--config.schedule.eval_every_steps=100000",
         "--config.schedule.checkpoint_every_steps=100000"]
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
  metrics = os.path.join(workdir, "metrics.jsonl")
  deadline = time.time() + 240
  while time.time() < deadline and not (
      os.path.exists(metrics) and os.path.getsize(metrics)):
    time.sleep(0.5)
  return proc, cmd


def test_sigterm_saves_and_the_next_start_resumes(tiny_data, tmp_path):
  workdir = str(tmp_path / "run")
  proc, cmd = _start_long_run(tiny_data, workdir)
  metrics = os.path.join(workdir, "metrics.jsonl")
  proc.send_signal(signal.SIGTERM)
  out, err = proc.communicate(timeout=240)
  assert proc.returncode == 0, err[-2000:]
  assert "preempted at step" in out
  step = int(out.split("preempted at step ")[1].split(";")[0])
  assert step >= 2
  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  assert ckpt.latest_step == step
  ckpt.close()
  assert not os.path.exists(os.path.join(workdir, "results.json"))
  # The next start resumes at that step and finishes.
  cmd[-3] = f"--config.schedule.num_train_steps={step + 2}"
  done = subprocess.run(cmd + ["--allow_config_change"], capture_output=True,
                        text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  assert f"Resuming at step {step}" in done.stderr
  train_rows = [r for r in files.read_jsonl(metrics) if "c_loss" in r]
  assert train_rows[-1]["step"] == step + 2
  assert np.isfinite(train_rows[-1]["c_loss"])
  # results.json's total wall time is the first process's time up to the
  # checkpoint (recorded when it was saved) plus the second's.
  results = results_lib.read(os.path.join(workdir, "results.json"))
  assert results.resumed_from_step == step
  with open(os.path.join(workdir, "wall_time.json")) as f:
    recorded = json.load(f)
  assert recorded[str(step)] > 0
  assert results.wall_time_sec_total == pytest.approx(
      recorded[str(step)] + results.wall_time_sec_this_process, abs=1.0)


def test_wall_time_record_adds_the_earlier_processes(tmp_path):
  """wall_time.json: a resumed process adds the seconds recorded at its
  start step; without that record (or with an unreadable file, which is
  left as it is) the total is None rather than a wrong figure."""
  workdir = str(tmp_path)
  first = trainer._WallTime(workdir, 0, time.time() - 10.0, True)
  first.record(4)
  with open(os.path.join(workdir, "wall_time.json")) as f:
    at_4 = json.load(f)["4"]
  assert 10.0 <= at_4 < 20.0
  second = trainer._WallTime(workdir, 4, time.time() - 5.0, True)
  assert at_4 + 5.0 <= second.total() < at_4 + 15.0
  assert trainer._WallTime(workdir, 3, time.time(), True).total() is None
  path = os.path.join(workdir, "wall_time.json")
  with open(path, "w") as f:
    f.write("{not json")
  broken = trainer._WallTime(workdir, 4, time.time(), True)
  broken.record(8)
  assert broken.total() is None
  with open(path) as f:
    assert f.read() == "{not json"


def _snapshot(workdir):
  """Every file under `workdir` with its bytes (the lock file aside)."""
  out = {}
  for root, _, names in os.walk(workdir):
    for name in names:
      if name != ".lock":
        with open(os.path.join(root, name), "rb") as f:
          out[os.path.relpath(os.path.join(root, name), workdir)] = f.read()
  return out


def test_a_finished_run_is_returned_untouched(run_dir, tmp_path):
  """Issue 14.10: rerunning a finished run evaluates nothing, writes
  nothing, and returns the stored results (its wall time included)."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  before = _snapshot(copy)
  results = trainer.train_and_evaluate(config, copy)
  with open(os.path.join(copy, "results.json")) as f:
    assert results.to_json_dict() == json.load(f)
  assert _snapshot(copy) == before


def test_a_finished_run_of_another_config_is_refused_and_kept(run_dir,
                                                              tmp_path):
  """Issue 14.3: --allow_config_change on a finished run must not rewrite
  its config.json and results.json to describe a run that never was."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  before = _snapshot(copy)
  changed = config.copy_and_resolve_references()
  changed.method.eps = 0.5
  with pytest.raises(ConfigError, match=r"finished run of another config "
                     r"\(method.eps: 0.3 -> 0.5\)"):
    trainer.train_and_evaluate(changed, copy, allow_config_change=True)
  assert _snapshot(copy) == before


def test_checkpoints_without_config_json_are_not_continued_silently(
    run_dir, tmp_path):
  """Issue 14.3: deleting config.json no longer bypasses the guard."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  os.remove(os.path.join(copy, "results.json"))
  os.remove(os.path.join(copy, "config.json"))
  with pytest.raises(ConfigError, match="no config.json"):
    trainer.check_same_config(config, copy)


def test_garbage_results_json_is_named_and_the_run_counts_as_unfinished(
    run_dir, tmp_path, caplog):
  """Issue 14.9."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  path = os.path.join(copy, "results.json")
  with open(path, "wb") as f:
    f.write(b"\x00garbage{")
  assert trainer.finished_results(config, copy) is None
  assert path in caplog.text and "unfinished" in caplog.text


_HOLD_LOCK = """
import sys, time
from wcgen.core import files
lock = files.WorkdirLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_process_on_a_held_workdir_is_refused_in_one_line(
    run_dir, tmp_path):
  """Issue 14.2: a workdir is held by one process at a time, the second
  is told who holds it, and a killed holder leaves no stale lock."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  os.remove(os.path.join(copy, "results.json"))
  holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, copy],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
  try:
    assert holder.stdout.readline().strip() == "held"
    before = _snapshot(copy)
    with pytest.raises(files.WorkdirBusyError) as info:
      trainer.train_and_evaluate(config, copy)
    message = str(info.value)
    assert f"pid {holder.pid}" in message and "\n" not in message
    assert "another --workdir" in message
    assert _snapshot(copy) == before  # nothing written by the refused run
  finally:
    holder.kill()
    holder.wait()
  # SIGKILL released it: the same call now runs (and finishes the run).
  results = trainer.train_and_evaluate(config, copy)
  assert results.steps == config.schedule.num_train_steps


@pytest.mark.usefixtures("cores_to_itself")
def test_three_runs_on_different_workdirs_share_two_cores_and_finish(
    tiny_data, tmp_path):
  """Issue 14.5's done-when: three runs started together, each with the
  host split into two XLA devices (every step an all-reduce of gradients
  between device threads that compete for the same two cores with the
  other two processes' threads and their compiles), all finish."""
  procs = []
  for index in range(3):
    workdir = str(tmp_path / f"run{index}")
    cmd = [sys.executable, os.path.join(REPO, "launch", "main.py"),
           "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
           ":tiny", f"--workdir={workdir}", "--cpu_devices=2",
           f"--config.data.data_dir={tiny_data[0]}",
           f"--config.data.tfds_dir={tiny_data[1]}",
           f"--config.seed={index}", "--config.schedule.num_train_steps=8",
           "--config.method.name=erm"]
    procs.append((workdir, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
  for workdir, proc in procs:
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    with open(os.path.join(workdir, "results.json")) as f:
      results = json.load(f)
    assert results["steps"] == 8


def test_damaged_metrics_lines_are_counted_kept_aside_and_do_not_block(
    tmp_path, caplog):
  """Issue 14.8: garbage appended, a line `42`, a torn row: a resume keeps
  the good rows up to its step, moves the bad lines to metrics.jsonl.bad
  and says how many; reading never raises."""
  path = str(tmp_path / "metrics.jsonl")
  with open(path, "w") as f:
    f.write('{"step": 2, "c_loss": 1.0}\n42\n\x07\xff garbage\n'
            '{"step": 4, "c_loss": 0.5}\n{"step": 6, "c_lo')
  assert [r["step"] for r in files.read_jsonl(path)] == [2, 4]
  assert "3 line(s) that are not JSON rows skipped" in caplog.text
  writer = jsonl_writer.JsonlWriter(path, resume_step=4)
  writer.write_scalars(6, {"c_loss": 0.25})
  assert files.read_jsonl(path) == [{"step": 2, "c_loss": 1.0},
                                    {"step": 4, "c_loss": 0.5},
                                    {"step": 6, "c_loss": 0.25}]
  with open(path + ".bad", errors="replace") as f:
    assert len(f.read().splitlines()) == 3
  assert "3 line(s) that are not JSON rows moved to" in caplog.text


def test_ctrl_c_saves_and_says_how_to_continue(tiny_data, tmp_path):
  """Issue 14.6: SIGINT behaves like SIGTERM (checkpoint at the current
  step, no traceback, no abandoned save), then exits non-zero."""
  workdir = str(tmp_path / "run")
  proc, _ = _start_long_run(tiny_data, workdir)
  proc.send_signal(signal.SIGINT)
  out, err = proc.communicate(timeout=240)
  assert proc.returncode == 130, err[-2000:]
  assert "Traceback" not in err
  step = int(out.split("stopped at step ")[1].split(";")[0])
  assert "rerun the same command to continue" in out
  ckpt_dir = os.path.join(workdir, "checkpoints")
  assert not [n for n in os.listdir(ckpt_dir) if "tmp" in n]
  ckpt = checkpointing.Checkpointer(ckpt_dir)
  assert ckpt.latest_step == step
  ckpt.close()


def test_bytes_changed_in_a_finished_checkpoint_are_caught(run_dir, tmp_path,
                                                           caplog):
  """Issue 14.4: 4 KiB overwritten inside the largest data file of the
  latest step restored silently before; now its recorded checksums catch
  it, and the step is handled like an unreadable one."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  step_dir = os.path.join(copy, "checkpoints", "4")
  assert os.path.exists(os.path.join(step_dir, checkpointing.CHECKSUM_FILE))
  sizes = {}
  for root, _, names in os.walk(step_dir):
    for name in names:
      sizes[os.path.join(root, name)] = os.path.getsize(
          os.path.join(root, name))
  largest = max(sizes, key=sizes.get)
  with open(largest, "r+b") as f:
    f.seek(sizes[largest] // 2)
    f.write(np.random.default_rng(0).bytes(4096))
  ckpt = checkpointing.Checkpointer(os.path.join(copy, "checkpoints"))
  state = ckpt.restore_or(_target(config))
  ckpt.close()
  assert int(state.step) == 2
  assert "step 4 is unreadable" in caplog.text
  assert "differ from their checksums" in caplog.text
  assert os.path.isdir(os.path.join(copy, "checkpoints_unreadable", "4"))
  # The untouched run restores its latest step, checked.
  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  assert int(ckpt.restore_or(_target(config)).step) == 4
  ckpt.close()


def _copy_and_read_results(workdir, tmp_path):
  """(a copy of the finished run, its results.json as a dict)."""
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  with open(os.path.join(copy, "results.json")) as f:
    return copy, json.load(f)


def _write_results(workdir, results):
  with open(os.path.join(workdir, "results.json"), "w") as f:
    json.dump(results, f)


def test_a_run_recorded_before_a_field_existed_still_matches(run_dir,
                                                             tmp_path):
  """A config field added later with its old behaviour as default
  (core.recorded_config.FIELDS_ADDED_LATER) leaves finished runs usable;
  a non-default value of it is a difference."""
  config, workdir = run_dir
  copy, results = _copy_and_read_results(workdir, tmp_path)
  del results["config"]["method"]["gan_during_warmup"]
  _write_results(copy, results)
  assert trainer.finished_results(config, copy).steps == 4
  changed = config.copy_and_resolve_references()
  changed.method.gan_during_warmup = False
  with pytest.raises(ConfigError,
                     match="method.gan_during_warmup: True -> False"):
    trainer.finished_results(changed, copy)


def test_a_run_recorded_as_a_flat_config_still_matches(run_dir, tmp_path):
  """Runs recorded before the configs became trees (issue 13) hold one
  flat config (`method` a string, `eps`, `optim.g_lr`, ...): each old field
  reads as its field in today's tree, so the finished run still matches
  its config (a sweep reads it back, nothing retrains) and a changed
  value is still a difference, named in today's terms."""
  config, workdir = run_dir
  copy, results = _copy_and_read_results(workdir, tmp_path)
  tree = traverse_util.flatten_dict(results["config"], sep=".")
  new_to_old = {new: old for old, new in recorded_config.RENAMED.items()}
  new_to_old.update({"optim.generator.b1": "optim.gan_b1",
                     "optim.critic.b1": "optim.gan_b1",
                     "optim.generator.b2": "optim.gan_b2",
                     "optim.critic.b2": "optim.gan_b2"})
  # A flat record lacks the fields added after the tree (recorded_config
  # fills them): kept, a dotted one such as method.perturbed_batch_norm
  # would sit under the string `method`.
  flat = {new_to_old.get(k, k): v for k, v in tree.items()
          if k in new_to_old or k not in recorded_config.FIELDS_ADDED_LATER}
  assert isinstance(flat["method"], str) and "eps" in flat
  assert "optim.g_lr" in flat and "gen_width" in flat
  results["config"] = traverse_util.unflatten_dict(flat, sep=".")
  _write_results(copy, results)
  assert trainer.finished_results(config, copy).steps == 4
  changed = config.copy_and_resolve_references()
  changed.optim.generator.lr = 1e-3
  with pytest.raises(ConfigError, match="optim.generator.lr: 0.0002 -> 0.001"):
    trainer.finished_results(changed, copy)


def test_another_configs_intact_checkpoint_is_refused_not_moved(run_dir,
                                                                tmp_path):
  """Issue 14.3: with --allow_config_change and a config of other shapes,
  the good checkpoints used to be moved to checkpoints_unreadable/ and the
  next start retrained from step 0. Their checksums say they are intact:
  one-line ConfigError, nothing moved or written."""
  config, workdir = run_dir
  copy = str(tmp_path / "copy")
  shutil.copytree(workdir, copy)
  os.remove(os.path.join(copy, "results.json"))  # an unfinished run
  before = _snapshot(copy)
  changed = config.copy_and_resolve_references()
  changed.model.classifier.use_batchnorm = False  # C without BatchNorm: another tree
  with pytest.raises(ConfigError) as info:
    trainer.train_and_evaluate(changed, copy, allow_config_change=True)
  message = str(info.value)
  assert "step 4" in message and "intact" in message and "\n" not in message
  assert not os.path.exists(os.path.join(copy, "checkpoints_unreadable"))
  assert _snapshot(copy) == before
  # The run's own config still resumes from its step 4.
  ckpt = checkpointing.Checkpointer(os.path.join(copy, "checkpoints"))
  assert int(ckpt.restore_or(_target(config)).step) == 4
  ckpt.close()


def test_results_name_the_commit_of_the_code(run_dir, tmp_path, monkeypatch):
  """results.json records which tree ran it: git's HEAD of the checkout
  holding wcgen, "+dirty" when a tracked file other than a document
  differs from it, None
  outside a git checkout (checked on a repository made here)."""
  from wcgen.core import code_version  # pylint: disable=g-import-not-at-top
  _, workdir = run_dir
  with open(os.path.join(workdir, "results.json")) as f:
    assert json.load(f)["code_version"] == code_version.describe()
  git = lambda *a: subprocess.run(
      ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
       "user.email=t@t", *a], capture_output=True, text=True, check=True
  ).stdout.strip()
  monkeypatch.setattr(code_version, "_PACKAGE_DIR", str(tmp_path))
  code_version.describe.cache_clear()
  try:
    assert code_version.describe() is None  # not a checkout (yet)
    git("init", "-q")
    (tmp_path / "a.py").write_text("x = 1\n")
    git("add", "a.py")
    git("commit", "-qm", "one")
    head = git("rev-parse", "HEAD")
    code_version.describe.cache_clear()
    assert code_version.describe() == head
    # Documents change nothing a run computes: an archived record or a
    # RESULTS.md edited during a sweep leaves its later runs clean.
    (tmp_path / "docs" / "runs").mkdir(parents=True)
    (tmp_path / "docs" / "runs" / "robust.md").write_text("| run |\n")
    (tmp_path / "README.md").write_text("words\n")
    git("add", "docs", "README.md")
    git("commit", "-qm", "records")
    head = git("rev-parse", "HEAD")
    (tmp_path / "docs" / "runs" / "robust.md").write_text("| run | seeds |\n")
    (tmp_path / "README.md").write_text("other words\n")
    code_version.describe.cache_clear()
    assert code_version.describe() == head
    (tmp_path / "a.py").write_text("x = 2\n")
    (tmp_path / "untracked.txt").write_text("not code\n")
    code_version.describe.cache_clear()
    assert code_version.describe() == head + "+dirty"
  finally:
    code_version.describe.cache_clear()


def test_the_recorded_commit_is_the_one_at_the_runs_start(tiny_config,
                                                          tmp_path,
                                                          monkeypatch):
  """A commit made while a run trains is not the code that ran it: the
  trainer reads the tree's version before the first step. Here the
  'checkout' answers one version until the run has written a checkpoint,
  another after, and results.json must name the first."""
  from wcgen.core import code_version  # pylint: disable=g-import-not-at-top
  workdir = tmp_path / "run"
  monkeypatch.setattr(
      code_version, "describe",
      lambda: "after" if (workdir / "checkpoints").exists() and os.listdir(
          workdir / "checkpoints") else "before")
  trainer.train_and_evaluate(tiny_config, str(workdir))
  with open(workdir / "results.json") as f:
    assert json.load(f)["code_version"] == "before"


@pytest.mark.parametrize("sweeps,folder", [("issue15", "issue15"),
                                           ("issue15", "issue15_if20la"),
                                           ("issue16", "issue16"),
                                           ("issue16", "issue16_t5")])
def test_every_archived_run_still_matches_todays_sweep_config(sweeps, folder):
  """The records in docs/runs/ are what RESULTS.md's tables print from on
  a fresh clone: a config field added since they ran must read as the
  behaviour they had (core.recorded_config.FIELDS_ADDED_LATER), or every
  one of them is refused as "another config" and every sweep retrains."""
  import importlib  # pylint: disable=g-import-not-at-top
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import archive  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import sweep  # pylint: disable=g-import-not-at-top
  root = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs",
                      "runs", folder)
  runs = sweep.every_run(importlib.import_module(
      f"configs.sweeps.{sweeps}").SWEEPS.values())
  results = sweep.read_sweep(fmnist_wgan.get_config(), runs, root,
                             seeds=range(3))
  archived = archive.finished_run_dirs(root)
  assert archived and sum(map(len, results.values())) == len(archived)


def test_fields_added_later_default_to_the_behaviour_of_older_runs():
  """Each field's reading for runs recorded without it is today's default:
  a default changed later would silently give old runs the new behaviour."""
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  flat = traverse_util.flatten_dict(fmnist_wgan.get_config().to_dict(),
                                    sep=".")
  for field, value in recorded_config.FIELDS_ADDED_LATER.items():
    assert flat[field] == value, field

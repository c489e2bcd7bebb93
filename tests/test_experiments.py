"""Table grids and the table writer; the smoke budget of each table."""

import csv
import json
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from flax import traverse_util

from wcgen.core import results as results_lib
from wcgen.experiments import grid
from wcgen.experiments import report
from wcgen.experiments import tables

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAKE = {  # accuracies in [0, 1], per seed
    "erm": {"fashion_mnist_if100": [0.80, 0.82],
            "fashion_mnist_if20": [0.875]},
    "worst_case": {"fashion_mnist_if100": [0.70, 0.74, 0.72]},
}


def test_markdown_cells_are_mean_std_beside_the_papers():
  md = report.markdown(tables.TABLE1, FAKE)
  rows = {line.split(" | ")[0].strip("| "): line.strip("|").split(" | ")
          for line in md.splitlines() if line.startswith("| ")}
  header = [h.strip() for h in rows["method"]]
  col = header.index("FMNIST IF=100 (ours)")
  assert header[col + 1] == "FMNIST IF=100 (paper)"
  erm = [c.strip() for c in rows["Classifier (ERM)"]]
  assert erm[col] == "81.00 ± 1.41"  # mean 81, sample std sqrt(2)
  assert erm[col + 1] == "79.89"
  assert erm[header.index("FMNIST IF=20 (ours)")] == "87.50"  # one seed
  assert erm[header.index("MNIST IF=100 (ours)")] == "—"
  ours = [c.strip() for c in rows["Ours (W, Eq. 10)"]]
  assert ours[col] == "72.00 ± 2.00" and ours[col + 1] == "83.06"
  delta = [c.strip() for c in rows["Δ-GAN (not in wcgen)"]]
  assert delta[col] == "—" and delta[col + 1] == "78.85"
  assert "1/2/3 seed(s)" in md


def test_csv_rows_are_exact():
  text = report.csv_text(tables.TABLE1, FAKE)
  rows = list(csv.reader(io.StringIO(text)))
  assert rows[0] == ["table", "row", "column", "seeds", "mean", "std",
                     "paper", "values"]
  by_key = {(r[1], r[2]): r for r in rows[1:]}
  assert by_key[("erm", "fashion_mnist_if100")] == [
      "1", "erm", "fashion_mnist_if100", "2", "81.0000", "1.4142", "79.89",
      "80.0000 82.0000"]
  assert by_key[("mixup", "mnist_if1")] == [
      "1", "mixup", "mnist_if1", "0", "", "", "", ""]
  assert len(rows) == 1 + len(tables.TABLE1.rows) * len(tables.TABLE1.columns)


def test_by_class_breakdown_averages_seeds():
  def run(per_class):
    counts = [6000, 3597, 2156, 1293, 775, 465, 278, 167, 100, 60]
    from wcgen.eval import accuracy  # pylint: disable=g-import-not-at-top
    return results_lib.RunResults.from_json_dict({
        "method": "erm", "dataset": "fashion_mnist", "imbalance_factor": 100,
        "seed": 0, "steps": 4, "batch_size": 8,
        "wall_time_sec_this_process": 1.0,
        "train_class_counts": counts, "test_per_class_accuracy": per_class,
        "test_shot_accuracy": accuracy.shot_group_accuracy(per_class, counts),
        "config": {"data": {"name": "fashion_mnist"}}})
  runs = {"erm": {"fashion_mnist_if100": [run([0.9] * 8 + [0.5, 0.3]),
                                          run([0.7] * 8 + [0.7, 0.1])]}}
  md = report.breakdown_markdown(tables.TABLE1, runs)
  assert "### FMNIST IF=100" in md and "### FMNIST IF=20" not in md
  # Classes by name, each with its training images.
  assert "| T-shirt/top (6000) |" in md and "| Ankle boot (60) |" in md
  line = next(l for l in md.splitlines() if l.startswith("| Classifier"))
  # seeds, many (mean of 0.9 and 0.7), medium ((0.4 + 0.4) / 2), few (none)
  assert line.startswith("| Classifier (ERM) | 2 | 80.0 | 40.0 | — | 80.0 |")
  assert line.endswith("| 60.0 | 20.0 |")


def test_cell_config_applies_overrides_and_seed_only():
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  base = fmnist_wgan.get_config()
  row = tables.TABLE1.row("class_balanced")
  column = next(c for c in tables.TABLE1.columns
                if c.id == "fashion_mnist_if20")
  config = grid.cell_config(base, row, column, seed=2,
                            extra={"data.data_dir": "/d"})
  assert config.method.name == "erm" and config.loss.name == "class_balanced"
  assert config.data.imbalance_factor == 20.0 and config.seed == 2
  assert config.data.data_dir == "/d"
  assert config.data.subset_seed == base.data.subset_seed  # one fixed subset
  old, new = (traverse_util.flatten_dict(c.to_dict(), sep=".")
              for c in (base, config))
  assert {k for k in old if old[k] != new[k]} == {
      "method.name", "loss.name", "seed", "data.imbalance_factor",
      "data.data_dir"}


def test_plan_filters_and_skips_rows_not_in_wcgen():
  cells = grid.plan(tables.TABLE1, [0, 1], rows=None,
                    datasets=["fashion_mnist"])
  assert {c.dataset for _, c, _ in cells} == {"fashion_mnist"}
  assert "delta_gan" not in {r.id for r, _, _ in cells}
  implemented = sum(r.overrides is not None for r in tables.TABLE1.rows)
  assert len(cells) == implemented * 3 * 2


def test_every_cell_of_every_table_is_a_valid_config():
  from wcgen.experiments import registry  # pylint: disable=g-import-not-at-top
  from wcgen.train import validation  # pylint: disable=g-import-not-at-top
  for table in tables.TABLES.values():
    for row, column, seed in grid.plan(table, [0]):
      for budget in registry.BUDGET_ARGS:
        base = registry.base_config(column.dataset, budget)
        config = grid.cell_config(base, row, column, seed)
        validation.validate_config(config, device_count=1)
        assert config.data.name == column.dataset


def test_long_budget_is_the_validation_sweeps_budget():
  """A table at `--budget=long` trains exactly as long, with the same
  warm-up and evaluation points, as the issue-15 sweep runs whose
  validation scores chose its recipes; `cpu` stays the main job's."""
  from configs.sweeps import issue15  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import registry  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import sweep  # pylint: disable=g-import-not-at-top
  for dataset in ("fashion_mnist", "mnist", "cifar10", "svhn_cropped"):
    long = registry.base_config(dataset, "long")
    swept = sweep.run_config(registry.base_config(dataset, "cpu"),
                             dict(issue15.SWEEPS["budget"])[
                                 f"erm_{issue15.BUDGET}"], 0, True)
    for field in ("schedule.num_train_steps", "schedule.eval_every_steps",
                  "schedule.checkpoint_every_steps", "method.warmup_steps"):
      section, key = field.split(".")
      assert long[section][key] == swept[section][key], (dataset, field)
    assert long.schedule.num_train_steps == 4 * registry.base_config(
        dataset, "cpu").schedule.num_train_steps


def _reproduce(tiny_data, workdir, *args):
  cmd = [sys.executable, os.path.join(REPO, "launch", "reproduce.py"),
         "--budget=smoke", f"--workdir={workdir}",
         f"--data_dir={tiny_data[0]}", f"--tfds_dir={tiny_data[1]}", *args]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                        cwd=REPO)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc.stdout


def _reproduce_here(tiny_data, workdir, *args):
  """`_reproduce` in this process, through the library the launcher calls
  (no interpreter start per call); returns the table's text."""
  from wcgen.experiments import reproduction  # pylint: disable=g-import-not-at-top
  kwargs = {"budget": "smoke", "workdir": workdir, "data_dir": tiny_data[0],
            "tfds_dir": tiny_data[1]}
  for arg in args:
    key, value = arg[2:].split("=", 1) if "=" in arg else (arg[2:], True)
    if key in ("rows", "columns", "datasets"):
      value = value.split(",")
    elif key in ("seeds", "generation_samples"):
      value = int(value)
    kwargs[key] = value
  return reproduction.reproduce(reproduction.Request(**kwargs))[0]


def test_smoke_budget_of_each_table_runs_and_resumes(tiny_data, tmp_path):
  workdir = str(tmp_path / "repro")
  args = ["--table=1", "--seeds=2", "--rows=erm,class_balanced",
          "--columns=fashion_mnist_if100,mnist_if100"]
  out = _reproduce_here(tiny_data, workdir, *args)
  assert "4 runs trained now, 0 read from finished runs" in out
  # MNIST's files are not there: its column is skipped, and the table says
  # which files are missing and where they go.
  assert ("Column mnist_if100 not run: no local files for mnist: put "
          "train-images-idx3-ubyte.gz") in out
  with open(os.path.join(workdir, "table1.csv")) as f:
    rows = {(r["row"], r["column"]): r for r in csv.DictReader(f)}
  for key in (("erm", "fashion_mnist_if100"),
              ("class_balanced", "fashion_mnist_if100")):
    assert rows[key]["seeds"] == "2"
    assert 0 <= float(rows[key]["mean"]) <= 100
  assert rows[("erm", "fashion_mnist_if100")]["paper"] == "79.89"
  assert os.path.exists(os.path.join(workdir, "table1.png"))
  with open(os.path.join(workdir, "table1_by_class.md")) as f:
    assert "| C-B loss | 2 |" in f.read()
  first = open(os.path.join(workdir, "table1.csv")).read()
  # The same command again reads the finished runs and writes the same
  # numbers.
  out = _reproduce_here(tiny_data, workdir, *args)
  assert "0 runs trained now, 4 read from finished runs" in out
  assert open(os.path.join(workdir, "table1.csv")).read() == first
  # --report_only reads what is finished and trains nothing.
  out = _reproduce_here(tiny_data, workdir, "--table=1", "--seeds=3",
                        "--rows=erm", "--columns=fashion_mnist_if100",
                        "--report_only")
  assert "0 runs trained now, 2 read from finished runs" in out
  assert "1 runs not finished yet" in out
  assert not os.path.exists(os.path.join(
      workdir, "table1", "smoke", "erm", "fashion_mnist_if100", "seed2"))
  # Another budget never reads these runs (issue 14.1): its report finds
  # nothing finished.
  out = _reproduce_here(tiny_data, workdir, *args[:2], "--rows=erm",
                        "--columns=fashion_mnist_if100", "--budget=cpu",
                        "--report_only")
  assert "0 runs trained now, 0 read from finished runs" in out
  assert "2 runs not finished yet" in out
  # A finished run whose recorded config differs from its cell's is
  # refused in one line naming the field, and left as it is.
  path = os.path.join(workdir, "table1", "smoke", "erm", "fashion_mnist_if100",
                      "seed1", "results.json")
  with open(path) as f:
    tampered = json.load(f)
  tampered["config"]["schedule"]["num_train_steps"] = 12345
  with open(path, "w") as f:
    json.dump(tampered, f)
  proc = subprocess.run(
      [sys.executable, os.path.join(REPO, "launch", "reproduce.py"),
       f"--workdir={workdir}", "--budget=smoke", f"--data_dir={tiny_data[0]}",
       f"--tfds_dir={tiny_data[1]}", "--cpu_devices=1", *args],
      capture_output=True, text=True, timeout=600, cwd=REPO)
  assert proc.returncode == 2
  error = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(error) == 1, proc.stderr[-2000:]
  assert "schedule.num_train_steps: 12345 -> 4" in error[0]
  assert "seed1" in error[0] and "use a new --workdir" in error[0]
  with open(path) as f:
    assert json.load(f) == tampered
  # The epsilon sweep's smoke budget (one column: a GAN run).
  _reproduce_here(tiny_data, workdir, "--table=fig2d", "--seeds=1",
                  "--columns=eps0.3")
  with open(os.path.join(workdir, "tablefig2d.csv")) as f:
    eps_rows = {r["column"]: r for r in csv.DictReader(f)}
  assert eps_rows["eps0.3"]["seeds"] == "1"
  assert set(eps_rows) == {"eps0.3"}  # the files show the columns asked for


def test_smoke_cell_of_a_colour_table(tmp_path):
  """Table 3's distorted column, through the launcher on CIFAR-10 files in
  their real format: the row trains once on clean images (the run of the
  dataset's Normal column) and is scored on the distorted test set."""
  from conftest import make_cifar_tarball  # pylint: disable=g-import-not-at-top
  raw = tmp_path / "raw"
  make_cifar_tarball(str(raw / "cifar10"), train_per_class=8,
                     test_per_class=2)
  data = (str(raw), str(tmp_path / "tfds"))
  workdir = str(tmp_path / "repro")
  _reproduce(data, workdir, "--table=3", "--seeds=1", "--rows=augment",
             "--columns=cifar10_g0.2")
  run = os.path.join(workdir, "table3", "smoke", "augment", "cifar10_normal",
                     "seed0")
  with open(os.path.join(run, "results.json")) as f:
    assert json.load(f)["test_distortion"]["kind"] == "none"  # clean run
  with open(os.path.join(run, "posthoc", "test,test_distortion=gaussian,"
                         "test_distortion_level=0.2.json")) as f:
    result = json.load(f)
  assert result["distortion"]["kind"] == "gaussian"
  with open(os.path.join(workdir, "table3.csv")) as f:
    row = next(r for r in csv.DictReader(f) if r["column"] == "cifar10_g0.2"
               and r["row"] == "augment")
  assert float(row["mean"]) == pytest.approx(
      100 * result["accuracy"], abs=1e-3)
  assert row["paper"] == "85.25"


def test_heavy_model_cells_resolve_to_the_papers_models():
  """Table 2's VGG-16 cell and Table 5's ablation cell (ResNet-101 without
  BatchNorm on 20% of CIFAR-10) at the smoke budget: the cell's config
  names the paper's model and setting, validates, and builds a classifier
  of the published size (shapes only: training either model at the smoke
  budget costs minutes of compilation on 2 cores, and the training step is
  the same code every other cell runs)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from wcgen import models  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import registry  # pylint: disable=g-import-not-at-top
  from wcgen.train import validation  # pylint: disable=g-import-not-at-top

  def cell(table, row_id, column_id):
    (row, column, _), = grid.plan(table, [0], [row_id], None, [column_id])
    config = grid.cell_config(registry.base_config(column.dataset, "smoke"),
                              row, column, 0)
    validation.validate_config(config, device_count=1)
    return config

  def parameters(config):
    net = models.create_classifier(config.model.classifier.name, 10, config.model.classifier.dropout_rate,
                                   config.model.classifier.use_batchnorm)
    x = jnp.zeros((1, 32, 32, 3))
    shapes = jax.eval_shape(lambda: net.init(jax.random.PRNGKey(0), x,
                                             train=False))
    return sum(int(jnp.prod(jnp.array(l.shape)))
               for l in jax.tree.leaves(shapes["params"]))

  vgg = cell(tables.TABLES["2"], "erm_vgg", "svhn_cropped_s0.1")
  assert (vgg.model.classifier.name, vgg.method.name, vgg.data.name) == (
      "vgg16", "erm", "svhn_cropped")
  svhn_s01 = next(c for c in tables.TABLES["2"].columns
                  if c.id == "svhn_cropped_s0.1")
  assert svhn_s01.test_only["data.test_distortion"] == "salt_pepper"
  assert parameters(vgg) == 14_728_266 - 4_224  # test_model_zoo's count
  no_bn = cell(tables.TABLES["5"], "erm", "no_bn")
  assert (no_bn.model.classifier.name, no_bn.model.classifier.use_batchnorm) == ("resnet101", False)
  assert no_bn.data.train_fraction == 0.2 and no_bn.data.name == "cifar10"
  assert parameters(no_bn) < 42_512_970  # ResNet-101 less its BatchNorms


def test_table4_without_inception_weights_is_a_one_line_error(tmp_path):
  cmd = [sys.executable, os.path.join(REPO, "launch", "reproduce.py"),
         "--table=4", f"--workdir={tmp_path}"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and "--inception_weights" in errors[0]
  assert "--generation_metric=fcd" in errors[0]


def test_distance_tables_are_not_scaled_and_fcd_drops_the_papers():
  fake = {"worst_case": {"mnist_if10": [27.0, 29.0]}}
  md = report.markdown(tables.TABLE4, fake)
  line = next(l for l in md.splitlines() if l.startswith("| Ours"))
  assert "| 28.00 ± 1.41 | 27.60 |" in line
  assert "FID of the final generator" in md
  fcd = tables.as_fcd(tables.TABLE4)
  md = report.markdown(fcd, fake)
  line = next(l for l in md.splitlines() if l.startswith("| Ours"))
  assert "| 28.00 ± 1.41 | — |" in line and "27.60" not in md
  assert "FCD" in fcd.title and "not comparable with FID" in md
  rows = list(csv.DictReader(io.StringIO(report.csv_text(fcd, fake))))
  cell = next(r for r in rows if r["row"] == "worst_case" and
              r["column"] == "mnist_if10")
  assert cell["mean"] == "28.0000" and cell["values"] == "27.0000 29.0000"


def test_table4_smoke_with_fcd(tmp_path):
  """Table 4's grid on MNIST files in the real IDX format, scored by FCD
  under a reference classifier the sweep first trains on the whole
  balanced set (the FID path: test_generator_scorer_with_fid)."""
  import json  # pylint: disable=g-import-not-at-top
  from conftest import make_idx_dir  # pylint: disable=g-import-not-at-top
  make_idx_dir(str(tmp_path / "raw" / "mnist"), train_per_class=16,
               test_per_class=2)
  data = (str(tmp_path / "raw"), str(tmp_path / "tfds"))
  workdir = str(tmp_path / "repro")
  out = _reproduce_here(data, workdir, "--table=4", "--seeds=1",
                        "--rows=worst_case", "--columns=mnist_if10",
                        "--generation_samples=8", "--generation_metric=fcd")
  assert "FCD (Fréchet Classifier Distance, not FID)" in out
  reference = os.path.join(workdir, "table4", "smoke", "reference", "mnist")
  with open(os.path.join(reference, "results.json")) as f:
    ref = json.load(f)
  assert ref["method"] == "erm" and ref["imbalance_factor"] == 1.0
  assert ref["train_class_counts"] == [16] * 10  # the whole balanced set
  run = os.path.join(workdir, "table4", "smoke", "worst_case", "mnist_if10",
                     "seed0")
  with open(os.path.join(run, "results.json")) as f:
    # IF 10 on the 14 per class left after 2 are held out for validation.
    assert json.load(f)["train_class_counts"][-1] == 1
  with open(os.path.join(run, "fcd.json")) as f:
    fcd = json.load(f)
  assert fcd["samples"] == 8 and fcd["fcd"] > 0
  with open(os.path.join(workdir, "table4.csv")) as f:
    row = next(r for r in csv.DictReader(f) if r["row"] == "worst_case" and
               r["column"] == "mnist_if10")
  assert float(row["mean"]) == pytest.approx(fcd["fcd"], abs=1e-3)
  assert row["paper"] == ""


def test_generator_scorer_with_fid(finished_run, tmp_path, monkeypatch):
  """FID of a finished run's generator under seeded Inception weights from
  a .npz: the Fréchet distance of the Inception features of its samples
  (class-balanced labels) and of real training images; cached per run."""
  import fid_weights  # pylint: disable=g-import-not-at-top
  from test_fid import _reference  # pylint: disable=g-import-not-at-top
  from wcgen.eval import features, fid, frechet, generation  # pylint: disable=g-import-not-at-top
  config, workdir, _ = finished_run
  run = str(tmp_path / "run")
  import shutil  # pylint: disable=g-import-not-at-top
  shutil.copytree(workdir, run)
  weights = str(tmp_path / "inception.npz")
  fid.save_npz(fid.variables_from_state_dict(
      fid_weights.state_dict(_reference()[0])), weights)
  scorer = generation.GeneratorScorer(
      "fid", 8, generation.inception_feature_fn_for(weights), source=weights)
  value = scorer(run)
  # The same number by hand, from the pieces.
  inception = fid.feature_fn(fid.load_inception(weights))
  _, method, state = features.load_run(run)
  labels = generation.balanced_labels(8, 10)
  assert labels.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][:8]
  fake = features.generated_images(method, state, labels, seed=0)
  real = generation.real_training_images(config, 8, seed=0)
  assert real.shape == (8, 32, 32, 1) and -1 <= real.min() < real.max() <= 1
  assert value == pytest.approx(frechet.feature_distance(
      inception(fake), inception(real)), rel=1e-6)
  # Cached: a second scorer reads run/fid.json without loading the run,
  # unless the features' source or the sample count changed.
  monkeypatch.setattr(features, "load_run", lambda *a: 1 / 0)
  assert generation.GeneratorScorer("fid", 8, lambda c: None,
                                    source=weights)(run) == value
  with pytest.raises(ZeroDivisionError):
    generation.GeneratorScorer("fid", 8, lambda c: None, source="other")(run)


def test_shot_groups_follow_the_oltr_thresholds():
  from wcgen.eval import accuracy  # pylint: disable=g-import-not-at-top
  counts = [6000, 3597, 2156, 1293, 775, 465, 278, 167, 100, 60]  # IF 100
  per_class = [0.9, 0.9, 0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.4, 0.2]
  groups = accuracy.shot_group_accuracy(per_class, counts)
  assert groups["many"] == pytest.approx(np.mean(per_class[:8]))
  assert groups["medium"] == pytest.approx(0.3)  # 100 and 60 images
  assert groups["few"] is None
  groups = accuracy.shot_group_accuracy([1.0, 0.5, 0.0], [500, 50, 5])
  assert groups == {"many": 1.0, "medium": 0.5, "few": 0.0}


def test_a_reproduction_request_is_checked_before_anything_is_written(
    tmp_path):
  """The launcher's checks live in the library (wcgen.experiments.
  reproduction): each bad request is one ConfigError naming the choices,
  and no workdir is made for it."""
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import reproduction  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path / "never")
  bad = {"table": ("7", r"unknown table '7'; choose one of \['1', "),
         "rows": (["erm", "nosuch"], r"unknown rows \['nosuch'\] for table 1"),
         "columns": (["if3"], r"unknown columns \['if3'\] for table 1"),
         "budget": ("huge", r"unknown budget 'huge'; choose one of "),
         "seeds": (0, "--seeds must be >= 1")}
  for field, (value, message) in bad.items():
    request = reproduction.Request(**{"table": "1", "workdir": workdir,
                                      field: value})
    with pytest.raises(ConfigError, match=message):
      reproduction.reproduce(request)
  assert not os.path.exists(workdir)
  table = reproduction.check(reproduction.Request(table="1", workdir=workdir))
  assert table is tables.TABLE1
  assert reproduction.Request("1", workdir, data_dir="/d").extra == {
      "data.data_dir": "/d"}


def test_fashion_mnist_stand_in_table_smoke(tiny_data, tmp_path):
  """Issue 16: a stand-in table's smoke budget trains the per-sample game
  on clean images (its Normal column's run), scores it on a distorted test
  set, and says it is a stand-in: its title names Fashion-MNIST and no
  paper column appears."""
  from wcgen.experiments import reproduction  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path / "repro")
  text, written = reproduction.reproduce(reproduction.Request(
      table="2fm", workdir=workdir, budget="smoke", seeds=1,
      rows=["worst_case_per_sample"], columns=["fashion_mnist_g0.3"],
      data_dir=tiny_data[0], tfds_dir=tiny_data[1]))
  assert "Fashion-MNIST stand-in, not the paper's dataset" in text
  assert "(paper)" not in text and "no numbers for this setting" in text
  run = os.path.join(workdir, "table2fm", "smoke", "worst_case_per_sample",
                     "fashion_mnist_normal", "seed0")
  with open(os.path.join(run, "results.json")) as f:
    assert json.load(f)["config"]["model"]["generator"]["name"] == "residual"
  with open(os.path.join(run, "posthoc", "test,test_distortion=gaussian,"
                         "test_distortion_level=0.3.json")) as f:
    result = json.load(f)
  assert result["distortion"]["level"] == 0.3
  line = next(l for l in text.splitlines() if l.startswith("| Ours, per"))
  assert line.split(" | ")[1].strip(" |") == (
      f"{100 * result['accuracy']:.2f}")
  assert written["md"].endswith("table2fm.md")
  # Fig. 2's pictures and the FCD of this per-sample run: its G perturbs
  # training images of the asked classes, within the configured bound,
  # the seeds it was given and not others; without its data it says so.
  from wcgen.data import input_pipeline  # pylint: disable=g-import-not-at-top
  from wcgen.eval import features, generation  # pylint: disable=g-import-not-at-top
  config, method, state = features.load_run(run)
  data = input_pipeline.create_datasets(config.data)
  labels = generation.balanced_labels(20, 10)
  fake = features.run_samples(method, state, labels, data, seed=3)
  seeds = features.seed_images(data, labels, np.random.default_rng(3))
  others = features.seed_images(data, labels, np.random.default_rng(4))
  assert np.max(np.abs(fake - seeds)) <= (
      config.model.generator.perturbation_bound + 1e-6)
  assert np.mean(np.abs(fake - seeds)) < 0.5 * np.mean(np.abs(fake - others))
  with pytest.raises(ValueError, match="pass the run's data"):
    features.run_samples(method, state, labels)
  fcd = generation.GeneratorScorer(
      "fcd", 20, generation.classifier_feature_fn_for({"fashion_mnist": run}),
      source=run)(run)
  assert np.isfinite(fcd) and fcd >= 0

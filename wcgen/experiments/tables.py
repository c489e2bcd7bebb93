"""The paper's tables as grids: rows (methods) x columns (data settings).

Each cell is one config (a base config for the column's dataset and
budget, plus the row's and the column's overrides), run once per seed. The
paper's own numbers stand beside ours, labelled as the paper's; rows the
paper has and wcgen does not implement keep their paper numbers and show
no result of ours.
"""

import dataclasses
from typing import Any, Dict, Optional, Sequence

Overrides = Dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Column:
  id: str
  label: str
  dataset: str
  overrides: Overrides = dataclasses.field(default_factory=dict)
  x: Optional[float] = None  # position on the table's plot, if any
  metric: Optional[str] = None  # the results.json key; default the table's
  # Overrides that change only the test set (a distortion): the column's
  # cells are the runs of column `trained_as` (same training overrides),
  # scored again with these set (wcgen.train.posthoc), not trained anew.
  test_only: Overrides = dataclasses.field(default_factory=dict)
  trained_as: Optional[str] = None

  @property
  def run_id(self) -> str:
    """The column whose training runs this column's cells are."""
    return self.trained_as or self.id


@dataclasses.dataclass(frozen=True)
class Row:
  id: str
  label: str
  overrides: Optional[Overrides]  # None: not implemented in wcgen
  paper: Dict[str, float] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Table:
  id: str
  title: str
  rows: Sequence[Row]
  columns: Sequence[Column]
  metric: str = "test_accuracy"
  plot_x_label: Optional[str] = None  # plots the metric against column.x
  # Results hold fractions for accuracies (shown x100, in %) and raw values
  # for distances (FID, FCD).
  scale: float = 100.0
  metric_label: str = "test accuracy (%)"
  # What each of our cells is, for the table's footnote.
  metric_note: str = ("the final classifier's test accuracy (no test-set "
                      "model selection)")

  def row(self, row_id: str) -> Row:
    return next(r for r in self.rows if r.id == row_id)


def _lt(dataset: str, label: str, imbalance: float) -> Column:
  return Column(f"{dataset}_if{imbalance:g}", f"{label} IF={imbalance:g}",
                dataset, {"data.imbalance_factor": float(imbalance)},
                x=float(imbalance))


def _paper(columns: Sequence[Column], values: Sequence[float]):
  return {c.id: v for c, v in zip(columns, values)}


# Eq. 8's per-sample form of the game (our reading, docs/METHODS.md; not the
# paper's experiment): G(x_i, y_i, z) perturbs class-balanced seed images,
# the critic sees the same balanced data. And its control: the same
# class-balanced batch, unperturbed (oversampling at the game's rate).
_PER_SAMPLE = {"method.name": "worst_case", "model.generator.name": "residual",
               "method.critic_data": "balanced"}
_PER_SAMPLE_LABEL = "Ours, per-sample G(x_i, y_i, z) (Eq. 8; beyond the paper)"
_SEED_CONTROL = {"method.name": "seed_control"}
_SEED_CONTROL_LABEL = ("Control: its class-balanced seeds, unperturbed "
                       "(beyond the paper)")

_T1_COLUMNS = (
    [_lt("mnist", "MNIST", f) for f in (100, 20, 1)] +
    [_lt("fashion_mnist", "FMNIST", f) for f in (100, 20, 1)] +
    [_lt("cifar10", "CIFAR-10", f) for f in (20, 10, 1)])

TABLE1 = Table(
    id="1",
    title="Accuracy (%) on long-tailed datasets (paper's Table 1)",
    columns=_T1_COLUMNS,
    rows=(
        Row("erm", "Classifier (ERM)", {"method.name": "erm"}, _paper(
            _T1_COLUMNS, (89.77, 94.62, 99.35, 79.89, 87.33, 93.46, 81.51,
                          85.57, 93.04))),
        Row("gan_augment", "DAGAN-style GAN augmentation",
            {"method.name": "gan_augment"}, _paper(
                _T1_COLUMNS, (89.92, 95.71, 99.23, 77.63, 86.30, 92.87, 70.34,
                              77.82, 91.66))),
        Row("triple_gan", "Triple GAN (cooperative G)",
            {"method.name": "triple_gan"}, _paper(
                _T1_COLUMNS, (90.07, 95.19, 99.31, 78.92, 87.83, 92.55, 80.40,
                              83.06, 92.81))),
        Row("delta_gan", "Δ-GAN", None, _paper(
            _T1_COLUMNS, (90.25, 95.60, 99.28, 78.85, 87.62, 93.06, 79.99,
                          85.47, 92.87))),
        Row("worst_case", "Ours (W, Eq. 10)", {"method.name": "worst_case"},
            _paper(_T1_COLUMNS, (92.67, 96.23, 99.42, 83.06, 89.03, 93.24,
                                 81.94, 86.86, 93.01))),
        Row("worst_case_js", "Ours (JS, Eq. 14)",
            {"method.name": "worst_case", "method.divergence": "js",
             "method.gp_weight": 0.0}),
        Row("worst_case_per_sample", _PER_SAMPLE_LABEL, _PER_SAMPLE),
        Row("seed_control", _SEED_CONTROL_LABEL, _SEED_CONTROL),
        Row("class_balanced", "C-B loss", {
            "method.name": "erm", "loss.name": "class_balanced"}, _paper(
                _T1_COLUMNS, (92.90, 96.74, 99.38, 83.77, 89.97, 93.43, 84.36,
                              87.49, 93.64))),
        Row("oversampling", "DOS-style oversampling",
            {"method.name": "oversampling"}, _paper(
                _T1_COLUMNS, (90.82, 97.20, 99.07, 82.74, 89.34, 93.18, 81.72,
                              86.55, 92.83))),
        Row("logit_adjusted", "Logit adjustment (beyond the paper)",
            {"method.name": "erm", "loss.name": "logit_adjusted"}),
        Row("mixup", "mixup", {"method.name": "mixup"}),
        Row("worst_case_la", "Ours + logit-adjusted C (beyond the paper)",
            {"method.name": "worst_case", "loss.name": "logit_adjusted"}),
    ),
    plot_x_label="imbalance factor",
)

_EPS = (0.01, 0.1, 0.3, 0.5, 1.0, 2.0)
_FIG2D_COLUMNS = [Column(f"eps{e:g}", f"ε={e:g}", "fashion_mnist",
                         {"method.eps": e, "data.imbalance_factor": 100.0}, x=e)
                  for e in _EPS]

FIG2D = Table(
    id="fig2d",
    title="Accuracy (%) against ε on Fashion-MNIST-LT, IF=100 (paper's "
          "Fig. 2d sweep; the paper gives a plot, not numbers)",
    columns=_FIG2D_COLUMNS,
    rows=(Row("worst_case", "Ours (W)", {"method.name": "worst_case"}),),
    plot_x_label="ε (λ = 1/ε)",
)


# A distortion's letter in column labels: G(0.3), S(0.1), as the paper's.
DISTORTION_SHORT = {"gaussian": "G", "salt_pepper": "S"}


def _distorted(dataset: str, label: str, kind: str, level: float) -> Column:
  short = DISTORTION_SHORT[kind]
  return Column(f"{dataset}_{short.lower()}{level:g}",
                f"{label} {short}({level:g})", dataset,
                _normal(dataset, label).overrides,
                metric="test_distorted_accuracy",
                test_only={"data.test_distortion": kind,
                           "data.test_distortion_level": level},
                trained_as=_normal(dataset, label).id)


def _normal(dataset: str, label: str) -> Column:
  return Column(f"{dataset}_normal", f"{label} Normal", dataset,
                {"data.imbalance_factor": 1.0})


# Clean-trained, distorted-test (70% of test images). A distorted column
# re-tests the runs of its dataset's Normal column (the distortion changes
# nothing in training), so a row trains once per seed and dataset.
_T2_COLUMNS = (
    [_distorted("cifar10", "CIFAR-10", "gaussian", s) for s in (0.2, 0.3)] +
    [_distorted("cifar10", "CIFAR-10", "salt_pepper", 0.02),
     _normal("cifar10", "CIFAR-10")] +
    [_distorted("svhn_cropped", "SVHN", "gaussian", s) for s in (0.5, 0.7)] +
    [_distorted("svhn_cropped", "SVHN", "salt_pepper", 0.1),
     _normal("svhn_cropped", "SVHN")])

_VGG = {"model.classifier.name": "vgg16"}
_RESNET = {"model.classifier.name": "resnet101"}
TABLE2 = Table(
    id="2",
    title="Accuracy (%) on clean training sets and distorted test sets "
          "(paper's Table 2)",
    columns=_T2_COLUMNS,
    rows=(
        Row("erm_vgg", "VGG16", {"method.name": "erm", **_VGG}, _paper(
            _T2_COLUMNS, (82.98, 63.09, 63.87, 91.86, 94.84, 94.09, 93.70,
                          97.63))),
        Row("erm_resnet", "ResNet-101", {"method.name": "erm", **_RESNET},
            _paper(
            _T2_COLUMNS, (84.41, 64.15, 64.53, 93.04, 95.25, 94.52, 94.23,
                          98.17))),
        Row("gan_augment", "DAGAN-style GAN augmentation (ResNet-101)",
            {"method.name": "gan_augment", **_RESNET}, _paper(
                _T2_COLUMNS, (80.67, 61.19, 61.38, 91.66, 94.64, 94.45,
                              93.91, 97.82))),
        Row("triple_gan", "Triple GAN (cooperative G, ResNet-101)",
            {"method.name": "triple_gan", **_RESNET}, _paper(
                _T2_COLUMNS, (84.57, 63.76, 64.51, 92.81, 95.21, 94.60,
                              94.09, 97.85))),
        Row("delta_gan", "Δ-GAN", None, _paper(
            _T2_COLUMNS, (84.46, 64.28, 64.59, 92.87, 95.42, 94.37, 94.14,
                          97.76))),
        Row("worst_case_vgg", "Ours-VGG", {"method.name": "worst_case", **_VGG},
            _paper(_T2_COLUMNS, (85.02, 64.43, 65.26, 92.32, 95.08, 94.55,
                                 94.04, 97.69))),
        Row("worst_case_resnet", "Ours-ResNet",
            {"method.name": "worst_case", **_RESNET}, _paper(
                _T2_COLUMNS, (85.87, 65.43, 66.80, 93.01, 95.58, 95.02,
                              94.67, 98.33))),
        Row("mixqualnet", "MixQualNet", None, _paper(
            _T2_COLUMNS, (86.56, 65.70, 66.71, 89.62, 95.48, 95.27, 94.21,
                          96.80))),
        Row("dctnet", "DCTNet", None, _paper(
            _T2_COLUMNS, (85.42, 65.68, 69.13, 90.93, 95.55, 95.10, 94.88,
                          97.41))),
    ),
)

_T3_COLUMNS = (
    _lt("cifar10", "CIFAR-10", 10),
    _distorted("cifar10", "CIFAR-10", "gaussian", 0.2),
    Column("cifar10_reduced0.2", "CIFAR-10 reduced 20%", "cifar10",
           {"data.imbalance_factor": 1.0, "data.train_fraction": 0.2}),
)
TABLE3 = Table(
    id="3",
    title="Accuracy (%) on CIFAR-10 against data augmentation (paper's "
          "Table 3)",
    columns=_T3_COLUMNS,
    rows=(
        Row("augment", "Combination (crop, flip, rotation)",
            {"method.name": "augment"},
            _paper(_T3_COLUMNS, (85.63, 85.25, 83.59))),
        Row("mixup", "Mixup", {"method.name": "mixup"},
            _paper(_T3_COLUMNS, (86.04, 85.66, 83.91))),
        Row("worst_case", "Ours", {"method.name": "worst_case"},
            _paper(_T3_COLUMNS, (86.86, 85.87, 84.60))),
    ),
)

_REDUCED = {"data.imbalance_factor": 1.0, "data.train_fraction": 0.2,
            "model.classifier.name": "resnet101"}
_T5_COLUMNS = (
    Column("bn_wd", "BN+WD", "cifar10", dict(_REDUCED)),
    Column("no_bn", "No BN", "cifar10",
           {**_REDUCED, "model.classifier.use_batchnorm": False}),
    Column("no_wd", "No WD", "cifar10",
           {**_REDUCED, "optim.classifier.weight_decay": 0.0}),
    Column("neither", "Neither", "cifar10",
           {**_REDUCED, "model.classifier.use_batchnorm": False,
            "optim.classifier.weight_decay": 0.0}),
)
TABLE5 = Table(
    id="5",
    title="Ablation on reduced (20%) CIFAR-10 with ResNet-101 (paper's "
          "Table 5; its rows are our columns)",
    columns=_T5_COLUMNS,
    rows=(
        Row("erm", "CNN (ERM)", {"method.name": "erm"},
            _paper(_T5_COLUMNS, (83.19, 75.14, 77.01, 71.85))),
        Row("gan_augment", "DAGAN-style", {"method.name": "gan_augment"},
            _paper(_T5_COLUMNS, (83.08, 71.92, 75.38, 71.63))),
        Row("worst_case", "Ours", {"method.name": "worst_case"},
            _paper(_T5_COLUMNS, (84.60, 78.01, 78.71, 75.42))),
    ),
)

def _reduced(dataset: str, label: str, fraction: float) -> Column:
  return Column(f"{dataset}_reduced{fraction:g}",
                f"{label} reduced {100 * fraction:g}%", dataset,
                {"data.imbalance_factor": 1.0, "data.train_fraction": fraction})


# The generators of three methods, scored against real images drawn from the
# whole training set (wcgen.eval.generation); lower is better.
_T4_COLUMNS = (_lt("mnist", "MNIST", 10), _reduced("mnist", "MNIST", 0.3),
               _lt("cifar10", "CIFAR-10", 10),
               _reduced("cifar10", "CIFAR-10", 0.3))
TABLE4 = Table(
    id="4",
    title="FID of generated images, lower is better (paper's Table 4)",
    columns=_T4_COLUMNS,
    rows=(
        # The paper's "GAN" failed on CIFAR-10 IF=10 ("None"): no number.
        Row("gan_augment", "GAN (conditional GAN that ignores C)",
            {"method.name": "gan_augment"},
            {"mnist_if10": 33.49, "mnist_reduced0.3": 31.06,
             "cifar10_reduced0.3": 37.96}),
        Row("triple_gan", "Triple GAN (cooperative G)",
            {"method.name": "triple_gan"}, _paper(_T4_COLUMNS,
                                             (27.24, 26.30, 26.22, 22.57))),
        Row("worst_case", "Ours (W, Eq. 10)", {"method.name": "worst_case"},
            _paper(_T4_COLUMNS, (27.60, 26.02, 26.10, 22.63))),
    ),
    metric="fid",
    scale=1.0,
    metric_label="FID",
    metric_note=("the FID of the final generator: Inception pool_3 features "
                 "of N generated images (class-balanced labels) against N "
                 "images drawn from the whole training set"),
)


def as_fcd(table: Table) -> Table:
  """Table 4 scored with the Fréchet Classifier Distance instead of FID:
  another scale, so the paper's FIDs are dropped from it."""
  return dataclasses.replace(
      table,
      title=table.title.replace("FID", "FCD (Fréchet Classifier Distance, "
                                "not FID)"),
      rows=tuple(dataclasses.replace(r, paper={}) for r in table.rows),
      metric="fcd",
      metric_label="FCD",
      metric_note=("the FCD of the final generator: penultimate features of "
                   "a classifier trained on the whole balanced training set, "
                   "for N generated images (class-balanced labels) and N "
                   "images drawn from that set; not comparable with FID, so "
                   "the paper's numbers are left out"))


# Fashion-MNIST stand-ins for the paper's Tables 2-5 (issue 16): the only
# real images every machine here has. Not the paper's datasets, so no
# paper numbers stand beside them; their titles say so. Rows: ERM, the
# usual baselines for such data (standard augmentation, mixup), the paper's
# G(z, y) game, the per-sample game and its controls. The classifier is
# the config's (the Triple-GAN CNN, as the paper's Table 5 CNN). The rows
# are those of configs/sweeps/issue16.py, where the per-sample game's
# recipe was chosen on validation: a ten times larger ball (eps 3), G and
# D frozen in the warm-up and G's learning rate 2e-3 (the one that moved
# Q most and kept the most distorted validation images, issue 15's
# "Robustness" in docs/RESULTS.md); tests/test_experiments.py checks that
# the two agree.
_FM = "Fashion-MNIST stand-in, not the paper's dataset"
FM_PER_SAMPLE = {**_PER_SAMPLE, "method.eps": 3.0,
                 "method.gan_during_warmup": False}
FM_ROBUST_GLR = 2e-3
FM_NOISE_CONTROL = {"method.name": "seed_control",
                    "method.control_noise_rms": 0.3}
_FM_ROWS = (
    Row("erm", "Classifier (ERM)", {"method.name": "erm"}),
    Row("augment", "Standard augmentation (crop, flip, rotation)",
        {"method.name": "augment"}),
    Row("mixup", "mixup", {"method.name": "mixup"}),
    Row("worst_case", "Ours (W, Eq. 10: G(z, y))",
        {"method.name": "worst_case"}),
    Row("worst_case_per_sample",
        "Ours, per-sample G(x_i, y_i, z), eps 3, G lr 2e-3 (Eq. 8; beyond "
        "the paper)", {**FM_PER_SAMPLE, "optim.generator.lr": FM_ROBUST_GLR}),
    Row("noise_control", "Control: random noise of the game's size (RMS "
        "0.3) on its seeds (beyond the paper)", FM_NOISE_CONTROL),
    Row("seed_control", _SEED_CONTROL_LABEL, _SEED_CONTROL),
)
# Where clean accuracy is the measure (reduced sets, noisy labels), the G
# learning rate that chose clean accuracy on issue 15's long tail too.
_FM_CLEAN_ROWS = _FM_ROWS + (
    Row("worst_case_per_sample_glr6e-4",
        "Ours, per-sample, eps 3, G lr 6e-4 (beyond the paper)",
        {**FM_PER_SAMPLE, "optim.generator.lr": 6e-4}),)
# On noisy labels the 6e-4 game also runs held near its seeds by a hard
# ball (residual RMS <= 0.1; configs/sweeps/issue16.py, fixed in session 29
# from the training logs): a row of pair-flip 40% and the game row of the
# 20% columns, so `--table=noise` trains every game docs/RESULTS.md reports.
FM_CAPPED_RESIDUAL_RMS = 0.1
_FM_NOISE_ROWS = _FM_CLEAN_ROWS + (
    Row("worst_case_per_sample_glr6e-4_cap0.1",
        "Ours, per-sample, eps 3, G lr 6e-4, residual RMS <= 0.1 (beyond "
        "the paper)",
        {**FM_PER_SAMPLE, "optim.generator.lr": 6e-4,
         "model.generator.max_residual_rms": FM_CAPPED_RESIDUAL_RMS}),)
_FM_DISTORTED_COLUMNS = (
    [_normal("fashion_mnist", "FMNIST")] +
    [_distorted("fashion_mnist", "FMNIST", "gaussian", s)
     for s in (0.1, 0.3, 0.5)] +
    [_distorted("fashion_mnist", "FMNIST", "salt_pepper", r)
     for r in (0.1, 0.3)])
TABLE2_FMNIST = Table(
    id="2fm",
    title=f"Accuracy (%) on a clean training set and distorted test sets "
          f"(70% of test images; {_FM} of Tables 2-3)",
    columns=_FM_DISTORTED_COLUMNS,
    rows=_FM_ROWS,
)

_FM_REDUCED = {"data.imbalance_factor": 1.0, "data.train_fraction": 0.2}
_FM_REDUCED_COLUMNS = (
    _reduced("fashion_mnist", "FMNIST", 0.2),
    _reduced("fashion_mnist", "FMNIST", 0.3),
    # Table 5's BN/WD ablation on the 20% set (the first is the BN+WD
    # setting of the column above, a run of its own).
    Column("no_bn", "20%, no BN", "fashion_mnist",
           {**_FM_REDUCED, "model.classifier.use_batchnorm": False}),
    Column("no_wd", "20%, no WD", "fashion_mnist",
           {**_FM_REDUCED, "optim.classifier.weight_decay": 0.0}),
    Column("neither", "20%, neither", "fashion_mnist",
           {**_FM_REDUCED, "model.classifier.use_batchnorm": False,
            "optim.classifier.weight_decay": 0.0}),
)
TABLE5_FMNIST = Table(
    id="5fm",
    title=f"Accuracy (%) on reduced training sets (stratified 20% and 30%), "
          f"and the BN/WD ablation on 20% ({_FM} of Tables 4-5)",
    columns=_FM_REDUCED_COLUMNS,
    rows=_FM_CLEAN_ROWS,
)


def _noisy(kind: str, rate: float) -> Column:
  return Column(f"fashion_mnist_{kind}{rate:g}",
                f"FMNIST {kind} {100 * rate:g}%", "fashion_mnist",
                {"data.imbalance_factor": 1.0, "data.label_noise": kind,
                 "data.label_noise_rate": rate})


TABLE_NOISE_FMNIST = Table(
    id="noise",
    title="Accuracy (%) with noisy training labels, symmetric and pair flips "
          "(beyond the paper; Fashion-MNIST)",
    columns=tuple(_noisy(k, r) for k in ("symmetric", "pair")
                  for r in (0.2, 0.4)),
    rows=_FM_NOISE_ROWS,
)


TABLES = {t.id: t for t in (TABLE1, TABLE2, TABLE3, TABLE4, TABLE5, FIG2D,
                            TABLE2_FMNIST, TABLE5_FMNIST, TABLE_NOISE_FMNIST)}

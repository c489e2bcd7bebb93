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
  plot_x_label: Optional[str] = None  # plots accuracy against column.x

  def row(self, row_id: str) -> Row:
    return next(r for r in self.rows if r.id == row_id)


def _lt(dataset: str, label: str, imbalance: float) -> Column:
  return Column(f"{dataset}_if{imbalance:g}", f"{label} IF={imbalance:g}",
                dataset, {"data.imbalance_factor": float(imbalance)},
                x=float(imbalance))


def _paper(columns: Sequence[Column], values: Sequence[float]):
  return {c.id: v for c, v in zip(columns, values)}


_T1_COLUMNS = (
    [_lt("mnist", "MNIST", f) for f in (100, 20, 1)] +
    [_lt("fashion_mnist", "FMNIST", f) for f in (100, 20, 1)] +
    [_lt("cifar10", "CIFAR-10", f) for f in (20, 10, 1)])

TABLE1 = Table(
    id="1",
    title="Accuracy (%) on long-tailed datasets (paper's Table 1)",
    columns=_T1_COLUMNS,
    rows=(
        Row("erm", "Classifier (ERM)", {"method": "erm"}, _paper(
            _T1_COLUMNS, (89.77, 94.62, 99.35, 79.89, 87.33, 93.46, 81.51,
                          85.57, 93.04))),
        Row("gan_augment", "DAGAN-style GAN augmentation",
            {"method": "gan_augment"}, _paper(
                _T1_COLUMNS, (89.92, 95.71, 99.23, 77.63, 86.30, 92.87, 70.34,
                              77.82, 91.66))),
        Row("triple_gan", "Triple GAN (cooperative G)",
            {"method": "triple_gan"}, _paper(
                _T1_COLUMNS, (90.07, 95.19, 99.31, 78.92, 87.83, 92.55, 80.40,
                              83.06, 92.81))),
        Row("delta_gan", "Δ-GAN", None, _paper(
            _T1_COLUMNS, (90.25, 95.60, 99.28, 78.85, 87.62, 93.06, 79.99,
                          85.47, 92.87))),
        Row("worst_case", "Ours (W, Eq. 10)", {"method": "worst_case"},
            _paper(_T1_COLUMNS, (92.67, 96.23, 99.42, 83.06, 89.03, 93.24,
                                 81.94, 86.86, 93.01))),
        Row("worst_case_js", "Ours (JS, Eq. 14)",
            {"method": "worst_case", "divergence": "js", "gp_weight": 0.0}),
        Row("class_balanced", "C-B loss", {
            "method": "erm", "classifier_loss": "class_balanced"}, _paper(
                _T1_COLUMNS, (92.90, 96.74, 99.38, 83.77, 89.97, 93.43, 84.36,
                              87.49, 93.64))),
        Row("oversampling", "DOS-style oversampling",
            {"method": "oversampling"}, _paper(
                _T1_COLUMNS, (90.82, 97.20, 99.07, 82.74, 89.34, 93.18, 81.72,
                              86.55, 92.83))),
        Row("logit_adjusted", "Logit adjustment (beyond the paper)",
            {"method": "erm", "classifier_loss": "logit_adjusted"}),
        Row("mixup", "mixup", {"method": "mixup"}),
        Row("worst_case_la", "Ours + logit-adjusted C (beyond the paper)",
            {"method": "worst_case", "classifier_loss": "logit_adjusted"}),
    ),
    plot_x_label="imbalance factor",
)

_EPS = (0.01, 0.1, 0.3, 0.5, 1.0, 2.0)
_FIG2D_COLUMNS = [Column(f"eps{e:g}", f"ε={e:g}", "fashion_mnist",
                         {"eps": e, "data.imbalance_factor": 100.0}, x=e)
                  for e in _EPS]

FIG2D = Table(
    id="fig2d",
    title="Accuracy (%) against ε on Fashion-MNIST-LT, IF=100 (paper's "
          "Fig. 2d sweep; the paper gives a plot, not numbers)",
    columns=_FIG2D_COLUMNS,
    rows=(Row("worst_case", "Ours (W)", {"method": "worst_case"}),),
    plot_x_label="ε (λ = 1/ε)",
)

TABLES = {t.id: t for t in (TABLE1, FIG2D)}
# Tables whose grids need what wcgen does not have yet; reproduce.py says so.
PENDING = {
    "2": "needs VGG-16 / ResNet-101 classifiers and configs/cifar_wgan.py, "
         "configs/svhn_wgan.py (issue 4)",
    "3": "needs configs/cifar_wgan.py with the BigGAN generator (issue 4)",
    "4": "needs FID with local Inception weights (issue 7)",
    "5": "needs ResNet-101 with BatchNorm/weight decay switches (issue 4)",
}

"""Sweeps of issue 15 (making the worst case help), on the validation split.

Each sweep is a list of (run name, overrides of configs/fmnist_wgan.py).
Run one with

  python launch/sweep.py --config=configs/fmnist_wgan.py --sweep=NAME \
      --workdir=workdirs/sweeps/NAME

Nothing here reads the test set; docs/RESULTS.md gives each sweep's
validation table and the choice it made.
"""


def _steps(n: int):
  """A budget of n steps, evaluated on validation 8 times per run."""
  return {"num_train_steps": n, "eval_every_steps": n // 8,
          "checkpoint_every_steps": n // 4, "warmup_steps": n // 2}


SWEEPS = {
    # The budget: ERM's validation accuracy against the number of steps
    # (the cosine schedule spans each run), to pick a budget where it has
    # flattened.
    "budget": [(f"erm_{n}", {"method": "erm", **_steps(n)})
               for n in (800, 1600, 3200, 6400)],
}

"""The sharded joint step gives the same state on 1, 4 and 8 devices after
several steps (up to round-off: reduction order differs)."""

import os
import subprocess
import sys
import textwrap

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SCRIPT = textwrap.dedent("""
    import sys
    import jax, jax.numpy as jnp, numpy as np, optax
    from jax.sharding import NamedSharding, PartitionSpec as P
    from wcgen.methods.worst_case import WorstCaseGame
    from wcgen.models import classifiers, critics, generators
    from wcgen.core import mesh as mesh_lib

    mesh = mesh_lib.make_mesh()
    rep, data = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    sgd = optax.sgd(1e-2)
    game = WorstCaseGame(
        generators.DCGANGenerator(4, 1, 4), critics.ProjectionCritic(4, 4),
        classifiers.TripleGANCNN(4, dropout_rate=0.0), sgd, sgd, sgd,
        num_classes=4, latent_dim=8, batch_sharding=data)
    state = jax.jit(game.init, static_argnums=1, out_shardings=rep)(
        jax.random.PRNGKey(0), (32, 32, 1))
    rng = np.random.default_rng(0)
    batch = {"image": rng.uniform(-1, 1, (16, 32, 32, 1)).astype(np.float32),
             "label": (np.arange(16) % 4).astype(np.int32)}
    batch = jax.device_put(batch, data)
    step = jax.jit(game.train_step, in_shardings=(rep, data),
                   out_shardings=(rep, rep))
    for _ in range(3):
      state, metrics = step(state, batch)
    leaves = jax.tree_util.tree_leaves_with_path(jax.device_get(state))
    np.savez(sys.argv[1], devices=jax.device_count(),
             **{jax.tree_util.keystr(p): np.asarray(v) for p, v in leaves},
             **{"metric_" + k: np.asarray(v) for k, v in metrics.items()})
""")


def _run(devices, path):
  env = dict(os.environ,
             XLA_FLAGS=" ".join([  # the suite's flags (conftest.py) too
                 os.environ.get("XLA_FLAGS", ""),
                 f"--xla_force_host_platform_device_count={devices}"]),
             PYTHONPATH=REPO)
  proc = subprocess.run([sys.executable, "-c", _SCRIPT, path], env=env,
                        capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return np.load(path)


def test_one_vs_four_and_eight_devices_same_step(tmp_path):
  one = _run(1, str(tmp_path / "one.npz"))
  for devices in (4, 8):
    many = _run(devices, str(tmp_path / f"d{devices}.npz"))
    assert int(one["devices"]) == 1 and int(many["devices"]) == devices
    assert set(one.files) == set(many.files)
    for name in sorted(set(one.files) - {"devices"}):
      a, b = one[name].astype(np.float64), many[name].astype(np.float64)
      # Reduction order differs across devices: equal up to round-off.
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5,
                                 err_msg=f"{devices} devices: {name}")

#!/bin/bash
# The step benchmarks of docs/BENCHMARKS.md's GPU section, in one go, on a
# machine with JAX and a GPU but possibly no TensorFlow (the step needs
# none; --pipeline_batches=0). Wheels of missing pure-Python packages
# (ml_collections) may wait in $WHEELS (default .whl/); tables and CSVs go
# to $OUT (default workdirs/benchmark_gpu).
#
#   bash launch/benchmark_gpu.sh
set -u
cd "$(dirname "$0")/.."
WHEELS=${WHEELS:-.whl}
OUT=${OUT:-workdirs/benchmark_gpu}
mkdir -p "$OUT"
if ls "$WHEELS"/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --upgrade --target /tmp/wcgen_site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/wcgen_site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # the allocator peak is the step's
B="python3 launch/benchmark.py --pipeline_batches=0 --steps=20 --warmup=3"
run() {
  echo "== $*"
  timeout 200 $B "$@" 2>&1 | grep -v "^[IW][0-9]\{4\} "
  echo "rc=${PIPESTATUS[0]}"
}
{
  nvidia-smi -L
  python3 -c "import jax, flax, optax; print('jax', jax.__version__, 'flax', \
flax.__version__, 'optax', optax.__version__, jax.devices())"
  G=configs/fmnist_wgan.py
  run --config=$G --batch_sizes=64,256,1024 --csv=$OUT/game_f32.csv
  run --config=$G --batch_sizes=64,1024 --dtype=bfloat16 \
      --csv=$OUT/game_bf16.csv
  run --config=$G --batch_sizes=64,256 --config.model.generator.name=residual \
      --config.method.critic_data=balanced --csv=$OUT/per_sample.csv
  run --config=$G --batch_sizes=64,256 --config.method.name=erm \
      --csv=$OUT/erm.csv
  run --config=configs/cifar_wgan.py --batch_sizes=128 --csv=$OUT/cifar.csv
  for m in worst_case erm; do
    run --config=configs/cifar_wgan.py:paper --config.method.name=$m \
        --batch_sizes=64 --steps=5 --warmup=1 --csv=$OUT/cifar_paper_$m.csv
  done
} 2>&1 | tee "$OUT/benchmark_gpu.log"

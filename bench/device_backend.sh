#!/usr/bin/env bash
# bench/backend_throughput.py on a GPU machine that has JAX, PyTorch and CUDA but no TensorFlow
# and no network: JAX for the tutorial net, for --conv_relu=false --pool=avg, and for the
# tutorial net in full float32 (JAX's default may use TF32); then PyTorch (eager) for the tutorial
# net; then JAX for resnet20 and vgg (--arch). Each run is cut off after RUN_SECONDS (default
# 75 s), so the script ends within ~8 minutes whatever happens. RUNS=depth runs instead the
# bigger nets on whole 32x32 images as docs/logs/depth/run.sh trains them (ResNet-18, ResNet-20,
# ResNet-56, --augmentation=pad_crop), within ~4 minutes.
#
# Keras and what it needs beyond such an image (namex, optree) travel as wheels in .whl/ (ignored
# by git). Once, on a machine with pip, from the repository root:
#     bash bench/device_backend.sh fetch
# then on the GPU machine, from the repository root, with .whl/ carried along:
#     bash bench/device_backend.sh [extra backend_throughput.py flags, e.g. --steps=10]
# Logs, versions and results.jsonl (each run's JSON line) go to $OUT (default ./device_logs).
# PYTHON (default python3) runs everything; PYTHON_VERSION (default 3.12, the GPU image's) picks
# the wheels that `fetch` downloads.
set -uo pipefail

PYTHON=${PYTHON:-python3}
WHEELS=(keras==3.15.1 namex==0.1.0 optree==0.20.0)
RUN_SECONDS=${RUN_SECONDS:-75}

if [[ ${1:-} == fetch ]]; then
  rm -rf .whl
  exec "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d .whl \
    --python-version "${PYTHON_VERSION:-3.12}" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 "${WHEELS[@]}"
fi

OUT=${OUT:-device_logs}
mkdir -p "$OUT"
if ! compgen -G ".whl/*.whl" >/dev/null; then
  echo "no wheels in .whl/: run 'bash bench/device_backend.sh fetch' first, then carry .whl" >&2
  exit 2
fi
SITE=$(mktemp -d)
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
  .whl/*.whl || exit 2
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

{
  date -u
  "$PYTHON" -c 'import sys; print("python", sys.version.split()[0])'
  for module in keras jax jaxlib torch numpy optree; do
    KERAS_BACKEND=jax "$PYTHON" -c "import $module; print('$module', $module.__version__)" 2>&1 | tail -n 1
  done
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.sm \
      --format=csv
  else
    echo "no nvidia-smi"
  fi
} 2>&1 | tee "$OUT/versions.txt"

failed=0
run() {  # run NAME BACKEND [ENV=VALUE...] -- [FLAGS...]
  local name=$1 backend=$2
  shift 2
  local env=()
  while [[ $1 != -- ]]; do env+=("$1"); shift; done
  shift
  echo "== $name"
  env KERAS_BACKEND="$backend" "${env[@]}" timeout "$RUN_SECONDS" \
    "$PYTHON" bench/backend_throughput.py "$@" 2>&1 | tee "$OUT/$name.log"
  if [[ ${PIPESTATUS[0]} == 0 ]]; then
    tail -n 1 "$OUT/$name.log" >>"$OUT/results.jsonl"
  else
    echo "$name failed (log: $OUT/$name.log)"
    failed=1
  fi
}

if [[ ${RUNS:-} == depth ]]; then
  for net in resnet18 resnet20 resnet56; do
    run "jax_${net}_pad_crop" jax -- --steps=1000 --arch=$net --augmentation=pad_crop --pool=avg "$@"
  done
  exit $failed
fi
run jax_tutorial jax -- --steps=5000 "$@"
run jax_conv_linear_avg jax -- --steps=5000 --conv_relu=false --pool=avg "$@"
run jax_tutorial_float32 jax JAX_DEFAULT_MATMUL_PRECISION=highest -- --steps=5000 "$@"
run torch_tutorial torch -- --steps=1000 "$@" --steps_per_execution=1  # Keras's torch limit
run jax_resnet20 jax -- --steps=3000 --arch=resnet20 --pool=avg "$@"
run jax_vgg jax -- --steps=3000 --arch=vgg "$@"
exit $failed

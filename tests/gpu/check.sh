#!/usr/bin/env bash
# The GPU check, in two steps on two machines (see docs/gpu.md):
#
#   tests/gpu/check.sh build
#       here, with the .NET SDK: publishes tests/DeformEngine.GpuCheck as one self-contained file,
#       tests/gpu/bin/DeformEngine.GpuCheck (~40 MB; the folder is ignored by git).
#   tests/gpu/check.sh run [--device cuda|cpu-accelerator] [--out DIR]
#       on the GPU machine (no .NET needed; Python 3 with torch + torchvision for the comparison): every operator
#       on the device against the CPU backend, then DeformConv2d's speed beside torchvision's. Writes
#       engine-checks.md, engine-bench.json, torchvision-bench.json and summary.md to DIR ($OUT, else
#       tests/gpu/out). --device cpu-accelerator runs the same program on ILGPU's CPU accelerator with tiny
#       benchmark shapes and torchvision on the CPU, to exercise this script without a GPU.
# PYTHON names the interpreter with torch (default python3).
# Exit status: the engine check's (0 all checks passed, 1 a check failed, 2 no device).
set -euo pipefail
cd "$(dirname "$0")/../.."

binary=tests/gpu/bin/DeformEngine.GpuCheck
python="${PYTHON:-python3}"
command="${1:-}"
shift || true

case "$command" in
  build)
    dotnet publish tests/DeformEngine.GpuCheck -c Release -r linux-x64 --self-contained \
      -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -o tests/gpu/bin
    ls -l "$binary"
    ;;
  run)
    device=cuda
    out="${OUT:-tests/gpu/out}"
    while [ $# -gt 0 ]; do
      case "$1" in
        --device) device="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "check.sh run: unknown option $1" >&2; exit 64 ;;
      esac
    done
    [ -x "$binary" ] || { echo "check.sh: $binary is missing; run 'tests/gpu/check.sh build' first." >&2; exit 66; }
    mkdir -p "$out"
    if [ "$device" = cuda ]; then
      shapes=full reps=10 torch_device=cuda
      # cuBLAS from the nvidia-cublas wheel (site-packages/nvidia/cublas/lib), where torch keeps it.
      wheel_libs="$("$python" -c 'import glob, site; print(":".join(sorted(set(d for p in site.getsitepackages() for d in glob.glob(p + "/nvidia/*/lib")))))' 2>/dev/null || true)"
      export LD_LIBRARY_PATH="${wheel_libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    else
      shapes=tiny reps=2 torch_device=cpu
    fi
    status=0
    timeout 330 "$binary" --device "$device" --shapes "$shapes" --reps "$reps" --out "$out" > "$out/engine-log.txt" 2>&1 || status=$?
    tail -n 40 "$out/engine-log.txt"
    if ! timeout 120 "$python" tests/gpu/torchvision_deform.py --device "$torch_device" --shapes "$shapes" --reps "$reps" \
        --json "$out/torchvision-bench.json" > "$out/torchvision-log.txt" 2>&1; then
      echo "check.sh: the torchvision timing did not complete; see $out/torchvision-log.txt" >&2
    fi
    if [ -f "$out/engine-bench.json" ]; then
      "$python" tests/gpu/summarize.py "$out/engine-bench.json" "$out/torchvision-bench.json" > "$out/summary.md"
      cat "$out/summary.md"
    fi
    exit "$status"
    ;;
  *)
    echo "usage: tests/gpu/check.sh build | run [--device cuda|cpu-accelerator] [--out DIR]" >&2
    exit 64
    ;;
esac

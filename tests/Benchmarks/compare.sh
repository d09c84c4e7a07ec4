#!/usr/bin/env bash
# DeformEngine vs torchvision, float32 deform_conv2d 3x3 (mask, bias, pad 1) on the same three
# shapes, both on 2 threads (torchvision: torch.set_num_threads(2), OpenBLAS), in one go:
#   1. all shapes + sgemm, each side (times, GEMM GFLOP/s);
#   2. shape 1 alone, each side (peak RSS of a process that ran only that shape).
# Then prints the side-by-side table with ratios (torchvision / engine: > 1 means the engine is faster).
#
# Usage: tests/Benchmarks/compare.sh [--reps R] [--threads T] [--out DIR]
# Needs: dotnet (SDK 10), /usr/bin/python3 with python3-torchvision (Debian), libopenblas0-pthread.
set -euo pipefail

reps=5
threads=2
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--reps R] [--threads T] [--out DIR]" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"

dotnet build "$root/tests/DeformEngine.Benchmarks" -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" deform)
torchvision=(/usr/bin/python3 "$here/torchvision_bench.py")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== DeformEngine, all shapes"
"${engine[@]}" --reps "$reps" --threads "$threads" --json "$out/engine.json"
echo "== torchvision, all shapes"
"${torchvision[@]}" --reps "$reps" --threads "$threads" --json "$out/torchvision.json"
echo "== DeformEngine, shape 1 alone (peak RSS)"
"${engine[@]}" --shape 1 --reps "$reps" --threads "$threads" --json "$out/engine_shape1.json"
echo "== torchvision, shape 1 alone (peak RSS)"
"${torchvision[@]}" --shape 1 --reps "$reps" --threads "$threads" --json "$out/torchvision_shape1.json"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
load = lambda name: json.load(open(f"{out}/{name}.json"))
e, t, e1, t1 = load("engine"), load("torchvision"), load("engine_shape1"), load("torchvision_shape1")
blas = max(g["gflops"] for g in t["gemm"])
mine = max(g["gflops"] for g in e["gemm"])
dims = {"N8 C64->64 56x56": (8, 64, 64, 56), "N4 C256->256 28x28": (4, 256, 256, 28), "N2 C512->512 14x14": (2, 512, 512, 14)}
print()
print(f"{'shape':<20}{'fwd ms':>16}{'x':>6}{'bwd ms':>18}{'x':>6}{'fwd+bwd ms':>18}{'x':>6}{'3 GEMMs ms':>12}{'floor':>8}{'/floor':>8}")
print(f"{'':<20}{'engine  tv':>16}{'':>6}{'engine    tv':>18}{'':>6}{'engine    tv':>18}{'':>6}{'engine':>12}{'BLAS':>8}{'':>8}")
for es, ts in zip(e["shapes"], t["shapes"]):
    n, c, o, hw = dims[es["name"]]
    floor = 6.0 * n * hw * hw * o * c * 9 / blas / 1e6  # the three GEMMs at OpenBLAS speed, ms
    ef, eb, tf, tb = es["fwd_ms"], es["bwd_ms"], ts["fwd_ms"], ts["bwd_ms"]
    print(f"{es['name']:<20}{ef:>8.1f}{tf:>8.1f}{tf / ef:>6.1f}{eb:>9.1f}{tb:>9.1f}{tb / eb:>6.1f}"
          f"{ef + eb:>9.1f}{tf + tb:>9.1f}{(tf + tb) / (ef + eb):>6.1f}{es['gemm3_ms']:>12.1f}{floor:>8.1f}{(ef + eb) / floor:>8.2f}")
print(f"sgemm GFLOP/s (best of {', '.join(str(g['size']) for g in e['gemm'])}): engine {mine:.1f}, OpenBLAS {blas:.1f} = {100 * mine / blas:.0f}%")
print(f"peak RSS, shape 1 alone: engine {e1['peak_rss_mb']:.0f} MB, torchvision {t1['peak_rss_mb']:.0f} MB")
print(f"x = torchvision / engine; floor = three GEMMs (2·O·C·9·N·H·W flops each) at OpenBLAS speed; JSON in {out}")
PY

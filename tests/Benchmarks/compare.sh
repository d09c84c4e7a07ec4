#!/usr/bin/env bash
# DeformEngine vs torchvision, float32 deform_conv2d 3x3 (mask, bias, pad 1) on the same three
# shapes, both on 2 threads (torchvision: torch.set_num_threads(2) over OpenBLAS). For each shape
# the two run back to back, each in a fresh process that runs only that shape (so timings of a
# pair share the machine's state, and each peak RSS is that of the shape alone); then sgemm on both
# sides. Prints the side-by-side table; x = torchvision / engine (> 1: the engine is faster).
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
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" deform --reps "$reps" --threads "$threads")
torchvision=(/usr/bin/python3 "$here/torchvision_bench.py" --reps "$reps" --threads "$threads")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -o 'avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in 1 2 3; do
    echo "== shape $shape: DeformEngine"
    "${engine[@]}" --shape "$shape" --json "$out/engine_$shape.json"
    echo "== shape $shape: torchvision"
    "${torchvision[@]}" --shape "$shape" --json "$out/torchvision_$shape.json"
done
echo "== sgemm: DeformEngine"
"${engine[@]}" --shape 3 --sgemm --json "$out/engine_sgemm.json" | sed -n '/sgemm/,$p'
echo "== sgemm: torchvision (OpenBLAS)"
/usr/bin/python3 - "$here" "$reps" "$threads" "$out/torchvision_sgemm.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
import torchvision_bench as bench
torch.set_num_threads(int(sys.argv[3]))
results = [bench.bench_gemm(size, int(sys.argv[2])) for size in bench.GEMM_SIZES]
for r in results:
    print(f"{r['size']:>6}^3 {r['gflops']:>10.1f} GFLOP/s")
json.dump({"gemm": results}, open(sys.argv[4], "w"), indent=2)
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
load = lambda name: json.load(open(f"{out}/{name}.json"))
blas = max(g["gflops"] for g in load("torchvision_sgemm")["gemm"])
mine = max(g["gflops"] for g in load("engine_sgemm")["gemm"])
dims = {"N8 C64->64 56x56": (8, 64, 64, 56), "N4 C256->256 28x28": (4, 256, 256, 28), "N2 C512->512 14x14": (2, 512, 512, 14)}
print()
print(f"{'':<20}|{'forward ms':^22}|{'backward ms':^22}|{'fwd+bwd ms':^22}|{'3 GEMMs alone ms':^18}|{'fwd+bwd /':^11}|{'peak RSS MB':^14}")
print(f"{'shape':<20}|{'engine':>8}{'tv':>8}{'x':>6}|{'engine':>8}{'tv':>8}{'x':>6}|{'engine':>8}{'tv':>8}{'x':>6}"
      f"|{'engine':>8}{'OpenBLAS':>10}|{'BLAS GEMMs':>11}|{'engine':>7}{'tv':>7}")
for k in (1, 2, 3):
    e, t = load(f"engine_{k}"), load(f"torchvision_{k}")
    es, ts = e["shapes"][0], t["shapes"][0]
    ef, eb, tf, tb = es["fwd_ms"], es["bwd_ms"], ts["fwd_ms"], ts["bwd_ms"]
    blas3 = ts["gemm3_ms"]
    print(f"{es['name']:<20}|{ef:>8.1f}{tf:>8.1f}{tf / ef:>6.1f}|{eb:>8.1f}{tb:>8.1f}{tb / eb:>6.1f}"
          f"|{ef + eb:>8.1f}{tf + tb:>8.1f}{(tf + tb) / (ef + eb):>6.1f}|{es['gemm3_ms']:>8.1f}{blas3:>10.1f}"
          f"|{(ef + eb) / blas3:>11.2f}|{e['peak_rss_mb']:>7.0f}{t['peak_rss_mb']:>7.0f}")
print(f"sgemm GFLOP/s (best of {', '.join(str(g['size']) for g in load('engine_sgemm')['gemm'])}): "
      f"engine {mine:.1f}, OpenBLAS {blas:.1f} = {100 * mine / blas:.0f}%")
print("x = torchvision / engine. 3 GEMMs alone: the shape's three products (forward, gradient columns,")
print("gradient weight; 3 x 2·O·C·9·N·H·W flops) timed by themselves, with the engine's Gemm.Multiply and")
print("with torch.mm (OpenBLAS) in the same layouts; fwd+bwd / BLAS GEMMs: the engine's operator over")
print("OpenBLAS's time for those products alone (the issue's target: at most 1.7).")
print(f"Peak RSS: whole process running that shape alone (read before the GEMMs alone). JSON in {out}")
PY

#!/usr/bin/env bash
# DeformEngine vs torchvision, float32 deform_conv2d 3x3 (mask, bias, pad 1) on the same three
# shapes, both on 2 threads (torchvision: torch.set_num_threads(2) over OpenBLAS). For each shape
# the two run back to back, each in a fresh process that runs only that shape (so timings of a
# pair share the machine's state, and each peak RSS is that of the shape alone); then sgemm on both
# sides. Prints the side-by-side table; x = torchvision / engine (> 1: the engine is faster).
# With --rounds K the pairs run K times over (shape 1, 2, 3, then again), and the table shows the
# median over the rounds of each timing and of each round's ratios, plus every round's ratio to the
# GEMM floor: on a machine whose timings drift by tens of percent, one round is one sample.
#
# --double runs everything in float64 (operator, products, dgemm). --avx2 makes an AVX-512 machine run
# as an AVX2 one on both sides: the engine with DOTNET_EnableAVX512=0, OpenBLAS with its Haswell
# kernels. OpenBLAS's kernel family is always set (OPENBLAS_CORETYPE, unless already set): Debian's
# OpenBLAS 0.3.21 does not recognise recent Xeons and falls back to its SSE3 (Prescott) kernels, which
# would make torch.mm and torchvision several times slower than the machine allows; SkylakeX (AVX-512)
# or Haswell (AVX2) are the kernels it has for them.
#
# Usage: tests/Benchmarks/compare.sh [--reps R] [--rounds K] [--threads T] [--double] [--avx2] [--out DIR]
# Needs: dotnet (SDK 10), /usr/bin/python3 with python3-torchvision (Debian), libopenblas0-pthread.
set -euo pipefail

reps=5
rounds=1
threads=2
out=""
precision=()
avx2=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --double) precision=(--double); shift ;;
        --avx2) avx2=1; shift ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--reps R] [--rounds K] [--threads T] [--double] [--avx2] [--out DIR]" >&2; exit 2 ;;
    esac
done
if [[ $avx2 -eq 1 ]]; then
    export DOTNET_EnableAVX512=0 OPENBLAS_CORETYPE=Haswell
elif [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
    if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else export OPENBLAS_CORETYPE=Haswell; fi
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"

dotnet build "$root/tests/DeformEngine.Benchmarks" -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" deform --reps "$reps" --threads "$threads" ${precision[@]+"${precision[@]}"})
torchvision=(/usr/bin/python3 "$here/torchvision_bench.py" --reps "$reps" --threads "$threads" ${precision[@]+"${precision[@]}"})
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -o 'avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== engine ISA: $([[ $avx2 -eq 1 ]] && echo 'AVX2 (DOTNET_EnableAVX512=0)' || echo 'as detected'); OpenBLAS kernels: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE; ${precision[*]:-float32}"
for round in $(seq 1 "$rounds"); do
    mkdir -p "$out/round$round"
    for shape in 1 2 3; do
        echo "== round $round, shape $shape: DeformEngine"
        "${engine[@]}" --shape "$shape" --json "$out/round$round/engine_$shape.json"
        echo "== round $round, shape $shape: torchvision"
        "${torchvision[@]}" --shape "$shape" --json "$out/round$round/torchvision_$shape.json"
    done
done
gemm_name=$([[ ${#precision[@]} -gt 0 ]] && echo dgemm || echo sgemm)
echo "== $gemm_name: DeformEngine"
"${engine[@]}" --shape 3 --sgemm --json "$out/engine_sgemm.json" | sed -n '/gemm (Gemm/,$p'
echo "== $gemm_name: torchvision (OpenBLAS)"
/usr/bin/python3 - "$here" "$reps" "$threads" "$out/torchvision_sgemm.json" "${precision[*]:-}" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
import torchvision_bench as bench
torch.set_num_threads(int(sys.argv[3]))
if sys.argv[5] == "--double":
    bench.DTYPE = torch.float64
results = [bench.bench_gemm(size, int(sys.argv[2])) for size in bench.GEMM_SIZES]
for r in results:
    print(f"{r['size']:>6}^3 {r['gflops']:>10.1f} GFLOP/s")
json.dump({"gemm": results}, open(sys.argv[4], "w"), indent=2)
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda name: json.load(open(f"{out}/{name}.json"))
median = statistics.median
blas = max(g["gflops"] for g in load("torchvision_sgemm")["gemm"])
mine = max(g["gflops"] for g in load("engine_sgemm")["gemm"])
dims = {"N8 C64->64 56x56": (8, 64, 64, 56), "N4 C256->256 28x28": (4, 256, 256, 28), "N2 C512->512 14x14": (2, 512, 512, 14)}
print()
print(f"{'':<20}|{'forward ms':^22}|{'backward ms':^22}|{'fwd+bwd ms':^22}|{'3 GEMMs alone ms':^18}|{'fwd+bwd /':^11}|{'peak RSS MB':^14}")
print(f"{'shape':<20}|{'engine':>8}{'tv':>8}{'x':>6}|{'engine':>8}{'tv':>8}{'x':>6}|{'engine':>8}{'tv':>8}{'x':>6}"
      f"|{'engine':>8}{'OpenBLAS':>10}|{'BLAS GEMMs':>11}|{'engine':>7}{'tv':>7}")
floor_ratios = {}
for k in (1, 2, 3):
    runs = [(load(f"round{r}/engine_{k}"), load(f"round{r}/torchvision_{k}")) for r in range(1, rounds + 1)]
    pick = lambda side, key: median(run[side]["shapes"][0][key] for run in runs)
    ratio = lambda f: median(f(e["shapes"][0], t["shapes"][0]) for e, t in runs)
    ef, eb, tf, tb = pick(0, "fwd_ms"), pick(0, "bwd_ms"), pick(1, "fwd_ms"), pick(1, "bwd_ms")
    floor_ratios[k] = [(e["shapes"][0]["fwd_ms"] + e["shapes"][0]["bwd_ms"]) / t["shapes"][0]["gemm3_ms"] for e, t in runs]
    name = runs[0][0]["shapes"][0]["name"]
    print(f"{name:<20}|{ef:>8.1f}{tf:>8.1f}{ratio(lambda e, t: t['fwd_ms'] / e['fwd_ms']):>6.1f}"
          f"|{eb:>8.1f}{tb:>8.1f}{ratio(lambda e, t: t['bwd_ms'] / e['bwd_ms']):>6.1f}"
          f"|{median(e['shapes'][0]['fwd_ms'] + e['shapes'][0]['bwd_ms'] for e, _ in runs):>8.1f}"
          f"{median(t['shapes'][0]['fwd_ms'] + t['shapes'][0]['bwd_ms'] for _, t in runs):>8.1f}"
          f"{ratio(lambda e, t: (t['fwd_ms'] + t['bwd_ms']) / (e['fwd_ms'] + e['bwd_ms'])):>6.1f}"
          f"|{pick(0, 'gemm3_ms'):>8.1f}{pick(1, 'gemm3_ms'):>10.1f}|{median(floor_ratios[k]):>11.2f}"
          f"|{median(e['peak_rss_mb'] for e, _ in runs):>7.0f}{median(t['peak_rss_mb'] for _, t in runs):>7.0f}")
print(f"{'dgemm' if load('engine_sgemm').get('dtype') == 'float64' else 'sgemm'} GFLOP/s (best of {', '.join(str(g['size']) for g in load('engine_sgemm')['gemm'])}): "
      f"engine {mine:.1f}, OpenBLAS {blas:.1f} = {100 * mine / blas:.0f}% (engine ISA {load('engine_sgemm').get('isa', '?')})")
print("x = torchvision / engine. 3 GEMMs alone: the shape's three products (forward, gradient columns,")
print("gradient weight; 3 x 2·O·C·9·N·H·W flops) timed by themselves, with the engine's Gemm.Multiply and")
print("with torch.mm (OpenBLAS) in the same layouts; fwd+bwd / BLAS GEMMs: the engine's operator over")
print("OpenBLAS's time for those products alone (target: at most 1.25 on the GEMM-bound shapes 2 and 3;")
print("shape 1 is bound by sampling: target at least 20x torchvision in float32, 10x in float64).")
print(f"Peak RSS: whole process running that shape alone (read before the GEMMs alone). JSON in {out}")
if rounds > 1:
    print(f"Medians over {rounds} rounds (each ratio is the median of the rounds' ratios). fwd+bwd / BLAS GEMMs per round:")
    for k, values in floor_ratios.items():
        print(f"  shape {k}: " + "  ".join(f"{v:.2f}" for v in values))
PY

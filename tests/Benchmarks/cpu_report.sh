#!/usr/bin/env bash
# Every CPU measurement of docs/benchmarks.md ("CPU speed against ONNX Runtime and OpenBLAS") in one
# run, for a quiet machine. Each part's output goes to DIR/<part>.log (and JSON where the part writes
# it); the console shows the tables. Parts:
#   gemm-avx512, gemm-avx2   Gemm.Multiply against OpenBLAS sgemm (SkylakeX / Haswell kernels), 1 and 2 threads
#   floor-avx512, floor-avx2 DeformConv2d fwd+bwd against OpenBLAS's three products, 1 and 2 threads
#   ort                      forward against ONNX Runtime 1.31.1, seven shapes, 2 threads (and 1 thread)
#   torchvision-f32, -f32-avx2, -f64   tests/Benchmarks/compare.sh (fwd, bwd, fwd+bwd against torchvision)
#   first-call               tests/Benchmarks/first_call.sh
#   faults                   minor page faults per warm call
#   training                 fwd+bwd right after a write to the weight (a training step) against it unchanged
#
# Usage: tests/Benchmarks/cpu_report.sh [--out DIR] [--quick] [--only PART[,PART...]]
#   --quick: fewer pairs and repetitions (a check that everything runs, not a measurement).
set -euo pipefail

out=""
quick=0
only=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --quick) quick=1; shift ;;
        --only) only="$2"; shift 2 ;;
        *) echo "usage: $0 [--out DIR] [--quick] [--only PART[,PART...]]" >&2; exit 2 ;;
    esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"
if [[ $quick -eq 1 ]]; then pairs=3; reps=3; rounds=1; runs=2; else pairs=15; reps=9; rounds=3; runs=7; fi

want() { [[ -z "$only" || ",$only," == *",$1,"* ]]; }
bench=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll")
dotnet build "$root/tests/DeformEngine.Benchmarks" -c Release -v quiet -nologo >/dev/null

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -o 'avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg); output in $out"
run() { # name, command...
    local name="$1"; shift
    echo; echo "==== $name ($(date +%T), load average $(cut -d' ' -f1 /proc/loadavg))"
    "$@" 2>&1 | tee "$out/$name.log"
}
if want gemm-avx512; then
    run gemm-avx512 env OPENBLAS_CORETYPE=SkylakeX "${bench[@]}" gemm --threads 1,2 --pairs "$pairs" --json "$out/gemm-avx512.json"
fi
if want gemm-avx2; then
    run gemm-avx2 env DOTNET_EnableAVX512=0 OPENBLAS_CORETYPE=Haswell "${bench[@]}" gemm --threads 1,2 --pairs "$pairs" --json "$out/gemm-avx2.json"
fi
if want floor-avx512; then
    for t in 2 1; do
        run "floor-avx512-t$t" env OPENBLAS_CORETYPE=SkylakeX "${bench[@]}" floor --threads "$t" --pairs "$pairs" --json "$out/floor-avx512-t$t.json"
    done
fi
if want floor-avx2; then
    for t in 2 1; do
        run "floor-avx2-t$t" env DOTNET_EnableAVX512=0 OPENBLAS_CORETYPE=Haswell "${bench[@]}" floor --threads "$t" --pairs "$pairs" --json "$out/floor-avx2-t$t.json"
    done
fi
if want ort; then
    run ort "$here/ort_compare.sh" --pairs "$pairs" --threads 2 --out "$out/ort"
    run ort-t1 "$here/ort_compare.sh" --pairs "$pairs" --threads 1 --out "$out/ort"
fi
if want torchvision-f32; then
    run torchvision-f32 "$here/compare.sh" --reps "$reps" --rounds "$rounds" --out "$out/torchvision-f32"
fi
if want torchvision-f32-avx2; then
    run torchvision-f32-avx2 "$here/compare.sh" --reps "$reps" --rounds "$rounds" --avx2 --out "$out/torchvision-f32-avx2"
fi
if want torchvision-f64; then
    run torchvision-f64 "$here/compare.sh" --reps "$reps" --rounds 1 --double --out "$out/torchvision-f64"
fi
if want first-call; then
    run first-call "$here/first_call.sh" --runs "$runs" --out "$out/first-call"
fi
if want faults; then
    run faults "${bench[@]}" faults
fi
if want training; then
    run training "${bench[@]}" training --shapes 1,2,3,4,5 --pairs $((2 * pairs + 1))
fi
echo; echo "== done $(date +%T), load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $out"

#!/usr/bin/env bash
# DeformEngine against ONNX Runtime 1.31.1 (the .NET peer), float32 DeformConv2d forward (3x3, pad 1,
# mask and bias) on seven shapes (three batched, two single images, then a ResNet's 7x7 last stage on one and two
# images; --shapes picks some), both in one process on the same inputs and on the same number of
# threads (ORT: intra-op threads, sequential execution), interleaved pairs. Writes the one-node
# opset-19 models first (tests/Benchmarks/make_onnx_deformconv.py, Debian python3-onnx), then prints
# each side's fastest and median time, ORT / engine (above 1: the engine is faster) and the outputs'
# agreement. With --threads 1 both sides run on the calling thread and are timed in its CPU time.
# Each run starts from an idle process (both sides' workers parked); with --gap-ms G each turn is a
# stream of calls G ms apart instead (workers still looking for work between calls); --spin-ms S sets
# the engine's EngineOptions.WorkerSpinTime.
#
# Usage: tests/Benchmarks/ort_compare.sh [--pairs P] [--threads T] [--shapes all|1,2,...] [--gap-ms G] [--spin-ms S] [--out DIR]
# Needs: dotnet (SDK 10; restores Microsoft.ML.OnnxRuntime 1.31.1), /usr/bin/python3 with python3-onnx.
set -euo pipefail

pairs=15
threads=2
shapes=all
gap=()
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pairs) pairs="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --shapes) shapes="$2"; shift 2 ;;
        --gap-ms) gap+=(--gap-ms "$2"); shift 2 ;;
        --spin-ms) gap+=(--spin-ms "$2"); shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--pairs P] [--threads T] [--shapes all|1,2,...] [--gap-ms G] [--spin-ms S] [--out DIR]" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out/models"

/usr/bin/python3 "$here/make_onnx_deformconv.py" --out "$out/models" >/dev/null
dotnet build "$root/tests/DeformEngine.Benchmarks.Ort" -c Release -v quiet -nologo >/dev/null
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep -o 'avx512f\|avx2\|fma' /proc/cpuinfo | sort -u | xargs)"
dotnet "$root/tests/DeformEngine.Benchmarks.Ort/bin/Release/net10.0/DeformEngine.Benchmarks.Ort.dll" \
    --models "$out/models" --pairs "$pairs" --threads "$threads" --shapes "$shapes" "${gap[@]}" --json "$out/ort_t$threads.json"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg); JSON in $out/ort_t$threads.json"

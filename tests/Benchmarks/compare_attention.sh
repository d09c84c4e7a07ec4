#!/usr/bin/env bash
# DeformEngine vs the pure-PyTorch reference (torch 1.13, OpenBLAS), float32 multi-scale deformable
# attention on the Deformable DETR encoder shape (N=2, levels 64², 32², 16², 8², 8 heads × 32 channels,
# 4 points, 5,440 queries), both on 2 threads, each side in a fresh process, back to back; with
# --rounds K the pair runs K times and the table shows the medians. x = torch / engine (> 1: the
# engine is faster).
#
# Usage: tests/Benchmarks/compare_attention.sh [--reps R] [--rounds K] [--threads T] [--out DIR]
# Needs: dotnet (SDK 10), /usr/bin/python3 with python3-torch (Debian), libopenblas0-pthread.
set -euo pipefail

reps=9
rounds=3
threads=2
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) reps="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--reps R] [--rounds K] [--threads T] [--out DIR]" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"

dotnet build "$root/tests/DeformEngine.Benchmarks" -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" attention --reps "$reps" --threads "$threads")
torch=(/usr/bin/python3 "$here/msda_bench.py" --reps "$reps" --threads "$threads")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    echo "== round $round: DeformEngine"
    "${engine[@]}" --json "$out/engine_$round.json"
    echo "== round $round: torch"
    "${torch[@]}" --json "$out/torch_$round.json"
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = [(json.load(open(f"{out}/engine_{r}.json")), json.load(open(f"{out}/torch_{r}.json"))) for r in range(1, rounds + 1)]
median = statistics.median
pick = lambda side, key: median(run[side][key] for run in runs)
total = lambda run: run["fwd_ms"] + run["bwd_ms"]
print()
print(f"| | engine ms | torch ms | x |")
print(f"|---|---:|---:|---:|")
for key, name in (("fwd_ms", "forward"), ("bwd_ms", "backward")):
    print(f"| {name} | {pick(0, key):.1f} | {pick(1, key):.1f} | {median(t[key] / e[key] for e, t in runs):.1f} |")
print(f"| **fwd+bwd** | **{median(total(e) for e, _ in runs):.1f}** | **{median(total(t) for _, t in runs):.1f}** | "
      f"**{median(total(t) / total(e) for e, t in runs):.1f}** |")
print()
print(f"Medians over {rounds} rounds (each ratio is the median of the rounds' ratios); fwd+bwd ratio per round: " +
      ", ".join(f"{total(t) / total(e):.1f}" for e, t in runs) + f". JSON in {out}")
PY

#!/usr/bin/env bash
# DeformEngine vs a pure-PyTorch reference (torch 1.13 over OpenBLAS), float32 forward and backward, both on
# T threads, each side in a fresh process, back to back; with --rounds K the pair runs K times and the table
# shows medians over the rounds (each x the median of the rounds' ratios). x = torch / engine (> 1: the
# engine is faster). OP is one of:
#   attention  multi-scale deformable attention on the Deformable DETR encoder shape (N=2, levels 64², 32²,
#              16², 8², 8 heads × 32 channels, 4 points, 5,440 queries); reference: msda_bench.py
#   dcnv3      DCNv3 and DCNv4 on the InternImage-T stage-2 shape (N=2, 56x56, C=128, G=8, 3x3, pad 1);
#              reference: InternImage's dcnv3_core_pytorch and DCNv4's packing of it
#              (tests/golden/dcnv3_reference.py, run by dcnv3_bench.py)
#
# Usage: tests/Benchmarks/compare_pytorch.sh attention|dcnv3 [--reps R] [--rounds K] [--threads T] [--out DIR]
# Needs: dotnet (SDK 10), /usr/bin/python3 with python3-torch (Debian), libopenblas0-pthread.
set -euo pipefail

usage="usage: $0 attention|dcnv3 [--reps R] [--rounds K] [--threads T] [--out DIR]"
op="${1:-}"
case "$op" in
    attention) reference=msda_bench.py ;;
    dcnv3) reference=dcnv3_bench.py ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
shift
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
        *) echo "$usage" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"

dotnet build "$root/tests/DeformEngine.Benchmarks" -c Release -v quiet -nologo >/dev/null
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" "$op" --reps "$reps" --threads "$threads")
torch=(/usr/bin/python3 "$here/$reference" --reps "$reps" --threads "$threads")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    echo "== round $round: DeformEngine"
    "${engine[@]}" --json "$out/engine_$round.json"
    echo "== round $round: torch (pure-PyTorch reference, $reference)"
    "${torch[@]}" --json "$out/torch_$round.json"
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "$rounds" "$op" <<'PY'
import json, statistics, sys
out, rounds, op = sys.argv[1], int(sys.argv[2]), sys.argv[3]
median = statistics.median
# A run reports either one operator (fwd_ms, bwd_ms at the top) or a list of them under "ops".
ops_of = lambda run: run.get("ops") or [dict(run, name=op)]
runs = [(ops_of(json.load(open(f"{out}/engine_{r}.json"))), ops_of(json.load(open(f"{out}/torch_{r}.json"))))
        for r in range(1, rounds + 1)]
total = lambda o: o["fwd_ms"] + o["bwd_ms"]
columns = [("forward ms", lambda o: o["fwd_ms"]), ("backward ms", lambda o: o["bwd_ms"]), ("fwd+bwd ms", total)]
if all("fwd_cpu_ms" in o for e, t in runs for o in e + t):
    columns.append(("fwd+bwd CPU ms", lambda o: o["fwd_cpu_ms"] + o["bwd_cpu_ms"]))
print(f"{'op':<10}|" + "|".join(f"{name:^24}" for name, _ in columns) + "| fwd+bwd x per round")
print(f"{'':<10}" + f"|{'engine':>8}{'torch':>9}{'x':>7}" * len(columns) + "|")
for k, first in enumerate(runs[0][0]):
    pairs = [(e[k], t[k]) for e, t in runs]
    cells = [(median(f(e) for e, _ in pairs), median(f(t) for _, t in pairs), median(f(t) / f(e) for e, t in pairs))
             for _, f in columns]
    per_round = "  ".join(f"{total(t) / total(e):.1f}" for e, t in pairs)
    print(f"{first['name']:<10}|" + "|".join(f"{e:>8.1f}{t:>9.1f}{x:>7.1f}" for e, t, x in cells) + f"| {per_round}")
print(f"x = torch / engine, medians over {rounds} round(s) (each x the median of the rounds' ratios); CPU = process time")
print(f"over all threads. JSON in {out}")
PY

#!/usr/bin/env bash
# DeformEngine vs the pure-PyTorch reference (InternImage's dcnv3_core_pytorch and DCNv4's packing of it,
# tests/golden/dcnv3_reference.py), float32 DCNv3 and DCNv4 on the InternImage-T stage-2 shape (N=2, 56x56,
# C=128, G=8, 3x3, pad 1), both on 2 threads (torch over OpenBLAS). With --rounds K the pair runs K times
# (each side in a fresh process, back to back) and the table shows medians over the rounds; x = torch / engine.
#
# Usage: tests/Benchmarks/compare_dcnv3.sh [--reps R] [--rounds K] [--threads T] [--out DIR]
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
engine=(dotnet "$root/tests/DeformEngine.Benchmarks/bin/Release/net10.0/DeformEngine.Benchmarks.dll" dcnv3 --reps "$reps" --threads "$threads")
torch=(/usr/bin/python3 "$here/dcnv3_bench.py" --reps "$reps" --threads "$threads")
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    echo "== round $round: DeformEngine"
    "${engine[@]}" --json "$out/engine_$round.json"
    echo "== round $round: torch (pure-PyTorch reference)"
    "${torch[@]}" --json "$out/torch_$round.json"
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = [(json.load(open(f"{out}/engine_{r}.json")), json.load(open(f"{out}/torch_{r}.json"))) for r in range(1, rounds + 1)]
median = statistics.median
print()
print(f"{'op':<7}|{'forward ms':^24}|{'backward ms':^24}|{'fwd+bwd ms':^24}|{'fwd+bwd CPU ms':^24}| fwd+bwd x per round")
print(f"{'':<7}" + f"|{'engine':>8}{'torch':>9}{'x':>7}" * 4 + "|")
for k, name in enumerate(("dcnv3", "dcnv4")):
    pairs = [(e["ops"][k], t["ops"][k]) for e, t in runs]
    total = lambda o: o["fwd_ms"] + o["bwd_ms"]
    cells = []
    for f in (lambda o: o["fwd_ms"], lambda o: o["bwd_ms"], total, lambda o: o["fwd_cpu_ms"] + o["bwd_cpu_ms"]):
        cells.append((median(f(e) for e, _ in pairs), median(f(t) for _, t in pairs), median(f(t) / f(e) for e, t in pairs)))
    per_round = "  ".join(f"{total(t) / total(e):.1f}" for e, t in pairs)
    print(f"{name:<7}|" + "|".join(f"{e:>8.1f}{t:>9.1f}{x:>7.1f}" for e, t, x in cells) + f"| {per_round}")
print(f"x = torch / engine, medians over {rounds} round(s) (each x the median of the rounds' ratios); CPU = process time over")
print(f"all threads. JSON in {out}")
PY

#!/usr/bin/env bash
# The first DeformConv2d forward in a fresh process against its steady time, under each runtime
# setting and publish mode: the JIT as is, TieredCompilation off, QuickJitForLoops off, TieredPGO off,
# CpuFastBackend.Prepare<float>() before the first call, a ReadyToRun publish and a NativeAOT publish
# (compiled for this machine's ISA). Each variant runs in --runs fresh processes; the table shows the
# medians of the first call, the steady call and their ratio, in wall-clock and in process CPU time
# (CPU time is less disturbed by other processes on a shared machine). JSON lines kept in --out.
#
# Usage: tests/Benchmarks/first_call.sh [--runs R] [--shape K] [--threads T] [--out DIR]
# Needs: dotnet (SDK 10); the NativeAOT variant also needs a C toolchain (clang or gcc) and is skipped
# when its publish fails.
set -euo pipefail

runs=5
shape=5
threads=2
out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --shape) shape="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--runs R] [--shape K] [--threads T] [--out DIR]" >&2; exit 2 ;;
    esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
project="$root/tests/DeformEngine.FirstCall"
out="${out:-$(mktemp -d)}"
mkdir -p "$out"

echo "== building (JIT, ReadyToRun, NativeAOT) into $out"
dotnet build "$project" -c Release -v quiet -nologo >/dev/null
dotnet publish "$project" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
    -o "$out/readytorun" -v quiet -nologo >/dev/null
aot=""
if dotnet publish "$project" -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=native \
    -o "$out/nativeaot" -v quiet -nologo >"$out/nativeaot.log" 2>&1; then
    aot="$out/nativeaot/DeformEngine.FirstCall"
else
    echo "   NativeAOT publish failed (see $out/nativeaot.log); skipping that variant"
fi

jit=(dotnet "$project/bin/Release/net10.0/DeformEngine.FirstCall.dll")
args=(--shape "$shape" --threads "$threads")
declare -a names commands
add() { names+=("$1"); commands+=("$2"); }
add "jit"                         "${jit[*]} ${args[*]}"
add "jit, TieredCompilation=0"    "env DOTNET_TieredCompilation=0 ${jit[*]} ${args[*]}"
add "jit, TC_QuickJitForLoops=0"  "env DOTNET_TC_QuickJitForLoops=0 ${jit[*]} ${args[*]}"
add "jit, TieredPGO=0"            "env DOTNET_TieredPGO=0 ${jit[*]} ${args[*]}"
add "jit + Prepare<float>()"      "${jit[*]} ${args[*]} --prepare"
add "ReadyToRun"                  "$out/readytorun/DeformEngine.FirstCall ${args[*]}"
[[ -n "$aot" ]] && add "NativeAOT (IlcInstructionSet=native)" "$aot ${args[*]}"

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Interleaved: run r of every variant, then run r + 1, so that drifting load hits them alike.
for r in $(seq 1 "$runs"); do
    for i in "${!names[@]}"; do
        ${commands[$i]} >> "$out/variant$i.jsonl"
    done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$out" "${names[@]}" <<'PY'
import json, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
m = statistics.median
print(f"{'variant':<38}{'mode':>11}{'first ms':>10}{'steady ms':>11}{'ratio':>7}{'first CPU':>11}{'steady CPU':>12}{'ratio':>7}{'JIT ms':>8}{'prepare ms':>12}")
for i, name in enumerate(names):
    rows = [json.loads(line) for line in open(f"{out}/variant{i}.jsonl")]
    g = lambda k: m(r[k] for r in rows)
    print(f"{name:<38}{rows[0]['mode']:>11}{g('first_ms'):>10.1f}{g('steady_ms'):>11.1f}{g('first_over_steady'):>7.1f}"
          f"{g('first_cpu_ms'):>11.1f}{g('steady_cpu_ms'):>12.1f}{g('first_over_steady_cpu'):>7.1f}{g('first_jit_ms'):>8.1f}{g('prepare_ms'):>12.1f}")
print(f"medians of {len(rows)} fresh processes each; ratio = first / steady; CPU = process CPU time, all threads. JSON lines in {out}")
PY

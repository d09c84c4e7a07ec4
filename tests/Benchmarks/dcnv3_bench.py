#!/usr/bin/python3
"""Speed reference: the pure-PyTorch DCNv3 and DCNv4 (InternImage's dcnv3_core_pytorch, DCNv4's packing
of it; tests/golden/dcnv3_reference.py), float32, on the InternImage-T stage-2 shape.

Setup (Debian; no pip needed):
    apt-get install -y python3-torch libopenblas0-pthread
Usage:
    /usr/bin/python3 tests/Benchmarks/dcnv3_bench.py [--threads 2] [--reps 9] [--json PATH]

Shape: N=2, 56x56, C=128, G=8 (16 channels per group), 3x3, padding 1, stride 1, dilation 1,
offset_scale 1, offsets ~ 2·N(0, 1), mask ~ U(0, 1) (DCNv4: the packed offset_mask ~ 2·N(0, 1)).
The same protocol as the engine's `dcnv3` benchmark: warm-up (two runs and at least one second),
then the median of --reps; forward alone under no_grad; backward alone (to input, offset and mask, or
input and offset_mask, of L = sum(out * g)) with its forward outside the timed region. Beside the
wall-clock time: the process CPU time over all threads (time.process_time), which a shared,
oversubscribed machine inflates less (OpenMP threads that spin while waiting count in it).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from dcnv3_reference import dcnv3_core, dcnv4_core, packed_length  # noqa: E402

N, H, W, G, GC, K = 2, 56, 56, 8, 16, 3
ARGS = (K, K, 1, 1, 1, 1, 1, 1, G, GC, 1.0, 0)


def warm_up(action, runs=2, seconds=1.0):
    start = time.perf_counter()
    i = 0
    while i < runs or time.perf_counter() - start < seconds:
        action()
        i += 1


def measure(action):
    """Wall-clock and process CPU (all threads) milliseconds of one call."""
    c0, t0 = time.process_time(), time.perf_counter()
    action()
    return (time.perf_counter() - t0) * 1e3, (time.process_time() - c0) * 1e3


def time_op(forward, leaves, grad, reps):
    with torch.no_grad():
        warm_up(forward)
        fwd = [measure(forward) for _ in range(reps)]
    for leaf in leaves:
        leaf.requires_grad_(True)
    warm_up(lambda: (forward() * grad).sum().backward())
    bwd = []
    for _ in range(reps):
        for leaf in leaves:
            leaf.grad = None
        loss = (forward() * grad).sum()
        bwd.append(measure(loss.backward))
    median = lambda times, k: statistics.median(t[k] for t in times)
    return median(fwd, 0), median(bwd, 0), median(fwd, 1), median(bwd, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    P = K * K
    x = torch.randn(N, H, W, G * GC, generator=g)
    offset = torch.randn(N, H, W, G * P * 2, generator=g) * 2.0
    mask = torch.rand(N, H, W, G * P, generator=g)
    offset_mask = torch.randn(N, H, W, packed_length(G, P), generator=g) * 2.0
    grad = torch.randn(N, H, W, G * GC, generator=g)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, reps {args.reps} (median), float32")
    print(f"N={N} {H}x{W} C={G * GC} G={G} {K}x{K}, pad 1, stride 1 (pure-PyTorch reference)")
    results = []
    for name, forward, leaves in [("dcnv3", lambda: dcnv3_core(x, offset, mask, *ARGS), [x, offset, mask]),
                                  ("dcnv4", lambda: dcnv4_core(x, offset_mask, *ARGS), [x, offset_mask])]:
        fwd, bwd, fwd_cpu, bwd_cpu = time_op(forward, leaves, grad, args.reps)
        for leaf in leaves:
            leaf.requires_grad_(False)
            leaf.grad = None
        results.append({"name": name, "fwd_ms": fwd, "bwd_ms": bwd, "fwd_cpu_ms": fwd_cpu, "bwd_cpu_ms": bwd_cpu})
        print(f"{name:<8}{fwd:10.2f} ms fwd{bwd:10.2f} ms bwd{fwd + bwd:10.2f} ms fwd+bwd"
              f"   (CPU, all threads: {fwd_cpu:.1f} fwd, {bwd_cpu:.1f} bwd)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"engine": "torch", "torch": torch.__version__, "threads": args.threads, "reps": args.reps,
                       "ops": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

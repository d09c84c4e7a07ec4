#!/usr/bin/env python3
"""torchvision's deform_conv2d timed on the GPU check's shapes, beside the engine's numbers.

Usage: torchvision_deform.py [--device cuda|cpu] [--shapes full|tiny] [--reps N] [--json PATH]

Each shape: float32, 3x3 kernel with mask and bias, padding 1, as in tests/DeformEngine.GpuCheck/DeformBenchmark.cs.
Two warm-up repetitions, then --reps: the forward alone (under no_grad) and forward + backward of L = sum(out * g)
to every input. On CUDA each repetition is timed with CUDA events after a synchronize; on the CPU with
perf_counter. Reported: medians in ms.
"""

import argparse
import json
import statistics
import time

import torch
from torchvision.ops import deform_conv2d

SHAPES = {
    "full": [
        ("N8 C64->64 56x56", 8, 64, 64, 56, 56),
        ("N4 C256->256 28x28", 4, 256, 256, 28, 28),
        ("N2 C512->512 14x14", 2, 512, 512, 14, 14),
        ("N64 C64->64 56x56", 64, 64, 64, 56, 56),
    ],
    "tiny": [
        ("N2 C8->8 14x14", 2, 8, 8, 14, 14),
        ("N1 C16->16 7x7", 1, 16, 16, 7, 7),
    ],
}
WARMUP = 2


def timed(device, work):
    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        work()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end)
    t0 = time.perf_counter()
    work()
    return (time.perf_counter() - t0) * 1000.0


def bench(device, shape, reps):
    name, n, cin, cout, h, w = shape
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, cin, h, w, generator=g).to(device)
    offset = (torch.randn(n, 18, h, w, generator=g) * 2.0).to(device)
    mask = torch.rand(n, 9, h, w, generator=g).to(device)
    weight = (torch.randn(cout, cin, 3, 3, generator=g) / (9 * cin) ** 0.5).to(device)
    bias = torch.randn(cout, generator=g).to(device)
    grad = torch.randn(n, cout, h, w, generator=g).to(device)
    leaves = [x, offset, mask, weight, bias]

    def forward():
        return deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)

    with torch.no_grad():
        fwd = [timed(device, forward) for _ in range(WARMUP + reps)][WARMUP:]
    for leaf in leaves:
        leaf.requires_grad_(True)

    def forward_backward():
        for leaf in leaves:
            leaf.grad = None
        (forward() * grad).sum().backward()

    both = [timed(device, forward_backward) for _ in range(WARMUP + reps)][WARMUP:]
    return {"shape": name, "forward_ms": statistics.median(fwd), "forward_backward_ms": statistics.median(both)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--shapes", default="full", choices=list(SHAPES))
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch sees no CUDA device")
    name = torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu"
    results = []
    for shape in SHAPES[args.shapes]:
        results.append(bench(args.device, shape, args.reps))
        print(f"{results[-1]['shape']}: forward {results[-1]['forward_ms']:.3f} ms, "
              f"forward + backward {results[-1]['forward_backward_ms']:.3f} ms", flush=True)
    report = {"device": name, "torch": torch.__version__, "reps": args.reps, "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()

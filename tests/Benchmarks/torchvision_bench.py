#!/usr/bin/python3
"""Speed reference: torchvision CPU deform_conv2d (float32) and OpenBLAS sgemm.

Setup (Debian; no pip needed):
    apt-get install -y python3-torchvision libopenblas0-pthread
Usage:
    /usr/bin/python3 tests/Benchmarks/torchvision_bench.py [--threads 2] [--reps 5]
        [--shape K] [--double] [--json PATH]

Each shape: 3x3 kernel with mask and bias, padding 1, stride 1, dilation 1,
groups 1, offset groups 1. Two warm-up iterations, then --reps repetitions:
forward alone is timed; for backward the forward runs outside the timed region
and only the backward of L = sum(out * g) (to input, offset, mask, weight,
bias) is timed. Reported: median ms. Then (after the peak RSS is read) the
shape's three GEMMs alone with torch.mm, the same products the engine's
benchmark times: the floor both implementations share. sgemm: torch.mm on n x n x n float32,
GFLOP/s = 2 n^3 / median time. --shape K (1-based) runs only shape K and skips
the GEMM measurement, so peak RSS reflects that shape alone. peak_rss_mb is
ru_maxrss of this process (whole process, including the Python/torch runtime).
"""

import argparse
import json
import resource
import statistics
import sys
import time

import torch
import torchvision
from torchvision.ops import deform_conv2d

# (name, N, C_in, C_out, H, W)
SHAPES = [
    ("N8 C64->64 56x56", 8, 64, 64, 56, 56),
    ("N4 C256->256 28x28", 4, 256, 256, 28, 28),
    ("N2 C512->512 14x14", 2, 512, 512, 14, 14),
]
GEMM_SIZES = [1024, 2048]


DTYPE = torch.float32


def make_inputs(n, cin, cout, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    k = 3
    x = torch.randn(n, cin, h, w, generator=g)
    offset = torch.randn(n, 2 * k * k, h, w, generator=g) * 2.0
    mask = torch.rand(n, k * k, h, w, generator=g)
    weight = torch.randn(cout, cin, k, k, generator=g) * (1.0 / (cin * k * k) ** 0.5)
    bias = torch.randn(cout, generator=g)
    grad = torch.randn(n, cout, h, w, generator=g)
    return tuple(t.to(DTYPE) for t in (x, offset, mask, weight, bias, grad))


def bench_shape(spec, reps, warmup=2):
    name, n, cin, cout, h, w = spec
    x, offset, mask, weight, bias, grad = make_inputs(n, cin, cout, h, w)
    leaves = [x, offset, mask, weight, bias]

    def fwd():
        return deform_conv2d(x, offset, weight, bias, stride=1, padding=1, dilation=1, mask=mask)

    # forward alone (no autograd graph)
    with torch.no_grad():
        for _ in range(warmup):
            fwd()
        fwd_times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fwd()
            fwd_times.append(time.perf_counter() - t0)

    # backward alone: forward outside the timed region
    for a in leaves:
        a.requires_grad_(True)
    bwd_times = []
    for i in range(warmup + reps):
        for a in leaves:
            a.grad = None
        out = fwd()
        loss = (out * grad).sum()
        t0 = time.perf_counter()
        loss.backward()
        dt = time.perf_counter() - t0
        if i >= warmup:
            bwd_times.append(dt)
        del out, loss
    for a in leaves:
        a.grad = None
        a.requires_grad_(False)
    return {"name": name, "fwd_ms": statistics.median(fwd_times) * 1e3,
            "bwd_ms": statistics.median(bwd_times) * 1e3}


def bench_gemm(size, reps, warmup=2):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(size, size, generator=g).to(DTYPE)
    b = torch.randn(size, size, generator=g).to(DTYPE)
    c = torch.empty(size, size, dtype=DTYPE)
    for _ in range(warmup):
        torch.mm(a, b, out=c)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        times.append(time.perf_counter() - t0)
    return {"size": size, "gflops": 2.0 * size ** 3 / statistics.median(times) / 1e9}


def bench_three_gemms(spec, reps, warmup=2):
    """The operator's three products with torch.mm (OpenBLAS), in the layouts the engine's benchmark
    times (rows = N*H*W output positions, depth = C*9): forward W[O, depth] @ cols[rows, depth]^T,
    gradient columns prod[O, rows]^T @ W, gradient weight prod @ cols. The median of the sum, ms."""
    _, n, cin, cout, h, w = spec
    rows, depth = n * h * w, cin * 9
    g = torch.Generator().manual_seed(7)
    weight = torch.randn(cout, depth, generator=g).to(DTYPE)
    cols = torch.randn(rows, depth, generator=g).to(DTYPE)
    prod = torch.empty(cout, rows, dtype=DTYPE)
    gcols = torch.empty(rows, depth, dtype=DTYPE)
    gweight = torch.empty(cout, depth, dtype=DTYPE)

    def run():
        torch.mm(weight, cols.t(), out=prod)
        torch.mm(prod.t(), weight, out=gcols)
        torch.mm(prod, cols, out=gweight)

    for _ in range(warmup):
        run()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--shape", type=int, default=0, help="run only shape K (1-based); skips GEMM")
    ap.add_argument("--double", action="store_true", help="float64 throughout (operator, products, dgemm)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    global DTYPE
    DTYPE = torch.float64 if args.double else torch.float32
    dtype_name = "float64" if args.double else "float32"
    if args.shape and not 1 <= args.shape <= len(SHAPES):
        ap.error(f"--shape must be in 1..{len(SHAPES)}, got {args.shape}")
    if args.reps < 1:
        ap.error("--reps must be >= 1")

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()}, reps {args.reps} (median), {dtype_name}, CPU")

    shapes = [SHAPES[args.shape - 1]] if args.shape else SHAPES
    print("deform_conv2d 3x3, mask+bias, pad 1, stride 1")
    print(f"{'shape':<22}{'fwd ms':>10}{'bwd ms':>10}")
    shape_results = []
    for spec in shapes:
        r = bench_shape(spec, args.reps)
        shape_results.append(r)
        print(f"{r['name']:<22}{r['fwd_ms']:>10.1f}{r['bwd_ms']:>10.1f}", flush=True)

    gemm_results = []
    if not args.shape:
        print(f"{'dgemm' if args.double else 'sgemm'} (torch.mm, {dtype_name})")
        for size in GEMM_SIZES:
            r = bench_gemm(size, args.reps)
            gemm_results.append(r)
            print(f"{size:>6}^3 {r['gflops']:>10.1f} GFLOP/s", flush=True)

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # ru_maxrss is KiB on Linux
    print(f"peak RSS {peak_rss_mb:.0f} MB")
    # After the peak RSS is read: the products' operands would otherwise count towards it.
    print("the three GEMMs of each shape alone with torch.mm (forward, gradient columns, gradient weight)")
    for spec, r in zip(shapes, shape_results):
        r["gemm3_ms"] = bench_three_gemms(spec, args.reps)
        print(f"{r['name']:<22}{r['gemm3_ms']:>10.1f} ms", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                       "threads": torch.get_num_threads(), "reps": args.reps, "dtype": dtype_name,
                       "shapes": shape_results, "gemm": gemm_results, "peak_rss_mb": peak_rss_mb}, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

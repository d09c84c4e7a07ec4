#!/usr/bin/python3
"""Speed reference: multi-scale deformable attention in pure PyTorch (float32, CPU), the published
reference implementation (Deformable DETR's ms_deform_attn_core_pytorch, mmcv's
multi_scale_deformable_attn_pytorch: per level F.grid_sample, bilinear, zeros, align_corners=False).

Setup (Debian; no pip needed):
    apt-get install -y python3-torch libopenblas0-pthread
Usage:
    /usr/bin/python3 tests/Benchmarks/msda_bench.py [--threads 2] [--reps 9] [--json PATH]

Shape: the Deformable DETR encoder, N = 2, levels 64x64, 32x32, 16x16, 8x8, 8 heads of 32 channels,
4 points, one query per pixel of every level (5,440). Each query's locations are its own pixel centre
plus N(0, 1) * 2 pixels of each level; attention weights U(0, 1) / 16 (the same recipe as the engine's
`attention` benchmark, with torch's generator). Two warm-up iterations and at least one second, then
--reps repetitions: forward alone under no_grad; for backward the forward runs outside the timed
region and only the backward of L = sum(out * g) (to value, locations and weights) is timed.
Reported: median ms.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

BATCH, HEADS, CHANNELS, POINTS = 2, 8, 32, 4
SHAPES = [(64, 64), (32, 32), (16, 16), (8, 8)]


def ms_deform_attn_pytorch(value, spatial_shapes, sampling_locations, attention_weights):
    n, _, m, d = value.shape
    _, lq, _, levels, points, _ = sampling_locations.shape
    per_level = value.split([h * w for h, w in spatial_shapes], dim=1)
    grids = 2 * sampling_locations - 1
    samples = []
    for level, (h, w) in enumerate(spatial_shapes):
        v = per_level[level].flatten(2).transpose(1, 2).reshape(n * m, d, h, w)
        g = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        samples.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    weights = attention_weights.transpose(1, 2).reshape(n * m, 1, lq, levels * points)
    out = (torch.stack(samples, dim=-2).flatten(-2) * weights).sum(-1).view(n, m * d, lq)
    return out.transpose(1, 2).contiguous()


def make_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    length = sum(h * w for h, w in SHAPES)
    levels = len(SHAPES)
    value = torch.randn(BATCH, length, HEADS, CHANNELS, generator=g)
    centres = []
    for h, w in SHAPES:
        ys, xs = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
        centres.append(torch.stack([xs.flatten(), ys.flatten()], -1))
    reference = torch.cat(centres)  # [queries, 2] of (x, y)
    scale = torch.tensor([[2.0 / w, 2.0 / h] for h, w in SHAPES])  # [levels, 2]
    noise = torch.randn(BATCH, length, HEADS, levels, POINTS, 2, generator=g)
    locations = reference[None, :, None, None, None, :] + noise * scale[None, None, None, :, None, :]
    weights = torch.rand(BATCH, length, HEADS, levels, POINTS, generator=g) / (levels * POINTS)
    grad = torch.randn(BATCH, length, HEADS * CHANNELS, generator=g)
    return value, locations, weights, grad


def warm_up(action, warmup=2, seconds=1.0):
    start = time.perf_counter()
    i = 0
    while i < warmup or time.perf_counter() - start < seconds:
        action()
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    value, locations, weights, grad = make_inputs()
    leaves = [value, locations, weights]

    def forward():
        return ms_deform_attn_pytorch(value, SHAPES, locations, weights)

    with torch.no_grad():
        warm_up(forward)
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            forward()
            times.append(time.perf_counter() - start)
    fwd_ms = statistics.median(times) * 1e3

    for leaf in leaves:
        leaf.requires_grad_(True)
    warm_up(lambda: forward().backward(grad))
    times = []
    for _ in range(args.reps):
        for leaf in leaves:
            leaf.grad = None
        out = forward()
        start = time.perf_counter()
        out.backward(grad)
        times.append(time.perf_counter() - start)
    bwd_ms = statistics.median(times) * 1e3

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, reps {args.reps} (median), float32, "
          f"pure-PyTorch multi_scale_deformable_attn")
    print(f"{'fwd ms':>10}{'bwd ms':>10}{'fwd+bwd ms':>12}")
    print(f"{fwd_ms:>10.1f}{bwd_ms:>10.1f}{fwd_ms + bwd_ms:>12.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"engine": "torch", "torch": torch.__version__, "threads": args.threads, "reps": args.reps,
                       "fwd_ms": fwd_ms, "bwd_ms": bwd_ms}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

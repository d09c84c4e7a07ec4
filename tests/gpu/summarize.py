#!/usr/bin/env python3
"""Puts the engine's and torchvision's DeformConv2d timings of one GPU check side by side (markdown).

Usage: summarize.py ENGINE_JSON TORCHVISION_JSON > summary.md
"""

import json
import sys


def main():
    engine = json.load(open(sys.argv[1]))
    try:
        torch = json.load(open(sys.argv[2]))
    except (OSError, ValueError):
        torch = {"device": "not measured", "torch": "-", "results": []}
    theirs = {r["shape"]: r for r in torch["results"]}
    print(f"DeformConv2d, float32, k3 pad1, mask and bias; medians of {engine['reps']} repetitions.")
    print(f"Engine: {engine['device']}, {engine['gemm']}. torchvision: {torch['device']}, torch {torch['torch']}.")
    print()
    print("| shape | engine fwd ms | torchvision fwd ms | engine fwd+bwd ms | torchvision fwd+bwd ms | fwd+bwd engine/torchvision |")
    print("|---|---|---|---|---|---|")
    for ours in engine["results"]:
        other = theirs.get(ours["shape"])
        tf = f"{other['forward_ms']:.3f}" if other else "-"
        tb = f"{other['forward_backward_ms']:.3f}" if other else "-"
        ratio = f"{ours['forward_backward_ms'] / other['forward_backward_ms']:.2f}" if other else "-"
        print(f"| {ours['shape']} | {ours['forward_ms']:.3f} | {tf} | {ours['forward_backward_ms']:.3f} | {tb} | {ratio} |")


if __name__ == "__main__":
    main()

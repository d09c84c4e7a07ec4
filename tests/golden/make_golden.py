#!/usr/bin/python3
"""Golden reference data for DeformEngine, produced by torchvision.

Setup (Debian; no pip needed):
    apt-get install -y python3-torchvision python3-numpy
Run from anywhere:
    /usr/bin/python3 tests/golden/make_golden.py

Writes tests/DeformEngine.Tests/golden-data/<op>/<case>/ (path computed from
this file's location): float64 C-order .npy arrays (np.save) and params.json.
Gradients are those of L = sum(output * grad_output) for a random grad_output.
The whole folder is deleted and rewritten on each run; seeds are fixed, so a
rerun with the same torch/torchvision gives byte-identical files.

Ops covered:
  deform_conv2d   torchvision.ops.deform_conv2d
  roi_align       torchvision.ops.roi_align
  ps_roi_align    torchvision.ops.ps_roi_align
  bilinear_sample the deform_conv2d bilinear sampler alone, obtained through
                  deform_conv2d with a 1x1 kernel, stride 1, padding 0 and a
                  depthwise identity weight (groups = C, weight = 1): output
                  (oy, ox) samples at (oy + dy, ox + dx), so P = H*W points.
"""

import json
import os
import shutil
import zlib

import numpy as np
import torch
import torchvision
from torchvision.ops import deform_conv2d, ps_roi_align, roi_align

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "DeformEngine.Tests", "golden-data")

torch.set_num_threads(1)  # fixed reduction order -> reproducible files


def rng_for(op, name):
    """Deterministic generator per case (independent of case order)."""
    return np.random.default_rng(zlib.crc32(f"{op}/{name}".encode()))


def nudge(a):
    """Move values whose fractional part is within 0.02 of an integer by +0.05.

    Sampling coordinates are integer grid positions plus offsets, so this keeps
    them off the integer kinks of the bilinear weights (where torchvision's
    derivative picks one side)."""
    a = np.array(a, dtype=np.float64)
    frac = a - np.floor(a)
    near = (frac < 0.02) | (frac > 0.98)
    a[near] += 0.05
    return a


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def save(folder, arrays, params):
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().numpy()
        a = np.ascontiguousarray(a, dtype=np.float64)
        np.save(os.path.join(folder, name + ".npy"), a)
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=2, sort_keys=True)
        f.write("\n")


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


# --------------------------------------------------------------------------
# deform_conv2d
# --------------------------------------------------------------------------

def out_size(h, k, s, p, d):
    return (h + 2 * p - (d * (k - 1) + 1)) // s + 1


def exact_border_offsets(rng, off, hw, k, stride, padding, dilation):
    """Offsets that put sampling points exactly on the border coordinates -1, 0, H-1, H
    (and -1, 0, W-1, W), or on an inner integer, each axis drawn on its own; about one
    axis in six keeps its random (nudged, fractional) offset. These are the points where
    torchvision's one-sided slopes decide the offset gradient (at -1 it takes the slope
    from the inside, at H it gives 0)."""
    H, W = hw
    kh, kw = k
    n, channels, ho, wo = off.shape
    off = off.copy()
    for b in range(n):
        for g in range(channels // (2 * kh * kw)):
            for i in range(kh):
                for j in range(kw):
                    c = 2 * ((g * kh + i) * kw + j)
                    for oy in range(ho):
                        for ox in range(wo):
                            base = (oy * stride[0] - padding[0] + i * dilation[0],
                                    ox * stride[1] - padding[1] + j * dilation[1])
                            for axis, size in ((0, H), (1, W)):
                                choice = rng.integers(0, 6)
                                if choice == 5:
                                    continue
                                target = [-1, 0, size - 1, size, int(rng.integers(0, size))][choice]
                                off[b, c + axis, oy, ox] = float(target - base[axis])
    return off


def dcn_case(name, description, n, cin, cout, hw, k, stride=1, padding=0, dilation=1,
             groups=1, offset_groups=1, bias=True, mask=True, offset_scale=1.0,
             offset_shift=0.0, exact_borders=False):
    rng = rng_for("deform_conv2d", name)
    H, W = hw
    kh, kw = pair(k)
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    dh, dw = pair(dilation)
    ho, wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    assert ho > 0 and wo > 0 and cin % groups == 0 and cout % groups == 0 and cin % offset_groups == 0

    x = rng.standard_normal((n, cin, H, W))
    w = rng.standard_normal((cout, cin // groups, kh, kw)) * 0.5
    b = rng.standard_normal(cout) if bias else None
    off = nudge(rng.standard_normal((n, 2 * offset_groups * kh * kw, ho, wo)) * offset_scale + offset_shift)
    if exact_borders:
        off = exact_border_offsets(rng, off, hw, (kh, kw), (sh, sw), (ph, pw), (dh, dw))
    m = rng.uniform(0.05, 0.95, (n, offset_groups * kh * kw, ho, wo)) if mask else None
    go = rng.standard_normal((n, cout, ho, wo))

    tx, tw, toff = t(x, True), t(w, True), t(off, True)
    tb = t(b, True) if bias else None
    tm = t(m, True) if mask else None
    y = deform_conv2d(tx, toff, tw, tb, stride=(sh, sw), padding=(ph, pw),
                      dilation=(dh, dw), mask=tm)
    assert tuple(y.shape) == (n, cout, ho, wo)
    (y * t(go)).sum().backward()

    arrays = {"input": x, "offset": off, "weight": w, "output": y,
              "grad_output": go, "grad_input": tx.grad, "grad_offset": toff.grad,
              "grad_weight": tw.grad}
    if bias:
        arrays["bias"] = b
        arrays["grad_bias"] = tb.grad
    if mask:
        arrays["mask"] = m
        arrays["grad_mask"] = tm.grad
    params = {"stride": [sh, sw], "padding": [ph, pw], "dilation": [dh, dw],
              "has_bias": bias, "has_mask": mask, "groups": groups,
              "offset_groups": offset_groups,
              "description": f"{description} (N{n} C{cin}->{cout} {H}x{W}, k{kh}x{kw}, "
                             f"out {ho}x{wo}, offsets ~N({offset_shift},{offset_scale}^2))"}
    save(os.path.join(OUT, "deform_conv2d", name), arrays, params)
    return name, params["description"]


def deform_conv2d_cases():
    c = []
    c.append(dcn_case("basic_k3_pad1", "3x3, padding 1, bias, no mask (DCNv1)",
                      1, 2, 3, (7, 7), 3, padding=1, mask=False, offset_scale=1.0))
    c.append(dcn_case("k3_mask_bias_nonsquare", "3x3 with mask and bias on a non-square image, border-crossing offsets",
                      1, 3, 4, (6, 8), 3, padding=1, offset_scale=2.5))
    c.append(dcn_case("k3_nopad_mask_nobias", "3x3, no padding, mask, no bias",
                      1, 2, 2, (6, 7), 3, bias=False, offset_scale=1.5))
    c.append(dcn_case("k1_plain", "1x1 kernel, no bias, no mask, batch 2",
                      2, 3, 2, (5, 6), 1, bias=False, mask=False, offset_scale=1.5))
    c.append(dcn_case("k1_mask_bias_og3", "1x1 kernel with mask, bias, 3 offset groups",
                      1, 6, 4, (5, 5), 1, offset_groups=3, offset_scale=2.0))
    c.append(dcn_case("k1_stride2", "1x1 kernel, stride 2, mask",
                      1, 2, 3, (7, 8), 1, stride=2, bias=False, offset_scale=1.5))
    c.append(dcn_case("stride2_pad1", "3x3, stride 2, padding 1, mask and bias",
                      1, 2, 3, (9, 9), 3, stride=2, padding=1, offset_scale=1.5))
    c.append(dcn_case("stride21_pad10_k3x2", "3x2 kernel, stride (2,1), padding (1,0)",
                      1, 2, 3, (8, 7), (3, 2), stride=(2, 1), padding=(1, 0), offset_scale=1.5))
    c.append(dcn_case("pad10_k3_nomask", "3x3, padding (1,0), bias, no mask, non-square",
                      1, 3, 2, (6, 8), 3, padding=(1, 0), mask=False, offset_scale=2.0))
    c.append(dcn_case("dilation2_pad2", "3x3, dilation 2, padding 2, mask",
                      1, 2, 2, (9, 9), 3, padding=2, dilation=2, offset_scale=1.5))
    c.append(dcn_case("dilation21_pad21", "3x3, dilation (2,1), padding (2,1), bias, no mask",
                      1, 2, 3, (8, 9), 3, padding=(2, 1), dilation=(2, 1), mask=False, offset_scale=1.5))
    c.append(dcn_case("k3x2_mask", "3x2 kernel, padding (1,1), mask, no bias",
                      1, 3, 2, (7, 6), (3, 2), padding=1, bias=False, offset_scale=2.0))
    c.append(dcn_case("k5_pad2", "5x5 kernel, padding 2, mask and bias",
                      1, 2, 2, (9, 9), 5, padding=2, offset_scale=2.0))
    c.append(dcn_case("k5_nopad_nomask", "5x5 kernel, no padding, no mask, batch 2",
                      2, 2, 3, (8, 9), 5, mask=False, offset_scale=2.5))
    c.append(dcn_case("groups2", "groups 2, 3x3, padding 1, mask and bias",
                      1, 4, 6, (6, 6), 3, padding=1, groups=2, offset_scale=1.5))
    c.append(dcn_case("offset_groups3", "3 offset groups, 3x3, padding 1, mask",
                      1, 6, 4, (6, 7), 3, padding=1, offset_groups=3, offset_scale=1.5))
    c.append(dcn_case("groups2_offset_groups3", "groups 2 with 3 offset groups (boundaries do not align), no mask",
                      1, 6, 4, (5, 6), 3, padding=1, groups=2, offset_groups=3, mask=False, offset_scale=1.5))
    c.append(dcn_case("batch3_mask_bias", "batch 3, 3x3, padding 1, mask and bias, border-crossing offsets",
                      3, 3, 4, (6, 5), 3, padding=1, offset_scale=2.5))
    c.append(dcn_case("batch3_groups2_og2_stride2", "batch 3, groups 2, 2 offset groups, stride 2, mask",
                      3, 4, 4, (7, 8), 3, stride=2, padding=1, groups=2, offset_groups=2, offset_scale=2.0))
    c.append(dcn_case("large_offsets", "3x3, offsets of scale 3 (many samples partly or wholly outside), mask",
                      1, 2, 3, (6, 5), 3, padding=1, offset_scale=3.0))
    c.append(dcn_case("offsets_outside_plus20", "all offsets ~ +20: every sample outside, output = bias, zero grads except bias",
                      1, 2, 3, (5, 6), 3, padding=1, offset_scale=0.3, offset_shift=20.0))
    c.append(dcn_case("offsets_outside_minus20_nomask", "all offsets ~ -20, no mask: every sample outside",
                      2, 2, 2, (5, 5), 3, padding=1, mask=False, offset_scale=0.3, offset_shift=-20.0))
    c.append(dcn_case("stride2_dil2_nonsquare", "stride 2, dilation 2, padding (2,1), non-square, mask, bias",
                      1, 3, 2, (9, 7), 3, stride=2, padding=(2, 1), dilation=2, offset_scale=2.0))
    c.append(dcn_case("exact_borders_k3_mask", "points exactly on -1, 0, H-1, H (both axes) or inner integers, mask, bias",
                      1, 2, 3, (5, 6), 3, padding=1, offset_scale=1.0, exact_borders=True))
    c.append(dcn_case("exact_borders_groups2_og2_stride2", "exact border points, batch 2, groups 2, 2 offset groups, stride 2, no mask",
                      2, 4, 4, (6, 5), 3, stride=2, padding=2, groups=2, offset_groups=2, mask=False, offset_scale=1.0,
                      exact_borders=True))
    c.append(dcn_case("exact_borders_k2x3_dilation2", "exact border points, 2x3 kernel, dilation 2, padding 1, mask, no bias",
                      1, 3, 2, (4, 4), (2, 3), padding=1, dilation=2, bias=False, offset_scale=1.0, exact_borders=True))
    return c


# --------------------------------------------------------------------------
# bilinear_sample (through deform_conv2d, 1x1 depthwise identity)
# --------------------------------------------------------------------------

def bilinear_case(name, description, n, c, hw, offset_scale, fixed=None, exact=None):
    rng = rng_for("bilinear_sample", name)
    H, W = hw
    x = rng.standard_normal((n, c, H, W))
    off = rng.standard_normal((n, 2, H, W)) * offset_scale
    base_y, base_x = np.meshgrid(np.arange(H, dtype=np.float64), np.arange(W, dtype=np.float64), indexing="ij")
    if fixed:
        # fixed[(n, oy, ox)] = (y, x): absolute coordinates placed at that point
        for (b, oy, ox), (yy, xx) in fixed.items():
            off[b, 0, oy, ox] = yy - oy
            off[b, 1, oy, ox] = xx - ox
    off = nudge(off)
    if exact:
        # exact[(n, oy, ox)] = (y, x): placed after the nudge, so integers stay integers
        for (b, oy, ox), (yy, xx) in exact.items():
            off[b, 0, oy, ox] = yy - oy
            off[b, 1, oy, ox] = xx - ox
    go = rng.standard_normal((n, c, H, W))

    tx, toff = t(x, True), t(off, True)
    w = torch.ones((c, 1, 1, 1), dtype=torch.float64)
    y = deform_conv2d(tx, toff, w, None)
    (y * t(go)).sum().backward()

    P = H * W
    coords = np.stack([off[:, 0] + base_y, off[:, 1] + base_x], axis=-1).reshape(n, P, 2)
    grad_coords = toff.grad.numpy().transpose(0, 2, 3, 1).reshape(n, P, 2)
    arrays = {"input": x, "coords": coords, "output": y.detach().numpy().reshape(n, c, P),
              "grad_output": go.reshape(n, c, P), "grad_input": tx.grad, "grad_coords": grad_coords}
    params = {"description": f"{description} (N{n} C{c} {H}x{W}, P={P})"}
    save(os.path.join(OUT, "bilinear_sample", name), arrays, params)
    return name, params["description"]


def bilinear_cases():
    c = []
    c.append(bilinear_case("inside_mostly", "small offsets, mostly inside the image", 1, 2, (5, 6), 0.7))
    # coordinates straddling every border, just outside, far outside
    fixed = {(0, 0, 0): (-0.5, 2.3), (0, 0, 1): (1.4, -0.6), (0, 0, 2): (-0.3, -0.7),
             (0, 0, 3): (3.6, 1.2), (0, 1, 0): (2.2, 4.7), (0, 1, 1): (3.5, 4.5),
             (0, 1, 2): (-1.3, 2.0), (0, 1, 3): (1.5, -1.2), (0, 1, 4): (4.1, 2.5),
             (0, 2, 0): (1.5, 5.3), (0, 2, 1): (-0.97, 2.5), (0, 2, 2): (2.5, -0.97),
             (1, 0, 0): (-7.3, 1.5), (1, 0, 1): (1.5, 9.4), (1, 0, 2): (-0.4, 4.6),
             (1, 3, 4): (3.96, 4.96)}
    c.append(bilinear_case("border_straddle", "coordinates straddling all four borders, just and far outside", 2, 3, (4, 5), 2.5, fixed))
    c.append(bilinear_case("far_outside_mix", "large offsets: most points outside", 1, 2, (4, 4), 6.0))
    # every pair of y in {-1, 0, 1.5, H-1, H} and x in {-1, 0, 2.5, W-1, W}, then mixed and inner integers
    H, W = 4, 5
    ys, xs = [-1.0, 0.0, 1.5, H - 1.0, float(H)], [-1.0, 0.0, 2.5, W - 1.0, float(W)]
    points = [(y, x) for y in ys for x in xs] + [(-1.0, 1.0), (-1.0, 3.25), (2.0, -1.0), (0.75, -1.0), (2.0, 3.0),
                                                (1.0, 1.0), (-1.0, 4.5), (3.5, -1.0), (3.0, 1.5), (0.5, 4.0),
                                                (4.0, 2.0), (1.0, 5.0), (-0.5, 0.0), (0.0, -0.5), (3.0, 4.0)]
    exact = {(p // (H * W), (p % (H * W)) // W, p % W): point for p, point in enumerate(points)}
    c.append(bilinear_case("exact_borders", "points exactly on -1, 0, H-1, H (x likewise), mixed with fractions and inner integers",
                           2, 3, (H, W), 1.0, exact=exact))
    return c


# --------------------------------------------------------------------------
# roi_align / ps_roi_align
# --------------------------------------------------------------------------

def make_rois(rng, batch_idx, lo, hi, min_size, max_size):
    rows = []
    for b in batch_idx:
        x1, y1 = rng.uniform(lo, hi, 2)
        w, h = rng.uniform(min_size, max_size, 2)
        rows.append([float(b), x1, y1, x1 + w, y1 + h])
    return np.array(rows, dtype=np.float64)


def roi_case(op, name, description, n, c, hw, rois, output_size, spatial_scale, sampling_ratio, aligned=None):
    rng = rng_for(op, name)
    H, W = hw
    x = rng.standard_normal((n, c, H, W))
    oh, ow = output_size
    tx = t(x, True)
    if op == "roi_align":
        y = roi_align(tx, t(rois), (oh, ow), spatial_scale, sampling_ratio, aligned)
    else:
        y = ps_roi_align(tx, t(rois), (oh, ow), spatial_scale, sampling_ratio)
    go = rng.standard_normal(tuple(y.shape))
    (y * t(go)).sum().backward()
    arrays = {"input": x, "rois": rois, "output": y, "grad_output": go, "grad_input": tx.grad}
    params = {"output_size": [oh, ow], "spatial_scale": spatial_scale, "sampling_ratio": sampling_ratio,
              "description": f"{description} (N{n} C{c} {H}x{W}, K{rois.shape[0]}, out {tuple(y.shape)})"}
    if op == "roi_align":
        params["aligned"] = aligned
    save(os.path.join(OUT, op, name), arrays, params)
    return name, params["description"]


def roi_align_cases():
    op = "roi_align"
    c = []
    r = lambda name: rng_for(op + "-rois", name)
    c.append(roi_case(op, "unaligned_sr2", "aligned=False, sampling 2", 1, 2, (8, 8),
                      make_rois(r("a"), [0, 0, 0], 0.3, 4.0, 1.5, 4.0), (2, 2), 1.0, 2, False))
    c.append(roi_case(op, "aligned_sr2", "aligned=True, sampling 2", 1, 2, (8, 8),
                      make_rois(r("b"), [0, 0, 0], 0.3, 4.0, 1.5, 4.0), (2, 2), 1.0, 2, True))
    c.append(roi_case(op, "aligned_adaptive_nonsquare_out", "aligned=True, adaptive sampling (-1), 3x2 output",
                      1, 3, (9, 9), make_rois(r("c"), [0, 0, 0], 0.2, 3.0, 2.0, 6.0), (3, 2), 1.0, -1, True))
    c.append(roi_case(op, "unaligned_adaptive_scale05", "aligned=False, adaptive sampling, spatial_scale 0.5",
                      1, 2, (8, 9), make_rois(r("d"), [0, 0, 0, 0], 0.5, 8.0, 3.0, 9.0), (2, 3), 0.5, -1, False))
    c.append(roi_case(op, "aligned_sr1_scale05", "aligned=True, sampling 1, spatial_scale 0.5",
                      1, 2, (7, 8), make_rois(r("e"), [0, 0, 0], 0.5, 7.0, 2.0, 8.0), (2, 2), 0.5, 1, True))
    partial = np.array([[0, -2.3, -1.7, 3.1, 2.6],      # over top-left corner
                        [0, 5.2, 4.4, 10.3, 9.1],       # over bottom-right corner
                        [0, -3.4, 2.2, 9.6, 4.9],       # wider than the image
                        [0, 9.3, 9.6, 12.2, 11.8]],     # wholly outside
                       dtype=np.float64)
    c.append(roi_case(op, "partly_outside_aligned", "aligned=True, sampling 2, RoIs partly and wholly outside",
                      1, 2, (7, 7), partial, (2, 2), 1.0, 2, True))
    c.append(roi_case(op, "partly_outside_unaligned_adaptive", "aligned=False, adaptive, RoIs partly and wholly outside",
                      1, 2, (7, 7), partial, (3, 2), 1.0, -1, False))
    c.append(roi_case(op, "batch3_mixed_indices", "batch 3, batch indices mixed, adaptive, aligned=True, 3x3 output",
                      3, 2, (8, 7), make_rois(r("h"), [2, 0, 1, 0, 2, 1], 0.0, 4.0, 1.5, 4.5), (3, 3), 1.0, -1, True))
    c.append(roi_case(op, "batch2_unaligned_sr2", "batch 2, mixed indices, aligned=False, sampling 2, 1x3 output",
                      2, 3, (6, 9), make_rois(r("i"), [1, 0, 1, 0], 0.0, 5.0, 1.0, 4.0), (1, 3), 1.0, 2, False))
    small = np.array([[0, 2.3, 3.1, 2.7, 3.4], [0, 4.6, 1.2, 5.3, 1.9]], dtype=np.float64)
    c.append(roi_case(op, "small_rois_unaligned", "aligned=False, RoIs smaller than 1 pixel (size forced to 1), adaptive",
                      1, 2, (6, 6), small, (2, 2), 1.0, -1, False))
    c.append(roi_case(op, "small_rois_aligned", "aligned=True, RoIs smaller than 1 pixel (no forcing), sampling 2",
                      1, 2, (6, 6), small, (2, 2), 1.0, 2, True))
    return c


def ps_roi_align_cases():
    op = "ps_roi_align"
    c = []
    r = lambda name: rng_for(op + "-rois", name)
    c.append(roi_case(op, "basic_sr2", "out_channels 2, 2x2 bins, sampling 2", 1, 8, (7, 7),
                      make_rois(r("a"), [0, 0, 0], 0.3, 3.0, 2.0, 4.0), (2, 2), 1.0, 2))
    c.append(roi_case(op, "adaptive_scale05_3x3", "out_channels 1, 3x3 bins, adaptive, spatial_scale 0.5", 1, 9, (8, 8),
                      make_rois(r("b"), [0, 0, 0], 0.5, 6.0, 4.0, 9.0), (3, 3), 0.5, -1))
    c.append(roi_case(op, "batch2_nonsquare_sr1", "batch 2, mixed indices, out_channels 2, 2x3 bins, sampling 1",
                      2, 12, (6, 8), make_rois(r("c"), [1, 0, 1, 0], 0.0, 3.0, 2.0, 5.0), (2, 3), 1.0, 1))
    partial = np.array([[0, -2.3, -1.7, 3.1, 2.6], [0, 4.2, 3.4, 8.3, 8.1], [0, 7.4, 7.6, 9.2, 9.8]], dtype=np.float64)
    c.append(roi_case(op, "partly_outside", "RoIs partly and wholly outside, out_channels 1, 2x2 bins, sampling 2",
                      1, 4, (6, 6), partial, (2, 2), 1.0, 2))
    small = np.array([[0, 2.3, 3.1, 2.35, 3.12], [0, 1.6, 1.2, 2.3, 2.0]], dtype=np.float64)
    c.append(roi_case(op, "small_rois_adaptive", "tiny RoIs (< 1 px; ps_roi_align applies no minimum size), adaptive, out_channels 1, 2x2 bins",
                      1, 4, (5, 5), small, (2, 2), 1.0, -1))
    return c


def main():
    if os.path.isdir(OUT):
        for sub in ("deform_conv2d", "roi_align", "ps_roi_align", "bilinear_sample"):
            shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    groups = [("deform_conv2d", deform_conv2d_cases()), ("bilinear_sample", bilinear_cases()),
              ("roi_align", roi_align_cases()), ("ps_roi_align", ps_roi_align_cases())]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("Generated by tests/golden/make_golden.py (run `/usr/bin/python3 tests/golden/make_golden.py`)\n"
                f"with torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {np.__version__} (CPU, float64).\n"
                "Do not edit by hand; regenerate instead. Layout: <op>/<case>/*.npy + params.json;\n"
                "gradients are of L = sum(output * grad_output).\n")
    for op, cases in groups:
        print(f"{op}: {len(cases)} cases")
        for name, desc in cases:
            print(f"  {name}: {desc}")
    total = 0
    for dirpath, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dirpath, fn)) for fn in files)
    print(f"total size of {os.path.relpath(OUT, ROOT)}: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Golden reference data for DeformEngine's GridSample and MultiScaleDeformableAttention, from torch.

Setup (Debian; no pip needed):
    apt-get install -y python3-torch python3-numpy
Run from anywhere:
    /usr/bin/python3 tests/golden/make_golden_msda.py

Writes tests/DeformEngine.Tests/golden-data/{grid_sample,ms_deform_attn}/<case>/ (path computed from
this file's location): float64 C-order .npy arrays and params.json. Gradients are those of
L = sum(output * grad_output) for a random grad_output. Both folders are deleted and rewritten on
each run; seeds are fixed per case, so a rerun with the same torch gives identical files.

Ops covered:
  grid_sample     torch.nn.functional.grid_sample, 2-D: bilinear and nearest; zeros, border and
                  reflection padding; align_corners False and True.
  ms_deform_attn  multi-scale deformable attention as published in pure PyTorch (Deformable DETR's
                  ms_deform_attn_core_pytorch, mmcv's multi_scale_deformable_attn_pytorch), written
                  out below from that definition: per level, value rows -> [N*M, D, H, W], locations
                  -> grid 2*loc - 1, F.grid_sample(bilinear, zeros, align_corners=False), weighted
                  by the attention weights and summed over levels and points.
  ms_deform_attn_module
                  mmcv's MultiScaleDeformableAttention module (eval mode), written out below from its
                  published definition (parameter names, init_weights, forward with reference points
                  or boxes, query_pos, key_padding_mask, batch_first): its initial sampling_offsets bias
                  (init_sampling_offsets_bias), then a random state (state_<name>), the output and the
                  gradients of the inputs and of every parameter (grad_<name>).

Sampling coordinates are mostly random (inside, across and outside the border); about a quarter are
replaced by "special" values that land exactly on a pixel, a pixel edge, the map's border, the -1
edge of the bilinear support, or (reflection) a reflection point. Only specials for which every
step of the coordinate arithmetic is exact in float64 are used, so that any correct implementation
floors, rounds and clips them as torch does whatever its evaluation order.
"""

import json
import math
import os
import shutil
import zlib
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "DeformEngine.Tests", "golden-data")
CASES = 64

torch.set_num_threads(1)  # fixed reduction order -> reproducible files


def rng_for(op, name):
    """Deterministic generator per case (independent of case order)."""
    return np.random.default_rng(zlib.crc32(f"{op}/{name}".encode()))


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def save(folder, arrays, params):
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().numpy()
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(a, dtype=np.float64))
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=2, sort_keys=True)
        f.write("\n")


def exact_unnormalize(g, size, align_corners):
    """True when grid value g maps to its pixel coordinate without rounding in any step."""
    one_more = g + 1.0
    if Fraction(one_more) != Fraction(g) + 1:
        return False
    scale = (size - 1) / 2 if align_corners else size / 2
    product = one_more * scale
    if Fraction(product) != Fraction(one_more) * Fraction(scale):
        return False
    return align_corners or Fraction(product - 0.5) == Fraction(product) - Fraction(1, 2)


def grid_value(u, size, align_corners):
    """The grid value whose pixel coordinate is u (rounded to float64)."""
    if align_corners:
        return 2.0 * u / (size - 1) - 1.0 if size > 1 else 0.0
    return (2.0 * u + 1.0) / size - 1.0


def special_grid_values(size, align_corners):
    """Grid values that land exactly on pixel centres, pixel edges, the border, the -1 edge of the
    bilinear support, and the reflection points one span out."""
    pixels = [-1.0, -0.5, 0.0, 0.5, size - 1.0, size - 0.5, size * 1.0, 2.0 * size - 0.5, -size - 0.5]
    pixels += [float(k) for k in range(size)]
    values = {-1.0, 1.0, 0.0}
    for u in pixels:
        g = grid_value(u, size, align_corners)
        if exact_unnormalize(g, size, align_corners):
            values.add(g)
    return sorted(v for v in values if exact_unnormalize(v, size, align_corners))


def with_specials(rng, values, specials, fraction=0.25):
    values = values.copy()
    pick = rng.random(values.shape) < fraction
    values[pick] = rng.choice(specials, size=int(pick.sum()))
    return values


# --------------------------------------------------------------------------
# grid_sample

MODES = ["bilinear", "nearest"]
PADDINGS = ["zeros", "border", "reflection"]


def grid_sample_case(index):
    mode = MODES[index % 2]
    padding = PADDINGS[(index // 2) % 3]
    align = (index // 6) % 2 == 1
    name = f"case{index:02d}_{mode}_{padding}_{'align' if align else 'noalign'}"
    rng = rng_for("grid_sample", name)
    big_batch = index % 9 == 4
    n = 33 if big_batch else int(rng.integers(1, 4))
    c = int(rng.integers(1, 3 if big_batch else 4))
    h, w = (int(rng.integers(1, 5 if big_batch else 8)) for _ in range(2))
    oh, ow = (int(rng.integers(1, 3 if big_batch else 5)) for _ in range(2))
    reach = 3.2 if padding == "reflection" else 1.4
    grid = rng.uniform(-reach, reach, size=(n, oh, ow, 2))
    grid[..., 0] = with_specials(rng, grid[..., 0], special_grid_values(w, align))
    grid[..., 1] = with_specials(rng, grid[..., 1], special_grid_values(h, align))
    x = t(rng.standard_normal((n, c, h, w)), grad=True)
    g = t(grid, grad=True)
    out = F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)
    grad_output = t(rng.standard_normal(tuple(out.shape)))
    (out * grad_output).sum().backward()
    description = f"{mode}, {padding}, align_corners={align}: N{n} C{c} {h}x{w} -> {oh}x{ow}"
    save(os.path.join(OUT, "grid_sample", name),
         {"input": x, "grid": g, "output": out, "grad_output": grad_output, "grad_input": x.grad, "grad_grid": g.grad},
         {"mode": mode, "padding_mode": padding, "align_corners": align, "description": description})
    return name, description


# --------------------------------------------------------------------------
# multi-scale deformable attention

def ms_deform_attn_pytorch(value, spatial_shapes, sampling_locations, attention_weights):
    """The published pure-PyTorch definition, in its steps: value [N, S, M, D], spatial_shapes
    [(H, W)], sampling_locations [N, Lq, M, L, P, 2] of (x, y) in [0, 1], attention_weights
    [N, Lq, M, L, P] -> [N, Lq, M*D]."""
    n, _, m, d = value.shape
    _, lq, _, levels, points, _ = sampling_locations.shape
    per_level = value.split([h * w for h, w in spatial_shapes], dim=1)
    grids = 2 * sampling_locations - 1
    samples = []
    for level, (h, w) in enumerate(spatial_shapes):
        # [N, H*W, M, D] -> [N*M, D, H, W]
        v = per_level[level].flatten(2).transpose(1, 2).reshape(n * m, d, h, w)
        # [N, Lq, M, P, 2] -> [N*M, Lq, P, 2]
        g = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        samples.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    # [N, Lq, M, L, P] -> [N*M, 1, Lq, L*P]
    weights = attention_weights.transpose(1, 2).reshape(n * m, 1, lq, levels * points)
    out = (torch.stack(samples, dim=-2).flatten(-2) * weights).sum(-1).view(n, m * d, lq)
    return out.transpose(1, 2).contiguous()


def special_locations(size):
    """Locations exactly on the map's edges (0 and 1) and, where exact, on pixel centres, pixel
    edges and the -1 edge of the bilinear support of an axis of `size` pixels."""
    values = {0.0, 1.0}
    for u in [-1.0, -0.5, 0.0, 0.5, size - 1.0, size - 0.5, size * 1.0] + [float(k) for k in range(size)]:
        loc = (u + 0.5) / size
        g = 2.0 * loc - 1.0
        if Fraction(g) == 2 * Fraction(loc) - 1 and exact_unnormalize(g, size, False):
            values.add(loc)
    return sorted(values)


def ms_deform_attn_case(index):
    name = f"case{index:02d}"
    rng = rng_for("ms_deform_attn", name)
    big_batch = index % 8 == 5
    while True:
        n = 33 if big_batch else int(rng.integers(1, 3))
        levels = int(rng.integers(1, 3 if big_batch else 5))
        shapes = [(int(rng.integers(1, 4 if big_batch else 8)), int(rng.integers(1, 4 if big_batch else 8))) for _ in range(levels)]
        m = int(rng.integers(1, 3 if big_batch else 4))
        d = int(rng.choice([1, 2] if big_batch else [1, 2, 3, 4, 5, 8, 9, 17]))
        lq = int(rng.integers(1, 3 if big_batch else 7))
        points = int(rng.integers(1, 3 if big_batch else 5))
        s = sum(h * w for h, w in shapes)
        if n * s * m * d <= 2500 and n * lq * m * levels * points * 2 <= 1200:
            break
    starts = np.cumsum([0] + [h * w for h, w in shapes])[:-1].tolist()
    value = t(rng.standard_normal((n, s, m, d)), grad=True)
    loc = rng.uniform(-0.15, 1.15, size=(n, lq, m, levels, points, 2))
    for level, (h, w) in enumerate(shapes):
        loc[:, :, :, level, :, 0] = with_specials(rng, loc[:, :, :, level, :, 0], special_locations(w))
        loc[:, :, :, level, :, 1] = with_specials(rng, loc[:, :, :, level, :, 1], special_locations(h))
    locations = t(loc, grad=True)
    weights = t(rng.standard_normal((n, lq, m, levels, points)), grad=True)
    out = ms_deform_attn_pytorch(value, shapes, locations, weights)
    grad_output = t(rng.standard_normal(tuple(out.shape)))
    (out * grad_output).sum().backward()
    description = f"N{n} levels {shapes} heads {m} channels {d} queries {lq} points {points}"
    save(os.path.join(OUT, "ms_deform_attn", name),
         {"value": value, "sampling_locations": locations, "attention_weights": weights, "output": out,
          "grad_output": grad_output, "grad_value": value.grad, "grad_sampling_locations": locations.grad,
          "grad_attention_weights": weights.grad},
         {"spatial_shapes": [list(x) for x in shapes], "level_start_index": starts, "description": description})
    return name, description


class MmcvMultiScaleDeformableAttention(torch.nn.Module):
    """mmcv's module: the same parameter names, init_weights and forward (dropout left out: eval mode)."""

    def __init__(self, embed_dims, num_heads, num_levels, num_points, batch_first, value_proj_ratio=1.0):
        super().__init__()
        self.num_heads, self.num_levels, self.num_points, self.batch_first = num_heads, num_levels, num_points, batch_first
        self.sampling_offsets = torch.nn.Linear(embed_dims, num_heads * num_levels * num_points * 2)
        self.attention_weights = torch.nn.Linear(embed_dims, num_heads * num_levels * num_points)
        value_dims = int(embed_dims * value_proj_ratio)
        self.value_proj = torch.nn.Linear(embed_dims, value_dims)
        self.output_proj = torch.nn.Linear(value_dims, embed_dims)
        torch.nn.init.constant_(self.sampling_offsets.weight, 0.0)
        thetas = torch.arange(num_heads, dtype=torch.float32) * (2.0 * math.pi / num_heads)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(num_heads, 1, 1, 2).repeat(1, num_levels, num_points, 1)
        for i in range(num_points):
            grid[:, :, i, :] *= i + 1
        self.sampling_offsets.bias.data = grid.view(-1)
        torch.nn.init.constant_(self.attention_weights.weight, 0.0)
        torch.nn.init.constant_(self.attention_weights.bias, 0.0)
        for projection in (self.value_proj, self.output_proj):
            torch.nn.init.xavier_uniform_(projection.weight)
            torch.nn.init.constant_(projection.bias, 0.0)

    def forward(self, query, reference_points, spatial_shapes, value=None, identity=None, query_pos=None, key_padding_mask=None):
        if value is None:
            value = query
        if identity is None:
            identity = query
        if query_pos is not None:
            query = query + query_pos
        if not self.batch_first:
            query = query.permute(1, 0, 2)
            value = value.permute(1, 0, 2)
        bs, num_query, _ = query.shape
        _, num_value, _ = value.shape
        value = self.value_proj(value)
        if key_padding_mask is not None:
            value = value.masked_fill(key_padding_mask[..., None], 0.0)
        value = value.view(bs, num_value, self.num_heads, -1)
        offsets = self.sampling_offsets(query).view(bs, num_query, self.num_heads, self.num_levels, self.num_points, 2)
        weights = self.attention_weights(query).view(bs, num_query, self.num_heads, self.num_levels * self.num_points)
        weights = weights.softmax(-1).view(bs, num_query, self.num_heads, self.num_levels, self.num_points)
        shapes = torch.tensor(spatial_shapes)
        if reference_points.shape[-1] == 2:
            normalizer = torch.stack([shapes[..., 1], shapes[..., 0]], -1)
            locations = reference_points[:, :, None, :, None, :] + offsets / normalizer[None, None, None, :, None, :]
        else:
            locations = reference_points[:, :, None, :, None, :2] + \
                offsets / self.num_points * reference_points[:, :, None, :, None, 2:] * 0.5
        output = self.output_proj(ms_deform_attn_pytorch(value, spatial_shapes, locations, weights))
        if not self.batch_first:
            output = output.permute(1, 0, 2)
        return output + identity


MODULE_CASES = [
    # name, batch_first, reference (2 = points, 4 = boxes), explicit value, query_pos, key_padding_mask
    ("points_value_is_query", False, 2, False, False, False),
    ("boxes_batch_first_query_pos", True, 4, True, True, False),
    ("points_key_padding_mask", False, 2, True, False, True),
]


def module_case(name, batch_first, corners, explicit_value, with_query_pos, with_mask):
    rng = rng_for("ms_deform_attn_module", name)
    embed, heads, points, shapes, bs, nq = 8, 2, 3, [(3, 4), (2, 2)], 2, 5
    s = sum(h * w for h, w in shapes)
    if not explicit_value:
        nq = s  # the encoder's self-attention: one query per value row
    torch.manual_seed(zlib.crc32(name.encode()))
    module = MmcvMultiScaleDeformableAttention(embed, heads, len(shapes), points, batch_first).double()
    arrays = {"init_sampling_offsets_bias": module.sampling_offsets.bias.detach().clone()}
    for key, parameter in module.state_dict().items():
        parameter.copy_(t(rng.standard_normal(tuple(parameter.shape)) * 0.4))
    for key, parameter in module.state_dict().items():
        arrays["state_" + key] = parameter.clone()

    def layout(n):
        return (bs, n, embed) if batch_first else (n, bs, embed)

    query = t(rng.standard_normal(layout(nq)), grad=True)
    value = t(rng.standard_normal(layout(s)), grad=True) if explicit_value else None
    query_pos = t(rng.standard_normal(layout(nq))) if with_query_pos else None
    mask = rng.random((bs, s)) < 0.3 if with_mask else None
    if corners == 2:
        reference = rng.uniform(0.0, 1.0, size=(bs, nq, len(shapes), 2))
    else:
        reference = np.concatenate([rng.uniform(0.1, 0.9, size=(bs, nq, len(shapes), 2)),
                                    rng.uniform(0.1, 0.6, size=(bs, nq, len(shapes), 2))], -1)
    reference = t(reference, grad=True)
    out = module(query, reference, shapes, value=value, query_pos=query_pos,
                 key_padding_mask=None if mask is None else torch.tensor(mask))
    grad_output = t(rng.standard_normal(tuple(out.shape)))
    (out * grad_output).sum().backward()
    arrays.update({"query": query, "reference_points": reference, "output": out, "grad_output": grad_output,
                   "grad_query": query.grad, "grad_reference_points": reference.grad})
    if value is not None:
        arrays.update({"value": value, "grad_value": value.grad})
    if query_pos is not None:
        arrays["query_pos"] = query_pos
    if mask is not None:
        arrays["key_padding_mask"] = mask.astype(np.float64)
    for key, parameter in module.named_parameters():
        arrays["grad_" + key] = parameter.grad
    description = (f"embed {embed}, heads {heads}, levels {shapes}, points {points}, batch {bs}, queries {nq}, "
                   f"batch_first={batch_first}, reference {'points' if corners == 2 else 'boxes'}")
    save(os.path.join(OUT, "ms_deform_attn_module", name), arrays,
         {"embed_dims": embed, "num_heads": heads, "num_levels": len(shapes), "num_points": points, "batch_first": batch_first,
          "spatial_shapes": [list(x) for x in shapes], "level_start_index": np.cumsum([0] + [h * w for h, w in shapes])[:-1].tolist(),
          "description": description})
    return name, description


def main():
    for sub in ("grid_sample", "ms_deform_attn", "ms_deform_attn_module"):
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    groups = [("grid_sample", [grid_sample_case(i) for i in range(CASES)]),
              ("ms_deform_attn", [ms_deform_attn_case(i) for i in range(CASES)]),
              ("ms_deform_attn_module", [module_case(*case) for case in MODULE_CASES])]
    for op, cases in groups:
        with open(os.path.join(OUT, op, "README.md"), "w") as f:
            f.write("Generated by tests/golden/make_golden_msda.py (run `/usr/bin/python3 tests/golden/make_golden_msda.py`)\n"
                    f"with torch {torch.__version__}, numpy {np.__version__} (CPU, float64). Do not edit by hand.\n"
                    "Layout: <case>/*.npy + params.json; gradients are of L = sum(output * grad_output).\n")
        print(f"{op}: {len(cases)} cases")
        for name, description in cases:
            print(f"  {name}: {description}")
    total = 0
    for sub in ("grid_sample", "ms_deform_attn", "ms_deform_attn_module"):
        for dirpath, _, files in os.walk(os.path.join(OUT, sub)):
            total += sum(os.path.getsize(os.path.join(dirpath, fn)) for fn in files)
    print(f"total size of grid_sample, ms_deform_attn, ms_deform_attn_module: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()

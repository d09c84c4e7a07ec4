"""DCNv3 and DCNv4 in pure PyTorch, written from the published definitions; shared by the golden-data
generator (make_golden_dcnv3.py) and the speed reference (tests/Benchmarks/dcnv3_bench.py).

dcnv3_core follows InternImage's ops_dcnv3/functions/dcnv3_func.py (dcnv3_core_pytorch with its
_get_reference_points, _generate_dilation_grids and remove_center_sampling_locations: grid_sample,
bilinear, zero padding, align_corners=False) with two deliberate changes: the reference grid is built
in the input's dtype (the published code fixes float32, which caps float64 agreement near 1e-7; for a
float32 input the two are the same), and the height is padded by pad_h (the published F.pad pads the
height by pad_w and the width by pad_h; both published modules pass equal pads, and the CUDA kernel
pads as here).

dcnv4_core is DCNv4's operator as its own test checks it (DCNv4_op/scripts/test_dcnv4.py): per group
the 2P offsets then the P unnormalised weights, the row padded to a multiple of 8, equal to dcnv3_core
on the unpacked offset and mask (no softmax).
"""

import math

import torch
import torch.nn.functional as F

def reference_points(H_in, W_in, kh, kw, dh, dw, sh, sw, dtype):
    H_out = (H_in - (dh * (kh - 1) + 1)) // sh + 1
    W_out = (W_in - (dw * (kw - 1) + 1)) // sw + 1
    ref_y, ref_x = torch.meshgrid(
        torch.linspace((dh * (kh - 1)) // 2 + 0.5, (dh * (kh - 1)) // 2 + 0.5 + (H_out - 1) * sh, H_out, dtype=dtype),
        torch.linspace((dw * (kw - 1)) // 2 + 0.5, (dw * (kw - 1)) // 2 + 0.5 + (W_out - 1) * sw, W_out, dtype=dtype),
        indexing="ij")
    ref_y = ref_y.reshape(-1)[None] / H_in
    ref_x = ref_x.reshape(-1)[None] / W_in
    return torch.stack((ref_x, ref_y), -1).reshape(1, H_out, W_out, 1, 2)


def dilation_grids(H_in, W_in, kh, kw, dh, dw, group, dtype):
    x, y = torch.meshgrid(
        torch.linspace(-((dw * (kw - 1)) // 2), -((dw * (kw - 1)) // 2) + (kw - 1) * dw, kw, dtype=dtype),
        torch.linspace(-((dh * (kh - 1)) // 2), -((dh * (kh - 1)) // 2) + (kh - 1) * dh, kh, dtype=dtype),
        indexing="ij")
    grid = torch.stack([x / W_in, y / H_in], -1).reshape(-1, 1, 2).repeat(1, group, 1).permute(1, 0, 2)
    return grid.reshape(1, 1, 1, group * kh * kw, 2)


def remove_center_locations(locations, kw, kh):
    idx = list(range(locations.shape[-2]))
    c = (kw * kh - 1) // 2
    idx = [i for i in idx if i != c and (i - c) % (c * 2 + 1) != 0]
    return locations[:, :, :, idx, :]


def dcnv3_core(input, offset, mask, kh, kw, sh, sw, ph, pw, dh, dw, group, gc, offset_scale, remove_center):
    if remove_center and (kh % 2 == 0 or kw % 2 == 0 or kw != kh):
        raise ValueError("remove_center is only compatible with square odd kernel size.")
    input = F.pad(input, [0, 0, pw, pw, ph, ph])
    N, H_in, W_in, _ = input.shape
    _, H_out, W_out, _ = offset.shape
    ref = reference_points(H_in, W_in, kh, kw, dh, dw, sh, sw, input.dtype)
    grid = dilation_grids(H_in, W_in, kh, kw, dh, dw, group, input.dtype)
    P = kh * kw - int(remove_center)
    spatial_norm = torch.tensor([W_in, H_in], dtype=input.dtype).reshape(1, 1, 1, 2).repeat(1, 1, 1, group * P)
    locations = (ref + grid * offset_scale).repeat(N, 1, 1, 1, 1)
    if remove_center:
        locations = remove_center_locations(locations, kw, kh)
    locations = locations.flatten(3, 4) + offset * offset_scale / spatial_norm
    grids = 2 * locations - 1
    input_ = input.view(N, H_in * W_in, group * gc).transpose(1, 2).reshape(N * group, gc, H_in, W_in)
    grid_ = grids.view(N, H_out * W_out, group, P, 2).transpose(1, 2).flatten(0, 1)
    sampled = F.grid_sample(input_, grid_, mode="bilinear", padding_mode="zeros", align_corners=False)
    mask = mask.view(N, H_out * W_out, group, P).transpose(1, 2).reshape(N * group, 1, H_out * W_out, P)
    output = (sampled * mask).sum(-1).view(N, group * gc, H_out * W_out)
    return output.transpose(1, 2).reshape(N, H_out, W_out, -1).contiguous()


def packed_length(group, points):
    return int(math.ceil(group * points * 3 / 8) * 8)


def unpack_offset_mask(offset_mask, group, points):
    n, ho, wo, _ = offset_mask.shape
    per_group = offset_mask[..., :group * points * 3].reshape(n, ho, wo, group, 3 * points)
    offset = per_group[..., :2 * points].reshape(n, ho, wo, group * points * 2)
    mask = per_group[..., 2 * points:].reshape(n, ho, wo, group * points)
    return offset, mask


def dcnv4_core(input, offset_mask, kh, kw, sh, sw, ph, pw, dh, dw, group, gc, offset_scale, remove_center):
    points = kh * kw - int(remove_center)
    offset, mask = unpack_offset_mask(offset_mask, group, points)
    return dcnv3_core(input, offset, mask, kh, kw, sh, sw, ph, pw, dh, dw, group, gc, offset_scale, remove_center)

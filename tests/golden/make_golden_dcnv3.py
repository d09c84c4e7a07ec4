#!/usr/bin/python3
"""Golden reference data for DeformEngine's DCNv3 / DCNv4 operators and modules, produced by torch.

Setup (Debian; no pip needed):
    apt-get install -y python3-torch python3-numpy
Run from anywhere:
    /usr/bin/python3 tests/golden/make_golden_dcnv3.py

Writes tests/DeformEngine.Tests/golden-data/{dcnv3,dcnv4,dcnv3_module,dcnv4_module,layer_norm,gelu}/<case>/
(float64 C-order .npy arrays and params.json); those folders are deleted and rewritten on each run
(make_golden.py leaves them alone). Gradients are those of L = sum(output * grad_output). Seeds are
fixed, so a rerun with the same torch gives byte-identical files.

The definitions are written here from the published ones:
  dcnv3, dcnv4      dcnv3_core and dcnv4_core of dcnv3_reference.py (InternImage's dcnv3_core_pytorch
                    and DCNv4's packing of it; that file states the two deliberate changes).
  DCNv3 module      InternImage ops_dcnv3/modules/dcnv3.py, DCNv3_pytorch (LN eps 1e-6, GELU).
  DCNv4 module      DCNv4_op/DCNv4/modules/dcnv4.py, DCNv4 with DCNv4Function replaced by dcnv4_core.
  layer_norm, gelu  torch.nn.functional.layer_norm and gelu (approximate='none').

Border cases: sampling positions exactly on integers (the kinks of bilinear weights, where the
derivative is the floor convention's one-sided one), exactly on -1, 0, H-1, H of the map, and far
outside. They are exact only where every step is exact, so those cases pad the map to a power-of-two
size and use dyadic offsets and offset scales (the normalised coordinates of grid_sample then carry no
rounding). Other sampling positions are kept at least 1e-3 away from integers so that float32 rounding
cannot move them across a kink.
"""

import json
import math
import os
import shutil
import zlib

import numpy as np
import torch
import torch.nn.functional as F

from dcnv3_reference import dcnv3_core, dcnv4_core, packed_length

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "DeformEngine.Tests", "golden-data")
OPS = ("dcnv3", "dcnv4", "dcnv3_module", "dcnv4_module", "layer_norm", "gelu")

torch.set_num_threads(1)  # fixed reduction order -> reproducible files
DT = torch.float64


def rng_for(op, name):
    return np.random.default_rng(zlib.crc32(f"{op}/{name}".encode()))


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=DT, requires_grad=grad)


def save(op, name, arrays, params):
    folder = os.path.join(OUT, op, name)
    os.makedirs(folder, exist_ok=True)
    for key, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().numpy()
        np.save(os.path.join(folder, key + ".npy"), np.ascontiguousarray(a, dtype=np.float64))
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=2, sort_keys=True)
        f.write("\n")


# --------------------------------------------------------------------------
# random operator configurations
# --------------------------------------------------------------------------

def out_size(h, k, s, p, d):
    return (h + 2 * p - (d * (k - 1) + 1)) // s + 1


def kernel_points(kh, kw, remove_center):
    """(i, j) = (kernel column, kernel row) of each point: i outer, j inner, centre dropped."""
    points = [(i, j) for i in range(kw) for j in range(kh)]
    if remove_center:
        del points[(kh * kw - 1) // 2]
    return points


def random_config(rng, index, border):
    """Border configurations pad the map to 4 or 8 pixels and use dyadic offset scales, so that the
    normalised coordinates of grid_sample are exact; every tenth configuration has a batch of 33."""
    batch33 = index % 10 == 3
    while True:
        kh, kw = (int(v) for v in rng.choice([1, 2, 3, 5], size=2, p=[0.15, 0.15, 0.5, 0.2]))
        if rng.random() < 0.3:
            kw = kh
        remove_center = kh == kw and kh in (3, 5) and rng.random() < 0.4
        group = int(rng.integers(1, 5))
        gc = int(rng.integers(1, 6))
        sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
        ph, pw = (int(v) for v in rng.integers(0, 3, size=2))
        dh, dw = (int(v) for v in rng.integers(1, 4, size=2))
        if border:
            H, W = (int(rng.choice([4, 8])) - 2 * p for p in (ph, pw))
            scale = float(rng.choice([0.5, 1.0, 2.0]))
        else:
            H, W = (int(v) for v in rng.integers(1, 8, size=2))
            scale = float(rng.choice([0.5, 1.0, 1.5, 2.0, 0.75]))
        n = 33 if batch33 else int(rng.integers(1, 3))
        if H < 1 or W < 1:
            continue
        ho, wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
        if ho < 1 or wo < 1:
            continue
        P = kh * kw - int(remove_center)
        limit = 1500 if not batch33 else 2400
        if n * ho * wo * group * P * 3 > limit or n * H * W * group * gc > limit:
            continue
        return dict(n=n, H=H, W=W, kh=kh, kw=kw, sh=sh, sw=sw, ph=ph, pw=pw, dh=dh, dw=dw, group=group, gc=gc,
                    offset_scale=scale, remove_center=bool(remove_center), border=border)


def random_offsets(rng, c, ho, wo):
    """[N, Ho, Wo, G, P, 2] offsets (dx, dy). Random positions are kept 1e-3 off integers; in border
    configurations a third of the coordinates land exactly on an integer in or around the map
    (including -1, 0, H-1, H and the edges of the padded support), a few far outside."""
    n, g, H, W, s = c["n"], c["group"], c["H"], c["W"], c["offset_scale"]
    points = kernel_points(c["kh"], c["kw"], c["remove_center"])
    P = len(points)
    spread = 1.0 + 2.0 * rng.random()
    off = rng.standard_normal((n, ho, wo, g, P, 2)) * spread
    if c["border"]:
        off = np.round(off * 8) / 8  # dyadic: exact in every step of both computations
    half_w, half_h = c["dw"] * (c["kw"] - 1) // 2, c["dh"] * (c["kh"] - 1) // 2
    oy = np.arange(ho).reshape(1, ho, 1, 1, 1)
    ox = np.arange(wo).reshape(1, 1, wo, 1, 1)
    ii = np.array([p[0] for p in points]).reshape(1, 1, 1, 1, P)
    jj = np.array([p[1] for p in points]).reshape(1, 1, 1, 1, P)
    base_x = ox * c["sw"] - c["pw"] + half_w + (ii * c["dw"] - half_w) * s
    base_y = oy * c["sh"] - c["ph"] + half_h + (jj * c["dh"] - half_h) * s
    bases = [np.broadcast_to(base_x, off.shape[:-1]), np.broadcast_to(base_y, off.shape[:-1])]
    sizes = [W, H]
    pads = [c["pw"], c["ph"]]
    for axis in range(2):
        location = bases[axis] + off[..., axis] * s
        if c["border"]:
            size, pad = sizes[axis], pads[axis]
            targets = np.array(sorted({-2 - pad, -1 - pad, -1, 0, 1, size - 2, size - 1, size, size + pad, size + pad + 1}))
            pick = rng.random(off.shape[:-1])
            exact = pick < 0.33
            chosen = targets[rng.integers(0, len(targets), size=off.shape[:-1])]
            off[..., axis] = np.where(exact, (chosen - bases[axis]) / s, off[..., axis])
            far = pick > 0.97
            off[..., axis] = np.where(far, np.sign(rng.standard_normal(off.shape[:-1])) * 64.0, off[..., axis])
        else:
            frac = location - np.floor(location)
            near = (frac < 1e-3) | (frac > 1 - 1e-3)
            off[..., axis] = np.where(near, off[..., axis] + 0.01 / s, off[..., axis])
    return off


def describe(c):
    return (f"N{c['n']} {c['H']}x{c['W']} G{c['group']}x{c['gc']} k{c['kh']}x{c['kw']} s({c['sh']},{c['sw']}) "
            f"p({c['ph']},{c['pw']}) d({c['dh']},{c['dw']}) scale {c['offset_scale']}"
            f"{' remove_center' if c['remove_center'] else ''}{' border' if c['border'] else ''}")


def op_params(c):
    return {"kernel": [c["kh"], c["kw"]], "stride": [c["sh"], c["sw"]], "padding": [c["ph"], c["pw"]],
            "dilation": [c["dh"], c["dw"]], "group": c["group"], "group_channels": c["gc"],
            "offset_scale": c["offset_scale"], "remove_center": c["remove_center"], "description": describe(c)}


def core_args(c):
    return (c["kh"], c["kw"], c["sh"], c["sw"], c["ph"], c["pw"], c["dh"], c["dw"], c["group"], c["gc"],
            c["offset_scale"], int(c["remove_center"]))


def operator_case(op, index):
    name = f"case{index:02d}"
    rng = rng_for(op, name)
    c = random_config(rng, index, border=index % 3 == 1)
    ho, wo = out_size(c["H"], c["kh"], c["sh"], c["ph"], c["dh"]), out_size(c["W"], c["kw"], c["sw"], c["pw"], c["dw"])
    g, P = c["group"], len(kernel_points(c["kh"], c["kw"], c["remove_center"]))
    x = rng.standard_normal((c["n"], c["H"], c["W"], g * c["gc"]))
    off = random_offsets(rng, c, ho, wo)
    m = rng.standard_normal((c["n"], ho, wo, g, P))
    go = rng.standard_normal((c["n"], ho, wo, g * c["gc"]))
    tx = t(x, True)
    if op == "dcnv3":
        toff = t(off.reshape(c["n"], ho, wo, g * P * 2), True)
        tm = t(m.reshape(c["n"], ho, wo, g * P), True)
        y = dcnv3_core(tx, toff, tm, *core_args(c))
        (y * t(go)).sum().backward()
        arrays = {"input": x, "offset": toff, "mask": tm, "grad_output": go, "output": y,
                  "grad_input": tx.grad, "grad_offset": toff.grad, "grad_mask": tm.grad}
    else:
        length = packed_length(g, P)
        packed = np.concatenate([off.reshape(c["n"], ho, wo, g, 2 * P), m], axis=-1).reshape(c["n"], ho, wo, 3 * g * P)
        # The padding holds garbage: never read, zero gradient.
        tail = rng.standard_normal((c["n"], ho, wo, length - 3 * g * P)) * 100
        tom = t(np.concatenate([packed, tail], axis=-1), True)
        y = dcnv4_core(tx, tom, *core_args(c))
        (y * t(go)).sum().backward()
        arrays = {"input": x, "offset_mask": tom, "grad_output": go, "output": y,
                  "grad_input": tx.grad, "grad_offset_mask": tom.grad}
    assert tuple(y.shape) == (c["n"], ho, wo, g * c["gc"])
    save(op, name, arrays, op_params(c))
    return name, describe(c)


# --------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------

def layer_norm_cases():
    out = []
    specs = [("rank3_eps1e-5", (2, 3, 5), 1e-5, 0.0, 1.0),
             ("rank2_eps1e-6", (4, 16), 1e-6, 0.0, 1.0),
             ("channels_last_image", (2, 3, 4, 8), 1e-6, 0.5, 2.0),
             ("one_feature", (3, 1), 1e-5, 0.0, 1.0),
             ("large_mean_small_spread", (5, 12), 1e-6, 1e3, 1e-2),
             ("rank1", (7,), 1e-5, 0.0, 3.0)]
    for name, shape, eps, mean, std in specs:
        rng = rng_for("layer_norm", name)
        x = rng.standard_normal(shape) * std + mean
        w = rng.standard_normal(shape[-1:])
        b = rng.standard_normal(shape[-1:])
        go = rng.standard_normal(shape)
        tx, tw, tb = t(x, True), t(w, True), t(b, True)
        y = F.layer_norm(tx, shape[-1:], tw, tb, eps)
        (y * t(go)).sum().backward()
        save("layer_norm", name, {"input": x, "weight": w, "bias": b, "grad_output": go, "output": y,
                                  "grad_input": tx.grad, "grad_weight": tw.grad, "grad_bias": tb.grad},
             {"eps": eps, "description": f"{shape} eps {eps}, inputs ~N({mean}, {std}^2)"})
        out.append((name, f"{shape} eps {eps}"))
    return out


def gelu_cases():
    rng = rng_for("gelu", "mixed")
    x = np.concatenate([np.linspace(-10, 10, 81), [-40, -30, -9.5, -6, -5.5, -1e-8, 0, 1e-8, 5.5, 9.5, 30, 40],
                        rng.standard_normal(60) * 3])
    go = rng.standard_normal(x.shape)
    tx = t(x, True)
    y = F.gelu(tx)
    (y * t(go)).sum().backward()
    save("gelu", "mixed", {"input": x, "grad_output": go, "output": y, "grad_input": tx.grad},
         {"description": "linspace(-10, 10), extremes to ±40, normal samples"})
    return [("mixed", "gelu, exact erf form")]


# --------------------------------------------------------------------------
# modules, written from the published definitions
# --------------------------------------------------------------------------

class ToChannelsLast(torch.nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1)


class CenterFeatureScaleModule(torch.nn.Module):
    def forward(self, query, weight, bias):
        return F.linear(query, weight=weight, bias=bias).sigmoid()


class Dcnv3Module(torch.nn.Module):
    """InternImage's DCNv3_pytorch (norm 'LN', activation 'GELU')."""

    def __init__(self, channels, kernel_size, dw_kernel_size, stride, pad, dilation, group, offset_scale,
                 center_feature_scale, remove_center):
        super().__init__()
        dw_kernel_size = dw_kernel_size if dw_kernel_size is not None else kernel_size
        self.offset_scale, self.channels, self.kernel_size = offset_scale, channels, kernel_size
        self.stride, self.dilation, self.pad, self.group = stride, dilation, pad, group
        self.group_channels = channels // group
        self.center_feature_scale = center_feature_scale
        self.remove_center = int(remove_center)
        self.dw_conv = torch.nn.Sequential(
            torch.nn.Conv2d(channels, channels, kernel_size=dw_kernel_size, stride=1,
                            padding=(dw_kernel_size - 1) // 2, groups=channels),
            torch.nn.Sequential(ToChannelsLast(), torch.nn.LayerNorm(channels, eps=1e-6)),
            torch.nn.GELU())
        self.offset = torch.nn.Linear(channels, group * (kernel_size * kernel_size - self.remove_center) * 2)
        self.mask = torch.nn.Linear(channels, group * (kernel_size * kernel_size - self.remove_center))
        self.input_proj = torch.nn.Linear(channels, channels)
        self.output_proj = torch.nn.Linear(channels, channels)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = torch.nn.Parameter(torch.zeros((group, channels)))
            self.center_feature_scale_proj_bias = torch.nn.Parameter(torch.zeros(group))
            self.center_feature_scale_module = CenterFeatureScaleModule()

    def forward(self, input):
        N, H, W, _ = input.shape
        x = self.input_proj(input)
        x_proj = x
        x1 = self.dw_conv(input.permute(0, 3, 1, 2))
        offset = self.offset(x1)
        mask = F.softmax(self.mask(x1).reshape(N, H, W, self.group, -1), -1).reshape(N, H, W, -1)
        x = dcnv3_core(x, offset, mask, self.kernel_size, self.kernel_size, self.stride, self.stride, self.pad, self.pad,
                       self.dilation, self.dilation, self.group, self.group_channels, self.offset_scale, self.remove_center)
        if self.center_feature_scale:
            scale = self.center_feature_scale_module(x1, self.center_feature_scale_proj_weight,
                                                     self.center_feature_scale_proj_bias)
            scale = scale[..., None].repeat(1, 1, 1, 1, self.channels // self.group).flatten(-2)
            x = x * (1 - scale) + x_proj * scale
        return self.output_proj(x)


class Dcnv4Module(torch.nn.Module):
    """DCNv4's module with its CUDA function replaced by dcnv4_core."""

    def __init__(self, channels, kernel_size, stride, pad, dilation, group, offset_scale, dw_kernel_size,
                 center_feature_scale, remove_center, output_bias, without_pointwise):
        super().__init__()
        assert (channels // group) % 16 == 0
        self.offset_scale, self.channels, self.kernel_size = offset_scale, channels, kernel_size
        self.stride, self.dilation, self.pad, self.group = stride, dilation, pad, group
        self.group_channels = channels // group
        self.dw_kernel_size = dw_kernel_size
        self.center_feature_scale = center_feature_scale
        self.remove_center = int(remove_center)
        self.without_pointwise = without_pointwise
        self.K = group * (kernel_size * kernel_size - self.remove_center)
        if dw_kernel_size is not None:
            self.offset_mask_dw = torch.nn.Conv2d(channels, channels, dw_kernel_size, stride=1,
                                                  padding=(dw_kernel_size - 1) // 2, groups=channels)
        self.offset_mask = torch.nn.Linear(channels, int(math.ceil((self.K * 3) / 8) * 8))
        if not without_pointwise:
            self.value_proj = torch.nn.Linear(channels, channels)
            self.output_proj = torch.nn.Linear(channels, channels, bias=output_bias)
        if center_feature_scale:
            self.center_feature_scale_proj_weight = torch.nn.Parameter(torch.zeros((group, channels)))
            self.center_feature_scale_proj_bias = torch.nn.Parameter(torch.zeros(group))
            self.center_feature_scale_module = CenterFeatureScaleModule()

    def forward(self, input, shape=None):
        N, L, C = input.shape
        H, W = shape if shape is not None else (int(L ** 0.5), int(L ** 0.5))
        x = input
        if not self.without_pointwise:
            x = self.value_proj(x)
        x = x.reshape(N, H, W, -1)
        if self.dw_kernel_size is not None:
            om_input = self.offset_mask_dw(input.view(N, H, W, C).permute(0, 3, 1, 2))
            om_input = om_input.permute(0, 2, 3, 1).reshape(N, L, C)
        else:
            om_input = input
        offset_mask = self.offset_mask(om_input).reshape(N, H, W, -1)
        x_proj = x
        x = dcnv4_core(x, offset_mask, self.kernel_size, self.kernel_size, self.stride, self.stride, self.pad, self.pad,
                       self.dilation, self.dilation, self.group, self.group_channels, self.offset_scale, self.remove_center)
        if self.center_feature_scale:
            scale = self.center_feature_scale_module(x, self.center_feature_scale_proj_weight,
                                                     self.center_feature_scale_proj_bias)
            scale = scale[..., None].repeat(1, 1, 1, 1, self.channels // self.group).flatten(-2)
            x = x * (1 - scale) + x_proj * scale
        x = x.reshape(N, L, -1)
        if not self.without_pointwise:
            x = self.output_proj(x)
        return x


def module_case(op, name, module, input_shape, params, forward_args=()):
    rng = rng_for(op, name)
    module = module.double()
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(t(rng.standard_normal(tuple(p.shape)) * 0.4))
    x = t(rng.standard_normal(input_shape), True)
    y = module(x, *forward_args)
    go = rng.standard_normal(tuple(y.shape))
    (y * t(go)).sum().backward()
    arrays = {"input": x, "grad_output": go, "output": y, "grad_input": x.grad}
    for key, p in module.named_parameters():
        arrays["param." + key] = p
        arrays["grad." + key] = p.grad
    params = dict(params)
    params["parameter_names"] = [key for key, _ in module.named_parameters()]
    params["state_dict_names"] = list(module.state_dict().keys())
    save(op, name, arrays, params)
    return name, params["description"]


def dcnv3_module_cases():
    out = []
    specs = [
        ("c16_g4_k3", dict(channels=16, kernel_size=3, dw_kernel_size=None, stride=1, pad=1, dilation=1, group=4,
                           offset_scale=1.0, center_feature_scale=False, remove_center=False), (2, 5, 5, 16)),
        ("c8_g2_dw5_cfs_remove_center", dict(channels=8, kernel_size=3, dw_kernel_size=5, stride=1, pad=1, dilation=1,
                                             group=2, offset_scale=2.0, center_feature_scale=True, remove_center=True),
         (1, 4, 6, 8)),
        ("c12_g3_dilation2", dict(channels=12, kernel_size=3, dw_kernel_size=None, stride=1, pad=2, dilation=2, group=3,
                                  offset_scale=0.5, center_feature_scale=False, remove_center=False), (1, 6, 5, 12)),
    ]
    for name, kwargs, shape in specs:
        out.append(module_case("dcnv3_module", name, Dcnv3Module(**kwargs), shape,
                               dict(kwargs, description=f"{kwargs}, input {shape}")))
    return out


def dcnv4_module_cases():
    out = []
    specs = [
        ("c32_g2_k3", dict(channels=32, kernel_size=3, stride=1, pad=1, dilation=1, group=2, offset_scale=1.0,
                           dw_kernel_size=None, center_feature_scale=False, remove_center=False, output_bias=True,
                           without_pointwise=False), (2, 16, 32), None),
        ("c32_g2_dw3_cfs_remove_center_nonsquare", dict(channels=32, kernel_size=3, stride=1, pad=1, dilation=1, group=2,
                                                        offset_scale=0.5, dw_kernel_size=3, center_feature_scale=True,
                                                        remove_center=True, output_bias=False, without_pointwise=False),
         (1, 15, 32), (3, 5)),
        ("c16_g1_without_pointwise", dict(channels=16, kernel_size=3, stride=1, pad=1, dilation=1, group=1,
                                          offset_scale=1.0, dw_kernel_size=None, center_feature_scale=False,
                                          remove_center=False, output_bias=True, without_pointwise=True),
         (1, 9, 16), None),
    ]
    for name, kwargs, shape, hw in specs:
        params = dict(kwargs, description=f"{kwargs}, input {shape}, shape {hw}", shape=list(hw) if hw else None)
        out.append(module_case("dcnv4_module", name, Dcnv4Module(**kwargs), shape, params,
                               forward_args=(hw,) if hw else ()))
    return out


def main():
    for op in OPS:
        shutil.rmtree(os.path.join(OUT, op), ignore_errors=True)
    groups = [("dcnv3", [operator_case("dcnv3", i) for i in range(60)]),
              ("dcnv4", [operator_case("dcnv4", i) for i in range(55)]),
              ("dcnv3_module", dcnv3_module_cases()),
              ("dcnv4_module", dcnv4_module_cases()),
              ("layer_norm", layer_norm_cases()),
              ("gelu", gelu_cases())]
    total = 0
    for op, cases in groups:
        print(f"{op}: {len(cases)} cases")
        for name, desc in cases:
            print(f"  {name}: {desc}")
        with open(os.path.join(OUT, op, "README.md"), "w") as f:
            f.write(f"Generated by tests/golden/make_golden_dcnv3.py (run `/usr/bin/python3 tests/golden/make_golden_dcnv3.py`)\n"
                    f"with torch {torch.__version__}, numpy {np.__version__} (CPU, float64). Do not edit by hand.\n")
        for dirpath, _, files in os.walk(os.path.join(OUT, op)):
            total += sum(os.path.getsize(os.path.join(dirpath, fn)) for fn in files)
    print(f"total size of the folders written: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()

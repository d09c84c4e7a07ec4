#!/usr/bin/python3
"""PyTorch checkpoints (.pth) and whole-network reference outputs for DeformEngine.

Setup (Debian; no pip needed):
    apt-get install -y python3-torchvision python3-numpy
Run from anywhere:
    /usr/bin/python3 tests/golden/make_torch_checkpoints.py

Writes tests/DeformEngine.Tests/golden-data/torch_checkpoint/ (deleted and rewritten on each run):

formats/   small files for the checkpoint reader, saved by torch.save in both formats
  dtypes.zip.pth, dtypes.legacy.pth  one OrderedDict: float32/64/16, bfloat16, int64/32/16/8,
                                     uint8 and bool tensors, a Parameter, views of one shared
                                     storage (transposed, a window with a storage offset, a
                                     stride-3 slice), an empty tensor and a 0-d tensor. The
                                     values are closed forms the tests recompute.
  dtypes.p4.zip.pth, dtypes.p1.legacy.pth  the same saved with pickle_protocol=4 and 1
  model_key.zip.pth                  {'model': DataParallel state ('module.' names), 'epoch',
                                     'args': an argparse.Namespace, 'extra': a torch.device, a
                                     torch.Size, a dtype, bytes and a set} as training scripts save

pickles/   protocol0.pkl ... protocol5.pkl: pickle.dumps of one object (pickle_values()) in each
           protocol, for the pickle reader's own tests

resnet50_dcn/   whole-network parity
  An mmdetection-style ResNet-50 backbone (mmdet.models.backbones.ResNet, depth 50,
  style='pytorch', dcn=dict(type='DCNv2', deform_groups=1), stage_with_dcn=(False, True,
  True, True)) written out here because mmcv/mmdet are not Debian packages: the names are
  theirs (conv1, bn1, layer1..4, downsample.0/1, and in stages 2-4 conv2 is mmcv's
  ModulatedDeformConv2dPack: weight, no bias, conv_offset.weight/bias producing 3*9 channels
  split by torch.chunk into dy/dx-interleaved offsets and mask logits, as mmcv does), its
  forward uses torchvision.ops.deform_conv2d. REDUCED WIDTH to keep the files small: base
  width 4 (mmdet's base_channels=4: stages of 4, 8, 16, 32 planes, outputs of 16 ... 128
  channels) instead of 64; the depth (3, 4, 6, 3 bottlenecks) is ResNet-50's.
  Weights are seeded random, the offset branches NOT zero (offsets of half a pixel on average),
  the BatchNorm running statistics calibrated on random batches so activations stay of order 1,
  the gamma of each block's bn3 small so the network is well-conditioned (see build_model).
  Every float is rounded to a value exact in both bfloat16 and float16, so the two files
  below hold exactly the same numbers and the float64 reference uses exactly them:
    resnet50_dcn_w4.zip.pth     torch.save zip format, bfloat16 storages, as an mmengine
                                checkpoint: {'meta': {..., a numpy array}, 'state_dict':
                                {'backbone.*', 'neck.*'}, 'optimizer': {...}}
    resnet50_dcn_w4.legacy.pth  _use_new_zipfile_serialization=False, float16 storages, a
                                bare DataParallel state dict ('module.*')
  Reference (float64, eval mode) as .npy:
    input_a [2,3,36,36]: layer2_a, layer4_a (outputs of stages 2 and 4),
      loss_weight_a (W), and for L = sum(layer4_a * W): grad_input_a,
      grad_offset_weight_a (dL / d layer3.0.conv2.conv_offset.weight)
    input_b [1,3,28,44]: layer2_b, layer4_b
  params.json records the configuration.

The legacy format names storages by memory address, so each run writes different bytes for the
same tensors: a legacy file that still holds the same tensors is kept as it was. Everything else is
reproducible (fixed seeds, one thread).
"""

import argparse
import collections
import io
import json
import os
import pickle
import shutil

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.ops import deform_conv2d

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "DeformEngine.Tests", "golden-data", "torch_checkpoint")

BASE_WIDTH = 4
LAYERS = (3, 4, 6, 3)
DCN_STAGES = (2, 3, 4)
OFFSET_PARAM = "layer3.0.conv2.conv_offset.weight"

torch.set_num_threads(1)


# --------------------------------------------------------------------------
# formats


def dtype_tensors():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    d = collections.OrderedDict()
    d["f32"] = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4
    d["f64"] = torch.arange(5, dtype=torch.float64) / 10
    d["f16"] = torch.tensor([1, -2, 0.5, 65504], dtype=torch.float16)
    d["bf16"] = torch.tensor([1.5, -3, 2.0 ** -10], dtype=torch.bfloat16)
    d["i64"] = torch.tensor(7)
    d["i32"] = torch.tensor([-2147483648, 5], dtype=torch.int32)
    d["i16"] = torch.tensor([-32768, 3], dtype=torch.int16)
    d["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    d["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    d["bool"] = torch.tensor([True, False, True])
    d["param"] = nn.Parameter(torch.tensor([1.0, 2.0]))
    d["base"] = base
    d["transposed"] = base.t()                # strides (1, 4)
    d["window"] = base[1:, 1:3]               # storage offset 5, strides (4, 1)
    d["strided"] = base.view(-1)[1::3]        # storage offset 1, stride 3
    d["empty"] = torch.zeros(0, 3)
    d["scalar"] = torch.tensor(2.5)
    assert d["transposed"].stride() == (1, 4) and d["window"].storage_offset() == 5
    return d


def make_formats(folder):
    os.makedirs(folder)
    d = dtype_tensors()
    torch.save(d, os.path.join(folder, "dtypes.zip.pth"))
    torch.save(d, os.path.join(folder, "dtypes.legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(d, os.path.join(folder, "dtypes.p4.zip.pth"), pickle_protocol=4)
    torch.save(d, os.path.join(folder, "dtypes.p1.legacy.pth"), _use_new_zipfile_serialization=False, pickle_protocol=1)
    state = collections.OrderedDict()
    state["module.weight"] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    state["module.bias"] = torch.tensor([0.5, -0.5])
    args = argparse.Namespace(lr=0.1, arch="tiny")
    extra = {"device": torch.device("cuda:0"), "size": torch.Size([2, 3]), "dtype": torch.float32,
             "bytes": b"xy", "set": {1, 2}}
    torch.save({"model": state, "epoch": 3, "args": args, "extra": extra}, os.path.join(folder, "model_key.zip.pth"))


def pickle_values():
    shared = [5]
    return {
        "int": 1, "negative": -300, "large": 2 ** 40, "huge": -2 ** 70, "float": -1.25,
        "str": "h\u00e9llo \u2713", "bytes": b"\x00\xff", "tuple": (1, 2, 3), "list": [1, [2, None]],
        "bools": [True, False], "set": {7}, "frozenset": frozenset({8}),
        "odict": collections.OrderedDict(a=1), "shared": [shared, shared],
    }


def make_pickles(folder):
    os.makedirs(folder)
    for protocol in range(6):
        with open(os.path.join(folder, f"protocol{protocol}.pkl"), "wb") as f:
            f.write(pickle.dumps(pickle_values(), protocol=protocol))


# --------------------------------------------------------------------------
# resnet50_dcn


class ModulatedDeformConv2dPack(nn.Module):
    """mmcv.ops.ModulatedDeformConv2dPack (mmcv's 'DCNv2'): its parameters, names and forward."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.weight = nn.Parameter(torch.empty(cout, cin, 3, 3))
        self.register_parameter("bias", None)  # mmdet builds the DCN with bias=False
        self.conv_offset = nn.Conv2d(cin, 3 * 3 * 3, 3, stride, 1, bias=True)

    def forward(self, x):
        o1, o2, mask = torch.chunk(self.conv_offset(x), 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        return deform_conv2d(x, offset, self.weight, None, (self.stride, self.stride), (1, 1), (1, 1),
                             mask=torch.sigmoid(mask))


class Bottleneck(nn.Module):
    """mmdet's Bottleneck, style='pytorch' (the stride on the 3x3 convolution)."""

    def __init__(self, inplanes, planes, stride, downsample, dcn):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.add_module("bn1", nn.BatchNorm2d(planes))
        self.conv2 = (ModulatedDeformConv2dPack(planes, planes, stride) if dcn
                      else nn.Conv2d(planes, planes, 3, stride, 1, bias=False))
        self.add_module("bn2", nn.BatchNorm2d(planes))
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.add_module("bn3", nn.BatchNorm2d(planes * 4))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """mmdet.models.backbones.ResNet(depth=50, base_channels=BASE_WIDTH, out_indices=(0,1,2,3))."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, BASE_WIDTH, 7, 2, 3, bias=False)
        self.add_module("bn1", nn.BatchNorm2d(BASE_WIDTH))
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = BASE_WIDTH
        self.res_layers = []
        for s, blocks in enumerate(LAYERS):
            planes, stride = BASE_WIDTH * 2 ** s, 1 if s == 0 else 2
            layers = []
            for b in range(blocks):
                downsample = None
                if b == 0 and (stride != 1 or inplanes != planes * 4):
                    downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                                               nn.BatchNorm2d(planes * 4))
                layers.append(Bottleneck(inplanes, planes, stride if b == 0 else 1, downsample, s + 1 in DCN_STAGES))
                inplanes = planes * 4
            name = f"layer{s + 1}"
            self.add_module(name, nn.Sequential(*layers))
            self.res_layers.append(name)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for name in self.res_layers:
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)


def exact_in_half_types(t):
    """Round to bfloat16, then flush magnitudes below 2^-17: the result is exact in float16 too
    (8 significant bits, at or above float16's subnormal step there)."""
    r = t.to(torch.bfloat16).to(torch.float64)
    r[r.abs() < 2.0 ** -17] = 0
    assert torch.equal(r.to(torch.float16).to(torch.float64), r)
    assert torch.equal(r.to(torch.bfloat16).to(torch.float64), r)
    return r


def build_model():
    torch.manual_seed(2024)
    model = ResNet().double()
    for name, m in model.named_modules():
        if isinstance(m, ModulatedDeformConv2dPack):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            # Offsets of about a pixel and masks away from 0.5, so the deformable path matters.
            fan_in = m.conv_offset.weight[0].numel()
            nn.init.normal_(m.conv_offset.weight, std=0.6 / fan_in ** 0.5)
            nn.init.normal_(m.conv_offset.bias, std=0.5)
        elif isinstance(m, nn.Conv2d) and not name.endswith("conv_offset"):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            # The last BatchNorm of each residual branch gets a small gamma, as trained ResNets have:
            # with gamma ~ 1 in all 16 blocks this random network amplifies rounding ~1e4-fold (torch's
            # own float32 result is then 4e-3 from its float64 one); with [0.1, 0.3] it stays ~1e-6.
            nn.init.uniform_(m.weight, *((0.1, 0.3) if name.endswith("bn3") else (0.5, 1.5)))
            nn.init.normal_(m.bias, std=0.2)
            m.momentum = None  # cumulative average: running statistics = those of the batches seen
            m.reset_running_stats()
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(4, 3, 36, 36, dtype=torch.float64))
    model.eval()
    with torch.no_grad():
        for name, v in model.state_dict().items():
            if v.is_floating_point():
                v.copy_(exact_in_half_types(v))
    return model


def converted(state, dtype, prefix):
    out = collections.OrderedDict()
    for k, v in state.items():
        out[prefix + k] = v.to(dtype) if v.is_floating_point() else v.clone()
    out._metadata = collections.OrderedDict((prefix + k, m) for k, m in state._metadata.items())
    return out


def make_resnet(folder):
    os.makedirs(folder)
    model = build_model()
    state = model.state_dict()
    zip_state = converted(state, torch.bfloat16, "backbone.")
    zip_state["neck.lateral_convs.0.conv.weight"] = torch.ones(8, 16, 1, 1, dtype=torch.bfloat16)
    checkpoint = {
        "meta": {
            "mmdet_version": "3.3.0",
            "dataset_meta": {"classes": ("cat", "dog")},
            "epoch": 12,
            "iter": 1200,
            "seed": 2024,
            "mean": np.array([123.675, 116.28, 103.53]),
        },
        "state_dict": zip_state,
        "optimizer": {
            "state": {0: {"momentum_buffer": torch.zeros(4, dtype=torch.bfloat16)}},
            "param_groups": [{"lr": 0.02, "momentum": 0.9, "weight_decay": 1e-4, "params": [0]}],
        },
    }
    torch.save(checkpoint, os.path.join(folder, "resnet50_dcn_w4.zip.pth"))
    torch.save(converted(state, torch.float16, "module."), os.path.join(folder, "resnet50_dcn_w4.legacy.pth"),
               _use_new_zipfile_serialization=False)

    gen = torch.Generator().manual_seed(7)
    input_a = torch.randn(2, 3, 36, 36, dtype=torch.float64, generator=gen)
    input_b = torch.randn(1, 3, 28, 44, dtype=torch.float64, generator=gen)
    captured = []
    hook = model.layer3[0].conv2.conv_offset.register_forward_hook(lambda m, i, o: captured.append(o.detach()))
    x = input_a.clone().requires_grad_(True)
    outs = model(x)
    hook.remove()
    offsets = captured[0][:, :18]
    weight = torch.randn(outs[3].shape, dtype=torch.float64, generator=gen)
    offset_param = dict(model.named_parameters())[OFFSET_PARAM]
    (outs[3] * weight).sum().backward()
    with torch.no_grad():
        outs_b = model(input_b)
    arrays = {
        "input_a": input_a, "layer2_a": outs[1], "layer4_a": outs[3], "loss_weight_a": weight,
        "grad_input_a": x.grad, "grad_offset_weight_a": offset_param.grad,
        "input_b": input_b, "layer2_b": outs_b[1], "layer4_b": outs_b[3],
    }
    for name, a in arrays.items():
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(a.detach().numpy(), dtype=np.float64))
    params = {
        "architecture": "mmdet ResNet depth 50, style pytorch, DCNv2 (mmcv ModulatedDeformConv2dPack) in stages 2-4",
        "base_width": BASE_WIDTH, "layers": list(LAYERS), "dcn_stages": list(DCN_STAGES),
        "offset_param": OFFSET_PARAM, "loss": "L = sum(layer4_a * loss_weight_a)",
        "zip_prefix": "backbone.", "legacy_prefix": "module.",
        "mean_abs_offset_layer3_0": float(offsets.abs().mean()),
        "torch": torch.__version__, "torchvision": torchvision.__version__,
    }
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"mean |offset| in layer3.0.conv2: {params['mean_abs_offset_layer3_0']:.3f} px")
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")


def same(a, b):
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
                and a.storage_offset() == b.storage_offset() and torch.equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def previous_legacy_files():
    found = {}
    for dirpath, _, files in os.walk(OUT):
        for fn in files:
            if fn.endswith(".legacy.pth"):
                with open(os.path.join(dirpath, fn), "rb") as f:
                    found[os.path.join(dirpath, fn)] = f.read()
    return found


def keep_unchanged(previous):
    for path, data in previous.items():
        if os.path.exists(path) and same(torch.load(io.BytesIO(data)), torch.load(path)):
            with open(path, "wb") as f:
                f.write(data)


def main():
    previous = previous_legacy_files()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    make_formats(os.path.join(OUT, "formats"))
    make_pickles(os.path.join(OUT, "pickles"))
    make_resnet(os.path.join(OUT, "resnet50_dcn"))
    keep_unchanged(previous)
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("Generated by tests/golden/make_torch_checkpoints.py (run `/usr/bin/python3 "
                "tests/golden/make_torch_checkpoints.py`)\n"
                f"with torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {np.__version__}.\n"
                "Do not edit by hand; regenerate instead. The script's docstring describes each file.\n")
    total = 0
    for dirpath, _, files in os.walk(OUT):
        for fn in sorted(files):
            size = os.path.getsize(os.path.join(dirpath, fn))
            total += size
            print(f"  {os.path.relpath(os.path.join(dirpath, fn), OUT)}: {size} bytes")
    print(f"total size of {os.path.relpath(OUT, ROOT)}: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()

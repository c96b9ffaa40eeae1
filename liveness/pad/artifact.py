"""What travels with a ``.tflite``: a JSON sidecar with its version and input recipe.

``passive_cnn.tflite`` is read with ``passive_cnn.json`` beside it, so the
engine crops faces exactly as the model was trained (scales, size) and every
verdict can name the model version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .crops import CropSpec


@dataclass(frozen=True)
class ModelInfo:
    version: str
    crop: CropSpec
    training: dict = field(default_factory=dict)  # data, excluded subjects, seed, epochs, ...

    @staticmethod
    def sidecar(model_path: Path) -> Path:
        return Path(model_path).with_suffix(".json")

    def save(self, model_path: Path) -> None:
        body = {"version": self.version, "crop_scales": list(self.crop.scales),
                "input_size": self.crop.size, "channel_order": "BGR", "training": self.training}
        self.sidecar(model_path).write_text(json.dumps(body, indent=2) + "\n")

    @classmethod
    def load(cls, model_path: Path) -> "ModelInfo":
        path = cls.sidecar(model_path)
        if not path.is_file():
            raise ValueError(f"{model_path} has no sidecar {path.name} (version and crop recipe)")
        body = json.loads(path.read_text())
        return cls(version=body["version"],
                   crop=CropSpec(scales=tuple(body["crop_scales"]), size=int(body["input_size"])),
                   training=body.get("training", {}))

    def as_dict(self) -> dict:
        return asdict(self)

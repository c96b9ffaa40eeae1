"""The original notebook prototype's per-frame work: the speed reference of ``bench``.

Nothing decides with it. It is the work the prototype did on every webcam
frame, as the project's issues describe it: a Haar cascade for the face on
the whole grey frame, the face resized to 24x24 grey and scored by a small
Keras CNN with a per-frame ``model.predict``, and a Haar cascade for the smile
inside the face, with boxes drawn. The CNN has the prototype's input and a
notebook-sized body (two convolutions, a dense layer) with fixed random
weights: only its cost matters here, and a forward pass costs the same
whatever the weights. TensorFlow is imported only when this is built.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

INPUT_SIDE = 24
# OpenCV's shipped cascades, run with OpenCV's default settings (no tuning chosen here).
FACE_CASCADE = "haarcascade_frontalface_default.xml"
SMILE_CASCADE = "haarcascade_smile.xml"


class PrototypeFrameWork:
    """One frame's worth of the prototype's work: :meth:`__call__` on a BGR frame."""

    def __init__(self, seed: int = 0):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        keras.utils.set_random_seed(seed)
        self._model = keras.Sequential([
            keras.Input((INPUT_SIDE, INPUT_SIDE, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        self._face = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE)
        self._smile = cv2.CascadeClassifier(cv2.data.haarcascades + SMILE_CASCADE)
        self(np.zeros((240, 320, 3), np.uint8))  # the first predict builds the graph: not a frame's cost

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """The annotated frame: face boxes, each with its live probability and smiles."""
        out = frame.copy()
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = self._face.detectMultiScale(grey)
        for x, y, w, h in faces:
            face = grey[y:y + h, x:x + w]
            small = cv2.resize(face, (INPUT_SIDE, INPUT_SIDE)).astype(np.float32) / 255.0
            live = float(self._model.predict(small[np.newaxis, :, :, np.newaxis], verbose=0)[0, 0])
            for sx, sy, sw, sh in self._smile.detectMultiScale(face):
                cv2.rectangle(out, (x + sx, y + sy), (x + sx + sw, y + sy + sh), (0, 255, 255), 2)
            cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
            cv2.putText(out, f"live {live:.2f}", (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                        (0, 255, 0), 1)
        return out

"""Presentation-attack detection (PAD): data, crops, model, training, metrics.

Only ``data``, ``crops``, ``metrics`` and ``evaluation`` are needed at
inference and evaluation time; ``model`` and ``training`` import TensorFlow
and are loaded only to train.
"""

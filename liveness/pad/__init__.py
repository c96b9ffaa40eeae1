"""Presentation-attack detection (PAD): data, crops, texture, model, training, metrics.

Only ``data``, ``crops``, ``texture``, ``artifact``, ``metrics``, ``evaluation``
and ``synth`` (whose guard keeps synthetic attacks out of every evaluation)
are needed at inference and evaluation time; ``model`` and ``training``
import TensorFlow and are loaded only to train.
"""

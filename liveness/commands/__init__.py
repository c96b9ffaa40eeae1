"""Command modules of ``python -m liveness``; see ``liveness/cli.py``."""

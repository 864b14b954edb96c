"""The synthetic district: department exports of a made-up 印台区 with a known risk process.

`python -m training.synth --firms N --seed S --out DIR` writes it; see docs/synthetic-district.md.
"""
from .run import Settings, generate

__all__ = ["Settings", "generate"]

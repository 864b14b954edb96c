"""Hypothesis keeps no example database in the work tree; examples are drawn afresh each run."""
from hypothesis import settings

settings.register_profile("matching", database=None, deadline=None)
settings.load_profile("matching")

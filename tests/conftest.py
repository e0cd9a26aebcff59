import os

from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests are deterministic (fixed seed) and have no deadline: Numba compiles on first call.
settings.register_profile("ebm_literate", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ebm_literate")

"""Lodge: long dance generation from music with two-stage coarse-to-fine diffusion (CVPR 2024)."""
import os

# On a shared or busy CPU (a free Space, a laptop), OpenMP threads that spin while waiting make torch
# several times slower; sleeping waiters cost little when the machine is idle. Must be set before
# torch is imported, so it lives here; an explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

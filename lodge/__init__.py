"""Lodge: long dance generation from music with two-stage coarse-to-fine diffusion (CVPR 2024)."""
__version__ = "0.1.0"

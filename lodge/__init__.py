"""Lodge: long dance generation from music with two-stage coarse-to-fine diffusion (CVPR 2024)."""
import os

# On a shared or busy CPU (a free Space, a laptop), OpenMP threads that spin while waiting make torch
# several times slower; sleeping waiters cost little when the machine is idle. Must be set before
# torch is imported, so it lives here; an explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _numba_cpu_name() -> str | None:
    """The CPU name numba should compile for, where its own choice is known to crash, else None.

    LLVM's code for AMD Zen 4 ("znver4", as llvmlite names the host) makes librosa's numba kernels
    (e.g. the pitch tracker behind chroma features) die with a segmentation fault on such machines;
    the generic AVX-512 level ("x86-64-v4") runs the same kernels correctly and keeps the vector width.
    """
    try:
        import llvmlite.binding as llvm
    except ImportError:  # numba (and librosa with it) is not installed: nothing to configure
        return None
    return "x86-64-v4" if llvm.get_host_cpu_name() == "znver4" else None


# Must be set before numba is imported (librosa imports it); an explicit setting by the user wins.
if "NUMBA_CPU_NAME" not in os.environ and (_cpu := _numba_cpu_name()):
    os.environ["NUMBA_CPU_NAME"] = _cpu

__version__ = "0.1.0"

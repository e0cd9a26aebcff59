"""Run the kernel tests given on the command line, then check that every compiled kernel of the package ran.

Used by test_kernels_checked.py in a fresh process with NUMBA_BOUNDSCHECK=1 and its own NUMBA_CACHE_DIR, so that
every kernel is compiled with bounds checks and an index out of range raises IndexError."""
import importlib
import pkgutil
import sys

import pytest
from numba.core.registry import CPUDispatcher

import ebm_literate
from ebm_literate import mcmc

MODULES = [importlib.import_module(f"ebm_literate.{m.name}") for m in pkgutil.iter_modules(ebm_literate.__path__)
           if not m.name.startswith("_")]                  # every module of the package, new ones included


def kernels():
    "every compiled function of the package that is not inlined into others: (module, name, dispatcher)"
    for module in MODULES:
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == module.__name__ \
                    and obj.targetoptions.get("inline", "never") != "always":
                yield module.__name__, name, obj


def bounds_are_checked():
    "True if a kernel that reads past an array's end raises IndexError (generator states three words wide)"
    import numpy as np
    try:
        mcmc._fill_uniform(np.ones((4, 3), dtype=np.uint64), np.empty((4, 2)))
    except IndexError:
        return True
    return False


if __name__ == "__main__":
    code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
    idle = [f"{m}.{n}" for m, n, k in kernels() if not k.signatures]
    if idle:
        print(f"kernels that no test compiled and ran: {idle}")
    checked = bounds_are_checked()
    if not checked:
        print("an index out of range went unnoticed: NUMBA_BOUNDSCHECK is not in effect")
    sys.exit(code or (3 if idle else 0) or (4 if not checked else 0))

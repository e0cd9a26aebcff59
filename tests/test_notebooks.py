"""Every notebook runs as a test; cells flagged `#| slow` are skipped here and run in the book build."""
from pathlib import Path

import nbdev.test
import pytest

NBS = sorted((Path(__file__).parents[1] / "nbs").glob("*.ipynb"))


def test_notebooks_found():
    assert len(NBS) >= 3, f"expected the chapter notebooks in nbs/, found {NBS}"


@pytest.mark.parametrize("path", NBS, ids=lambda p: p.stem)
def test_notebook(path):
    ok, seconds = nbdev.test.test_nb(path, skip_flags=["slow"], showerr=True)
    assert ok, f"{path.name} failed after {seconds:.1f} s (traceback above)"

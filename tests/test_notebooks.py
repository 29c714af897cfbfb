"""The notebooks run top to bottom (on the bundled sample, in a temporary store)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    assert len(NOTEBOOKS) == 3
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    images = sum(1 for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs if "image/png" in out.get("data", {}))
    errors = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs if out.get("output_type") == "error"]
    assert not errors
    if "explor" in path.stem or "why" in path.stem:
        assert images >= 2, f"{path.name} drew {images} pictures"
        widgets = [out["data"]["application/vnd.jupyter.widget-view+json"] for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.outputs if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]
        assert widgets and all(w.get("model_id") for w in widgets), f"{path.name} showed no interactive graph"
        texts = " ".join(out["data"].get("text/plain", "") for cell in notebook.cells if cell.cell_type == "code"
                         for out in cell.outputs if "data" in out)
        assert "GraphWidget(" in texts and "nodes=" in texts

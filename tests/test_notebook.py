"""notebooks/quickstart.ipynb executes end to end in a fresh kernel."""

import os

import nbclient
import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_quickstart_notebook_executes(tmp_path):
  path = os.path.join(REPO, "notebooks", "quickstart.ipynb")
  notebook = nbformat.read(path, as_version=4)
  client = nbclient.NotebookClient(
      notebook, timeout=600, kernel_name="python3",
      resources={"metadata": {"path": str(tmp_path)}})
  client.execute()  # raises CellExecutionError on any failing cell
  outputs = [o for cell in notebook.cells if cell.cell_type == "code"
             for o in cell.get("outputs", [])]
  text = "".join(o.get("text", "") for o in outputs)
  assert "training images per class: [64" in text
  assert "training accuracy after 6 steps" in text
  assert any("image/png" in o.get("data", {}) for o in outputs)

"""The notebooks run top to bottom on the small district they make, and are stored without outputs."""
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds; a whole notebook takes well under a minute at its default size


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory):
    """Kernel specs whose python3 runs this interpreter (the venv's), whatever other specs are installed."""
    folder = tmp_path_factory.mktemp("kernels") / "python3"
    write_kernel_spec(folder)
    return KernelSpecManager(kernel_dirs=[str(folder.parent)])


def with_work_folder(notebook, folder):
    """The notebook with its WORK parameter set to `folder`, in a cell after the parameters cell."""
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(f"WORK = {str(folder)!r}"))
    return notebook


def outputs(notebook, kind):
    """The outputs of the given type across the notebook's code cells."""
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == kind]


def test_both_notebooks_are_there():
    assert {"01_sources.ipynb", "02_model_report.ipynb"} <= {path.name for path in NOTEBOOKS}


def test_kernel_runs_this_interpreter(kernel_specs):
    assert kernel_specs.get_kernel_spec("python3").argv[0] == sys.executable


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(path, kernel_specs, tmp_path):
    notebook = with_work_folder(nbformat.read(path, as_version=4), tmp_path)
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=kernel_specs)
    # Raises CellExecutionError, naming the cell, at the first cell that fails.
    NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT,
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    assert not outputs(notebook, "error")
    figures = [o for o in outputs(notebook, "display_data") if "image/png" in o.get("data", {})]
    assert len(figures) >= 5, "the notebook should draw its figures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in code) == 1

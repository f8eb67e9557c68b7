"""The notebooks are valid nbformat 4.5 files: every cell has an id, unique in its notebook
(a cell pasted in without one makes nbformat warn, and newer nbformat versions refuse it)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_its_own_id(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5), path.name
    ids = [cell.get("id") for cell in nb["cells"]]
    missing = [i for i, cell_id in enumerate(ids) if not isinstance(cell_id, str) or not cell_id]
    assert not missing, f"{path.name}: cells {missing} have no id"
    assert len(set(ids)) == len(ids), f"{path.name}: ids used twice"


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 9

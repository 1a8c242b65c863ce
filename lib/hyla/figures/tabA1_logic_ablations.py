"""Table A1, fuzzy-logic column: held-out R² (x 100) of every mixer beside the paper's, as bars and a table.

The paper's numbers (reference data, not ours) are read from the saved data: the CSV's ``paper_*``
columns of the run mixers and, where the notebook saved them, ``extra["paper_table"]`` for all rows
(``hyla.figures._table_a1``).
"""

from __future__ import annotations

from hyla.figdata import FigureData
from hyla.figures import _table_a1
from hyla.presets.logic import PAPER_TABLE_A1_LOGIC, PAPER_TABLE_A1_LOGIC_NOT_IMPLEMENTED

FINAL = "heldout_r2_x100_final"  # held-out R² x 100 at the last step, one row per seed


def _setting(data: FigureData) -> str:
    """``N .., .. % held out, <steps> steps`` (the task part only where the notebook saved it)."""
    task = data.extra.get("task")
    cell = f"N {task['seq_len']}, {task['heldout_fraction']:.0%} held out, " if task else ""
    return f"{cell}{max(r['step'] for r in data.select(FINAL))} steps"


COLUMN = _table_a1.Column(final=FINAL, source="heldout_r2", score="R²×100",
                          ylabel="held-out-combination R² × 100", title="Table A1, fuzzy-logic column",
                          paper=PAPER_TABLE_A1_LOGIC, paper_not_implemented=PAPER_TABLE_A1_LOGIC_NOT_IMPLEMENTED,
                          paper_setting="50 000 steps", setting=_setting)
# What the notebook calls (hyla.figures._table_a1.Column).
rows, paper_provenance, write_markdown = COLUMN.rows, COLUMN.paper_provenance, COLUMN.write_markdown
rank_correlation, table_markdown = COLUMN.rank_correlation, COLUMN.table_markdown


def plot(data: FigureData):
    lowest = min((m - s for m, s in _table_a1.table(data, COLUMN)["ours"].values()), default=0.0)
    return _table_a1.plot(data, COLUMN, "Table A1 fuzzy-logic column", ylim=(min(-5.0, lowest - 5), 100))

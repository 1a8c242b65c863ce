"""Table A1, sRAVEN column: held-out accuracy of every mixer beside the paper's, as bars and as a table.

The paper's numbers (reference data, not ours) are read from the saved data: the CSV's ``paper_*``
columns of the run mixers and, where the notebook saved them, ``extra["paper_table"]`` for all rows
(``hyla.figures._table_a1``).
"""

from __future__ import annotations

from hyla import plotting
from hyla.figdata import FigureData
from hyla.figures import _table_a1
from hyla.presets.raven import PAPER_TABLE_A1_SRAVEN, PAPER_TABLE_A1_SRAVEN_NOT_IMPLEMENTED

FINAL = "heldout_accuracy_x100_final"  # held-out accuracy x 100 at the last step, one row per seed


def _setting(data: FigureData) -> str:
    """``K=.., F=..[, unpermuted], <steps> steps`` (the task part only where the notebook saved it)."""
    return f"{plotting.sraven_setting(data.extra.get('task'))}{max(r['step'] for r in data.select(FINAL))} steps"


COLUMN = _table_a1.Column(final=FINAL, source="heldout_accuracy", score="acc×100",
                          ylabel="held-out-combination accuracy × 100", title="Table A1, sRAVEN column",
                          paper=PAPER_TABLE_A1_SRAVEN, paper_not_implemented=PAPER_TABLE_A1_SRAVEN_NOT_IMPLEMENTED,
                          paper_setting="K=4, 20M problems", setting=_setting,
                          history=("heldout_accuracy", "heldout_feature_accuracy", "train_accuracy"),
                          extra_metric="heldout_feature_accuracy", extra_label="per-feature ×100")
# What the notebook calls (hyla.figures._table_a1.Column).
rows, paper_provenance, write_markdown = COLUMN.rows, COLUMN.paper_provenance, COLUMN.write_markdown
rank_correlation, table_markdown = COLUMN.rank_correlation, COLUMN.table_markdown


def plot(data: FigureData):
    task = data.extra.get("task")
    chance = 100 * task["num_values"] ** -task["num_features"] if task else None
    return _table_a1.plot(data, COLUMN, "Table A1 sRAVEN column", chance=chance,
                          absent="the paper's rows without official code" + ("" if task else ", and the chance level"))

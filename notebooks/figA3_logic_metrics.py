# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/figA3_logic_metrics.ipynb)
#
# # Fig. A3 — fuzzy logic: training, held-out and unknown-term R² during training
#
# For the runs of the Table A1 cell (N = 32 in-context examples, 70 % of the known-term pairs held
# out), R² against the training step on three evaluation sets: **training tasks** with new inputs
# (`train_r2`), **held-out combinations** of known terms (`heldout_r2`, the paper's "OOD") and
# combinations of **unknown terms** (`unknown_terms_r2`, the negative control). R² is the official
# per-sequence metric ([methods](../docs/methods.md#fuzzy-logic-metrics)), so it can fall far below 0.
#
# **The paper** (Fig. A3, qualitative): the models differ little on training tasks, and no model solves
# combinations of unknown terms (R² ≲ 0).

# %% tags=["parameters"]
preset: str = "quick"  # scale: smoke | quick | gpu | paper
out_dir: str = ""  # folder for figures; empty means the repository figures folder (figures/smoke for preset smoke)
cache_dir: str = ""  # run cache; empty means HYLA_CACHE or the repository .cache/runs
steps: int = 0  # training steps per run; 0 keeps the preset value
num_seeds: int = 0  # seeds per run (vmapped on a GPU); 0 keeps the preset value

# %%
# Setup: validate the parameters before any compute (papermill only warns about unknown names).
import subprocess
import sys

if "google.colab" in sys.modules:  # on Colab: install hyla from GitHub, unless it is importable
    import importlib.util
    if importlib.util.find_spec("hyla") is None:
        # No --upgrade: pip then keeps every dependency already satisfied, so Colab's own jax stays.
        subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                        "hyla[notebooks] @ git+https://github.com/hyla-companion/hyla"], check=True)

from hyla import notebook

FIGURE = "figA3_logic_metrics"
config = notebook.setup(FIGURE, globals())

from hyla import claims, figdata, figures, plotting, runs
from hyla.provenance import Timer

# %% [markdown]
# ## Compute
# The cached headline runs of Fig. 2 (no extra training at any tier): one run per method, seeds vmapped.

# %%
timer = Timer()
timer.__enter__()
results = notebook.train(config["specs"], cache_dir, steps, num_seeds, name=notebook.logic_run_name)

# Save: every evaluated metric of every run, one tidy row per method × seed × step × metric.
rows = []
for method, res in results.items():
    rows += runs.tidy(res, method, num_examples=res.spec.task_args["seq_len"],
                      heldout_fraction=res.spec.task_args["heldout_fraction"])
timer.__exit__(None, None, None)
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results),
                               "overrides": {"steps": steps, "num_seeds": num_seeds}})

# %% [markdown]
# ## Results
# Everything below reads only the saved data (`figures/data/figA3_logic_metrics.<preset>.csv`): the
# paper's claims beside ours, with the verdict of the rule in `hyla.claims`, then the final R² of each
# method on each evaluation set (mean ± s.e. over seeds).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
print(plotting.final_table(data, ("train_r2", "heldout_r2", "unknown_terms_r2"), fmt="{:+.3f} ± {:.3f}"))

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/figA3_logic_metrics.py

# %% [markdown]
# ## Choices and deviations
# * Scale: `quick` trains the reduced model (D 64) for 1 000 steps, 2 % of the paper's steps; `gpu` the
#   full model for half of them. The title says which tier drew the figure.
# * Evaluation sets hold `eval_size` sequences per split (fewer than the paper's at `quick`), evaluated
#   after the first step, every `eval_every` steps and at the end.
# * The y-axis starts at −1 at most, so the first evaluation (an untrained model) does not hide the
#   rest; the CSV holds every value.

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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig03_sraven_task.ipynb)
#
# # Fig. 3 — the symbolic Raven (sRAVEN) task
#
# An sRAVEN problem is a 3×3 grid of panels; each panel is a tuple of K = 4 integer features with
# values in {0..7}. Every feature follows one of 8 rules along each **row** (arithmetic mod 8); the model
# sees the 8 context panels and predicts all K features of the 9th ([methods](../docs/methods.md#sraven)).
# The task (latent) is the multiset of the K rules: C(8+4−1, 4) = **330** rule combinations, of which a
# seeded shuffle holds out 25 % (**82**), the paper's "OOD" split (ours `heldout_combos`); training uses
# the other **248** ([methods](../docs/methods.md#sraven-splits)). Panels: **A** two sampled problems,
# each without and with the column-wise feature permutation; **B** the 8 rules; **C** the 330 rule
# combinations coloured by split; **D** the measured fraction of ambiguous problems.
#
# **The paper** (App. B.2): fewer than 0.5 % of problems are ambiguous.
#
# No training: the presets only change how many problems the ambiguity estimate uses.

# %% tags=["parameters"]
preset: str = "quick"  # scale: smoke | quick | gpu | paper
out_dir: str = ""  # folder for figures; empty means the repository figures folder (figures/smoke for preset smoke)
cache_dir: str = ""  # run cache; unused here since nothing is trained
steps: int = 0  # unused here since nothing is trained
num_seeds: int = 0  # unused here since nothing is trained

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

FIGURE = "fig03_sraven_task"
config = notebook.setup(FIGURE, globals())

import math

import jax
import numpy as np

from hyla import claims, figdata, figures
from hyla.provenance import Timer
from hyla.tasks.raven import RULES, SymbolicRaven, ambiguous, rule_grids

# %% [markdown]
# ## Compute
# Example problems, drawn twice with the same key, without and with the permutation (the same problem:
# same rules and values, only the storage order differs). With the permutation, column c stores its
# features in its own order π_c, so the model must first find which slots correspond ("finding
# correspondences") before applying the rules. Then the split and one generated example grid per rule.

# %%
timer = Timer()
timer.__enter__()
K, F = 4, 8
task = SymbolicRaven(num_features=K, num_values=F, heldout_fraction=0.25, permute_features=True,
                     seed=config["split_seed"])
key = jax.random.key(3)
plain = task.sample(key, config["num_examples"], "train", permute=False)
perm = task.sample(key, config["num_examples"], "train", permute=True)  # same key: same problem
assert np.array_equal(np.asarray(plain.rules), np.asarray(perm.rules))

n_combos = math.comb(len(RULES) + K - 1, K)
train_set = {tuple(map(int, r)) for r in np.asarray(task.train)}
held_set = {tuple(map(int, r)) for r in np.asarray(task.heldout_combos)}
print(f"{n_combos} rule combinations: {len(train_set)} train, {len(held_set)} held out")
examples = np.asarray(rule_grids(jax.random.key(7), (), F))  # [8 rules, 3 rows, 3 cols]

# %% [markdown]
# Ambiguity, with the library's brute-force checker (`hyla.tasks.raven.ambiguous`, every feature
# correspondence; [methods](../docs/methods.md#sraven-ambiguity)) under two criteria: the official one
# (`all_features`: some correspondence under which **every** feature admits a rule with a different
# answer), which the paper's number matches, and the looser logical one (`any_feature`: another
# correspondence and rule assignment explains the 8 context panels but changes **at least one** answer
# feature). The second is far more frequent, a property of the generator as specified, not a bug: for
# example, difference rows with b ∈ {0, 4} also satisfy addition mod 8.

# %%
amb_rows, amb = [], {}
n_amb = config["ambiguity_size"]
for split in ("train", "heldout_combos"):
    batch = task.sample(jax.random.key(1000 + config["ambiguity_seed"]), n_amb, split)
    panels = np.asarray(batch.panels)
    for criterion in ("all_features", "any_feature"):
        flags = ambiguous(panels, F, criterion)
        p = float(flags.mean())
        amb[(split, criterion)] = (p, math.sqrt(max(p * (1 - p), 1e-12) / n_amb))
        amb_rows.append(dict(method="sraven_task", seed=config["ambiguity_seed"], step=0,
                             metric="ambiguous_fraction", value=p, split=split, criterion=criterion,
                             num_problems=n_amb))

# %% [markdown]
# Save: split sizes, held-out rule frequencies and ambiguity fractions (CSV); the example problems, the
# example grid of each rule and the held-out combinations (NPZ).

# %%
rows = list(amb_rows)
for metric, value in (("num_combinations", n_combos), ("num_train_combinations", len(train_set)),
                      ("num_heldout_combinations", len(held_set))):
    rows.append(dict(method="sraven_task", seed=config["split_seed"], step=0, metric=metric,
                     value=value, split="", criterion="", num_problems=0))
for r, name in enumerate(RULES):
    count = sum(c.count(r) > 0 for c in held_set)
    rows.append(dict(method="sraven_task", seed=config["split_seed"], step=0,
                     metric=f"heldout_combinations_with_{name}", value=count, split="heldout_combos",
                     criterion="", num_problems=0))
timer.__exit__(None, None, None)
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             arrays=dict(plain_panels=plain.panels, plain_permutation=plain.permutation,
                         plain_rules=plain.rules, perm_panels=perm.panels, perm_permutation=perm.permutation,
                         rule_examples=examples, heldout_combos=np.array(sorted(held_set))),
             provenance_extra={"task": {"num_features": K, "num_values": F, "permute_features": True},
                               "trained": False})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/fig03_sraven_task.<preset>.csv`): the paper's claims beside
# ours, with the verdict of the rule in `hyla.claims`, then the ambiguous fraction per split and
# criterion (± its binomial standard error).

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
for r in data.select("ambiguous_fraction"):
    p, n = r["value"], r["num_problems"]
    print(f"ambiguous [{r['criterion']:12s}] {r['split']:15s}: {100 * p:.2f} % ± "
          f"{100 * math.sqrt(max(p * (1 - p), 1e-12) / n):.2f} % of {n} problems")

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/fig03_sraven_task.py

# %% [markdown]
# ## Choices and deviations
# * Problems in panel A are drawn from the training combinations with a fixed key; the split uses seed 0.
# * The presets set the number of problems per split of the ambiguity estimate (`ambiguity_size`:
#   smoke 128, quick 2 048, gpu 4 096, paper 8 192); nothing else changes.
# * The standard errors of panel D are binomial, from the fraction and the number of problems.

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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/hyla-companion/hyla/blob/main/notebooks/fig06_language_model.ipynb)
#
# # Fig. 6 — language modelling: softmax vs linear attention vs HYLA (offline substitute for C4)
#
# Validation loss (next-character cross-entropy, nats per character; mean ± s.e. over seeds) of three
# causal transformers that differ only in the token mixer: softmax attention, linear attention and
# HYLA. HYLA normalises the attention scores over heads (RMSHead), not over keys, so it needs no sum
# over keys and stays causal as is ([methods](../docs/methods.md#attention-normalisation)).
#
# **The paper** (Fig. 6, qualitative): decoder-only models of ~50M parameters trained on C4 for 130B
# tokens; HYLA improves over linear attention and performs close to softmax attention.
#
# **The corpus is a substitute** ([methods](../docs/methods.md#language-modelling)): C4 cannot be
# reached offline, so every preset trains on a local text file, by default the Python documentation
# that ships with CPython (`pydoc_data.topics`), at the character level, the first 90 % for training
# and the last 10 % for validation. Point `corpus` at any local UTF-8 text file to train on other
# text. Our losses are not comparable with the paper's; the claim under test is the ordering.

# %% tags=["parameters"]
preset: str = "quick"  # scale: smoke | quick | gpu | paper
out_dir: str = ""  # folder for figures; empty means the repository figures folder (figures/smoke for preset smoke)
cache_dir: str = ""  # run cache; empty means HYLA_CACHE or the repository .cache/runs
steps: int = 0  # training steps per run; 0 keeps the preset value
num_seeds: int = 0  # seeds per run (vmapped on a GPU); 0 keeps the preset value
corpus: str = ""  # path of a local UTF-8 text file; empty means CPython pydoc_data topics

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

from hyla import notebook, presets

FIGURE = "fig06_language_model"
config = notebook.setup(FIGURE, globals(), {"corpus": (str, None)})

from hyla import claims, figdata, figures, lm, plotting, runs
from hyla.presets.lm import lm_spec
from hyla.provenance import Timer
from hyla.transformer import count_parameters

# %% [markdown]
# ## The corpus
# Its size, vocabulary and split (printed, and saved with the data).

# %%
text = lm.load_text(corpus)
ids, vocab, fingerprint = lm.encoded_corpus(corpus, config["level"])
cut = lm.split_point(len(ids), 0.1)
corpus_name = corpus or "pydoc_data.topics (CPython " + ".".join(map(str, sys.version_info[:3])) + ")"
print(f"corpus: {corpus_name} | {len(text):,} characters | {config['level']}-level vocabulary "
      f"{vocab} | train {cut:,} / validation {len(ids) - cut:,} tokens | fingerprint {fingerprint}")

# %% [markdown]
# ## Compute
# One cached, resumable run per mixer; seeds are vmapped.

# %%
timer = Timer()
timer.__enter__()
results = {}
for method in config["methods"]:
    spec = config["specs"][method]
    if corpus:  # same model and schedule, another text file
        spec = lm_spec(method, preset, corpus=corpus, level=config["level"], train=spec.train,
                       seeds=spec.seeds)
    spec = presets.apply_overrides(spec, steps, num_seeds)
    results[method] = runs.load_or_train(spec, cache_dir, name=f"{method} LM")
num_params = {m: count_parameters(r.model) // len(r.spec.seeds) for m, r in results.items()}

# %%
# Save data: one tidy row per method × seed × step × metric.
rows = []
for method, res in results.items():
    rows += runs.tidy(res, method, corpus=corpus_name, level=config["level"],
                      seq_len=res.spec.model.seq_len)
timer.__exit__(None, None, None)
figdata.save(FIGURE, out_dir, preset, rows, wall_time_s=timer.elapsed,
             provenance_extra={**runs.provenance(results),
                               "parameters": num_params,
                               "corpus": {"name": corpus_name, "characters": len(text), "vocab": vocab,
                                          "level": config["level"], "fingerprint": fingerprint,
                                          "train_tokens": cut, "validation_tokens": len(ids) - cut},
                               "substitute_for": config["paper"],
                               "paper": "C4, 50M params: HYLA better than linear attention, close to softmax",
                               "overrides": {"steps": steps, "num_seeds": num_seeds, "corpus": corpus}})

# %% [markdown]
# ## Results
# From the saved data only (`figures/data/fig06_language_model.<preset>.csv`): the paper's claim
# beside ours, then the final validation and train-window losses of each mixer (mean ± s.e. over
# seeds) and the model sizes.

# %%
data = figdata.load(FIGURE, preset, out_dir)
print(claims.report(claims.evaluate(data)))
print()
print(plotting.final_table(data, ("validation_loss", "train_eval_loss"), unit="nats/char"))
print("parameters per model:", data.extra["parameters"])

# %%
fig, paths = figures.render(FIGURE, data, out_dir)  # hyla/figures/fig06_language_model.py

# %% [markdown]
# ## Choices and deviations
# * Presets: `quick` (2-core CPU, a few minutes) trains 2 layers, D 64, 4 heads (d_k = d_v = 16), MLP
#   128 on 64-character windows, batch 32, 400 steps, 3 seeds, about two passes over the training
#   split; early in training softmax attention learns fastest, so at this budget the HYLA-vs-linear
#   difference is small. `gpu` (one H100): 4 layers, D 256, 8 heads, 128-character windows, batch 64,
#   5 000 steps. `paper`: the C4 model as far as it is known (6 layers, D 512, 8 heads of 64, MLP 2048,
#   batch 256) on the substitute corpus; sequence length 512 and the step count are assumptions; not
#   run here.
# * The split is contiguous; on `pydoc_data` the last 10 % of the sorted topics is easier than the
#   average training window, so the validation loss sits below the train-window loss: compare mixers
#   within one split.
# * Linear attention is the paper's: unnormalised (no feature map, no 1/T), so its outputs grow with
#   the context length; it is kept as is.
# * Where the paper is silent: a GELU MLP (the repository's LM configs use SwiGLU; the C4 model is not
#   public), T5 relative-position bias instead of rotary embeddings, attention dropout as in the
#   repository's WikiText config, a tied embedding head scaled by 1/√D, AdamW with warmup-cosine
#   ([methods](../docs/methods.md#language-modelling)).

"""Anchor composite-function task (hyla.tasks.anchor) against an explicit Python reference."""

import jax
import numpy as np
import pytest

from hyla.objectives import make_objective, stack_tasks
from hyla.tasks.anchor import AnchorTask, init_std

G = {1: lambda x: x + 5, 2: lambda x: x + 1, 3: lambda x: x - 2, 4: lambda x: x - 8}


def reference(seq, item_min=20):
    """(key item, position, a1, a2, inferential, symmetric, training target) by explicit composition."""
    anchors = [i for i, t in enumerate(seq) if t < item_min]
    assert len(anchors) == 2 and anchors[1] == anchors[0] + 1  # exactly one adjacent pair
    p = anchors[0] - 1
    x, a1, a2 = int(seq[p]), int(seq[p + 1]), int(seq[p + 2])
    inferential = G[a2](G[a1](x))
    # the official override: (3, 4) -> x - 6; the symmetric target of (a1, a2) is that of (a2, a1)
    train_map = lambda b1, b2: x - 6 if (b1, b2) == (3, 4) else G[b2](G[b1](x))  # noqa: E731
    return x, p, a1, a2, inferential, train_map(a2, a1), train_map(a1, a2)


@pytest.mark.parametrize("unseen,pool", [(((4, 3),), 0), (((3, 4), (4, 3)), 500)])
def test_targets_and_splits_match_reference(unseen, pool):
    task = AnchorTask(unseen_pairs=unseen, pool_size=pool, seed=1)
    m = task.modulus
    assert m == 9
    splits = ("train", "seen_test", "heldout", "heldout_test")
    draws = jax.jit(lambda k: {s: task.sample(k, 200, s) for s in splits})(jax.random.key(7))
    for split in splits:  # one compilation for all four splits
        b = jax.tree.map(np.asarray, draws[split])
        x = b.x
        assert x.shape == (200, 9)
        for i in range(200):
            key, p, a1, a2, inf, sym, trained = reference(x[i])
            assert 0 <= p <= 6
            assert all(20 <= t < 100 for j, t in enumerate(x[i]) if j not in (p + 1, p + 2))
            assert (key, p, a1, a2) == (b.key_item[i], b.key_pos[i], b.pair[i][0], b.pair[i][1])
            assert (inf, sym) == (b.y_inferential[i], b.y_symmetric[i])
            if split in ("train", "seen_test"):
                assert (a1, a2) not in unseen and b.y[i] == trained
            else:
                assert (a1, a2) == (4, 3) and b.y[i] == inf == key - 10 and sym == key - 6
            test_item = key % m == p % m
            assert test_item == (split in ("seen_test", "heldout_test"))


def test_all_seen_pairs_positions_and_items_are_drawn():
    task = AnchorTask(unseen_pairs=((3, 4), (4, 3)))
    b = jax.tree.map(np.asarray, task.sample(jax.random.key(0), 20_000, "train"))
    pairs = {tuple(map(int, p)) for p in np.asarray(b.pair)}
    assert pairs == {(a, c) for a in range(1, 5) for c in range(1, 5)} - {(3, 4), (4, 3)}
    assert set(np.asarray(b.key_pos).tolist()) == set(range(7))
    items = {(int(k), int(p)) for k, p in zip(b.key_item, b.key_pos)}
    expected = {(k, p) for k in range(20, 100) for p in range(7) if k % 9 != p}
    assert items == expected


def test_pool_is_a_fixed_finite_set():
    task = AnchorTask(pool_size=64, seed=3)
    b1 = task.sample(jax.random.key(0), 512, "train")
    rows = {tuple(r) for r in np.asarray(task.pool_x)}
    assert {tuple(r) for r in np.asarray(b1.x)} <= rows
    same = AnchorTask(pool_size=64, seed=3)
    np.testing.assert_array_equal(np.asarray(same.pool_x), np.asarray(task.pool_x))


def test_objective_metrics_and_stacking():
    obj = make_objective("anchor", unseen_pairs=((3, 4), (4, 3)))
    tasks = stack_tasks([obj.make_task(s) for s in (0, 1)])
    b = jax.jit(jax.vmap(lambda t, k: t.sample(k, 8, "heldout")))(
        tasks, jax.random.split(jax.random.key(0), 2))
    assert b.x.shape == (2, 8, 9)
    batch = jax.tree.map(lambda a: a[0], b)
    logits = np.full((8, 201), -10.0, np.float32)
    logits[np.arange(8), np.asarray(batch.y_inferential)] = 10.0
    m = obj.eval_metrics("heldout", logits, batch)
    assert float(m["heldout_accuracy"]) == 1.0 and float(m["heldout_symmetric_accuracy"]) == 0.0


def test_validation_and_init_std():
    with pytest.raises(ValueError, match="heldout_pair"):
        AnchorTask(unseen_pairs=((3, 4),), heldout_pair=(4, 3))
    with pytest.raises(ValueError, match="vocab_size"):
        AnchorTask(vocab_size=100)
    with pytest.raises(ValueError, match="anchors"):
        AnchorTask(unseen_pairs=((5, 3),))
    assert abs(init_std(64, 0.5) - 0.125) < 1e-12 and abs(init_std(400, 0.8) - 400 ** -0.8) < 1e-12


def test_ext01_presets():
    from hyla import presets

    for p in presets.PRESETS:
        cfg = presets.get("ext01_init_rate", p)
        for spec in [*cfg["sweep"].values(), *cfg["phase"].values(), *cfg["wd"].values()]:
            m = spec.model
            assert (m.num_heads, m.post_ln, m.learned_position, m.relative_position, m.causal) == (
                1, True, True, False, True)
            assert m.vocab_size == m.output_dim == spec.task_args["vocab_size"]
        assert all(len(s.task_args["unseen_pairs"]) == 2 for s in cfg["sweep"].values())
    paper = presets.get("ext01_init_rate", "paper")
    spec = paper["phase"][("softmax", 2, 0.8)]
    # the paper's App. A: d_model 400, d_ff 1200, d_k = d_v = 200, one head, batch 2048, wd 0.01
    assert (spec.model.emb_dim, spec.model.mlp_dim, spec.model.qk_dim) == (400, 1200, 200)
    assert (spec.train.batch_size, spec.train.weight_decay) == (2048, 0.01)
    assert spec.task_args["unseen_pairs"] == ((4, 3),) and len(paper["lr_grid"]) == 9

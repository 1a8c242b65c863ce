"""Synthetic in-context tasks: fuzzy logic (docs/methods.md#fuzzy-logic) and symbolic Raven (docs/methods.md#sraven)."""

from hyla.tasks.logic import FuzzyLogic, LogicBatch, terms_to_multi_hot
from hyla.tasks.raven import RavenBatch, SymbolicRaven, ambiguous, ambiguous_fraction, rule_index, slot_rules

__all__ = [
    "FuzzyLogic",
    "LogicBatch",
    "RavenBatch",
    "SymbolicRaven",
    "ambiguous",
    "ambiguous_fraction",
    "rule_index",
    "slot_rules",
    "terms_to_multi_hot",
]

"""Synthetic in-context tasks: fuzzy logic (SPEC §B) and symbolic Raven (SPEC §C)."""

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

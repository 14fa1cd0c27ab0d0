"""Read the input tables, apply scenario overrides, validate, convert units.

Data flows one way: ``inputs/*.csv`` are read as raw text rows (each row
remembers the file and line it came from), scenario files and ``--set``
options edit those raw rows, and only then is every row validated and
converted to the model's canonical magnitudes. Validation therefore covers
overridden values exactly as it covers the base data, and an error always
names where the bad value came from.

Every problem found is collected; :class:`~model.errors.InputErrors` is raised
once with all of them.
"""
from __future__ import annotations

from model.inputs.catalogue import Catalogue, ParameterSpec, Settable, load_catalogue
from model.inputs.overrides import LIFTABLE, Override, apply_scenario_doc, apply_scenario_file, apply_set
from model.inputs.tables import (CONFIDENCE, CONTRACTS, DEAL_STATUSES, DEPENDENTS, ENERGY_BILLING, ENTITY_KEY, KINDS,
                                 POWER_KINDS, PROVENANCE, SCHEMAS, SCOPE_KEYS, FileSchema, RawRow, RawTable,
                                 display_path, expand_kind_defaults, input_hashes, read_raw_tables, read_table)
from model.inputs.values import Fact, check_provenance, check_rows, facts_from, parse_scope, parse_value, parse_year

__all__ = ["Catalogue", "ParameterSpec", "Settable", "load_catalogue", "LIFTABLE", "Override", "apply_scenario_doc",
           "apply_scenario_file", "apply_set", "CONFIDENCE", "CONTRACTS", "DEAL_STATUSES", "DEPENDENTS",
           "ENERGY_BILLING", "ENTITY_KEY", "KINDS", "POWER_KINDS", "PROVENANCE", "SCHEMAS", "SCOPE_KEYS", "FileSchema",
           "RawRow", "RawTable", "display_path", "expand_kind_defaults", "input_hashes", "read_raw_tables",
           "read_table", "Fact", "check_provenance", "check_rows", "facts_from", "parse_scope", "parse_value",
           "parse_year"]

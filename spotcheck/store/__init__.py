"""Storage: the registry, plans and the event log in SQLite or PostgreSQL (SQLModel tables).

`spotcheck.service` is the usual way in; these are its building blocks, for a platform that
keeps spotcheck's tables in a database of its own.
"""

from spotcheck.store.imports import ImportReport as ImportReport
from spotcheck.store.imports import TierChange as TierChange
from spotcheck.store.imports import import_conflicts as import_conflicts
from spotcheck.store.imports import import_enterprises as import_enterprises
from spotcheck.store.imports import import_history as import_history
from spotcheck.store.imports import import_inspectors as import_inspectors
from spotcheck.store.plans import PlanEvidence as PlanEvidence
from spotcheck.store.plans import list_plans as list_plans
from spotcheck.store.plans import store_plan as store_plan
from spotcheck.store.snapshot import StoredIds as StoredIds
from spotcheck.store.snapshot import known_ids as known_ids
from spotcheck.store.snapshot import load_registry as load_registry
from spotcheck.store.snapshot import registry_in as registry_in
from spotcheck.store.snapshot import require_registry as require_registry
from spotcheck.store.sql import CONFLICT as CONFLICT
from spotcheck.store.sql import ENTERPRISE as ENTERPRISE
from spotcheck.store.sql import HISTORY as HISTORY
from spotcheck.store.sql import INSPECTOR as INSPECTOR
from spotcheck.store.sql import PLAN as PLAN
from spotcheck.store.sql import PLAN_PARTS as PLAN_PARTS

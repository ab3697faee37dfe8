"""spotcheck: credit-tiered double-random (双随机) inspection plans with reproducible draws.

A platform needs only this package::

    import spotcheck
    registry = spotcheck.Registry.build(enterprises, inspectors, conflicts, history)
    policy, policy_bytes = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(registry, policy, "2026Q4", seed)
    bundle = spotcheck.build_bundle(plan, registry, policy_bytes)
    spotcheck.write_bundle(bundle, "plan-2026Q4")
    assert spotcheck.verify_bundle("plan-2026Q4").ok
"""

from spotcheck.audit.explain import explain_enterprise as explain_enterprise
from spotcheck.audit.explain import explain_inspector as explain_inspector
from spotcheck.audit.verify import VerificationReport as VerificationReport
from spotcheck.audit.verify import verify_bundle as verify_bundle
from spotcheck.errors import InfeasiblePlanError as InfeasiblePlanError
from spotcheck.errors import InvalidInputError as InvalidInputError
from spotcheck.errors import PolicyError as PolicyError
from spotcheck.errors import RowProblem as RowProblem
from spotcheck.errors import SpotcheckError as SpotcheckError
from spotcheck.errors import VerificationError as VerificationError
from spotcheck.formats.bundle import Bundle as Bundle
from spotcheck.formats.bundle import build_bundle as build_bundle
from spotcheck.formats.bundle import read_bundle as read_bundle
from spotcheck.formats.bundle import write_bundle as write_bundle
from spotcheck.models.domain import Conflict as Conflict
from spotcheck.models.domain import Enterprise as Enterprise
from spotcheck.models.domain import HistoryRecord as HistoryRecord
from spotcheck.models.domain import Inspector as Inspector
from spotcheck.models.identifiers import uscc_check_character as uscc_check_character
from spotcheck.models.policy import Policy as Policy
from spotcheck.models.policy import TaskPolicy as TaskPolicy
from spotcheck.models.policy import TierPolicy as TierPolicy
from spotcheck.models.policy import load_policy as load_policy
from spotcheck.models.policy import parse_policy as parse_policy
from spotcheck.models.quarter import Quarter as Quarter
from spotcheck.models.registry import EnterpriseColumns as EnterpriseColumns
from spotcheck.models.registry import HistoryColumns as HistoryColumns
from spotcheck.models.registry import Registry as Registry
from spotcheck.outcomes.advice import advise as advise
from spotcheck.outcomes.estimates import Estimate as Estimate
from spotcheck.outcomes.estimates import StratumCounts as StratumCounts
from spotcheck.outcomes.estimates import stratified as stratified
from spotcheck.outcomes.intervals import clopper_pearson as clopper_pearson
from spotcheck.outcomes.intervals import wilson as wilson
from spotcheck.scheduler.hashes import cost as cost
from spotcheck.scheduler.hashes import round_offset as round_offset
from spotcheck.scheduler.hashes import seed_hash as seed_hash
from spotcheck.scheduler.hashes import ticket as ticket
from spotcheck.scheduler.plan import AssignmentRow as AssignmentRow
from spotcheck.scheduler.plan import DrawRow as DrawRow
from spotcheck.scheduler.plan import Plan as Plan
from spotcheck.scheduler.plan import SkipRow as SkipRow
from spotcheck.scheduler.plan import StratumRow as StratumRow
from spotcheck.scheduler.plan import VisitRow as VisitRow
from spotcheck.scheduler.plan import plan_quarter as plan_quarter

__version__ = "0.1.0"

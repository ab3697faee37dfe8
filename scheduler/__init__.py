"""spotcheck: credit-tiered double-random (双随机) inspection plans with reproducible draws.

A platform needs only this package::

    import scheduler
    registry = scheduler.Registry.build(enterprises, inspectors, conflicts, history)
    policy, policy_bytes = scheduler.load_policy()
    plan = scheduler.plan_quarter(registry, policy, "2026Q4", seed)
    bundle = scheduler.build_bundle(plan, registry, policy_bytes)
    scheduler.write_bundle(bundle, "plan-2026Q4")
    assert scheduler.verify_bundle("plan-2026Q4").ok
"""

from models.domain import Conflict as Conflict
from models.domain import Enterprise as Enterprise
from models.domain import HistoryRecord as HistoryRecord
from models.domain import Inspector as Inspector
from models.identifiers import uscc_check_character as uscc_check_character

from .bundle import Bundle as Bundle
from .bundle import build_bundle as build_bundle
from .bundle import read_bundle as read_bundle
from .bundle import write_bundle as write_bundle
from .errors import InfeasiblePlanError as InfeasiblePlanError
from .errors import InvalidInputError as InvalidInputError
from .errors import PolicyError as PolicyError
from .errors import RowProblem as RowProblem
from .errors import SpotcheckError as SpotcheckError
from .errors import VerificationError as VerificationError
from .explain import explain_enterprise as explain_enterprise
from .explain import explain_inspector as explain_inspector
from .hashes import cost as cost
from .hashes import round_offset as round_offset
from .hashes import seed_hash as seed_hash
from .hashes import ticket as ticket
from .plan import AssignmentRow as AssignmentRow
from .plan import DrawRow as DrawRow
from .plan import Plan as Plan
from .plan import SkipRow as SkipRow
from .plan import StratumRow as StratumRow
from .plan import VisitRow as VisitRow
from .plan import plan_quarter as plan_quarter
from .policy import Policy as Policy
from .policy import TaskPolicy as TaskPolicy
from .policy import TierPolicy as TierPolicy
from .policy import load_policy as load_policy
from .policy import parse_policy as parse_policy
from .quarter import Quarter as Quarter
from .registry import EnterpriseColumns as EnterpriseColumns
from .registry import HistoryColumns as HistoryColumns
from .registry import Registry as Registry
from .verify import VerificationReport as VerificationReport
from .verify import verify_bundle as verify_bundle

__version__ = "0.1.0"

"""Outcome statistics (DESIGN §11), pure: no database, no files, no clock.

`estimates` (the stratified finding rate and its intervals), `tables` (the outcome table
per tier, task and stratum), `disturbance` (how often each tier is inspected), `advice`
(next period's ratios: most findings, most precise) and `simulation` (planted findings for
simulations and the demo). Only `spotcheck.models` is imported from the package.
"""

from spotcheck.outcomes.advice import Advice as Advice
from spotcheck.outcomes.advice import AdviceCell as AdviceCell
from spotcheck.outcomes.advice import Allocation as Allocation
from spotcheck.outcomes.advice import advise as advise
from spotcheck.outcomes.disturbance import Disturbance as Disturbance
from spotcheck.outcomes.disturbance import TierVisits as TierVisits
from spotcheck.outcomes.disturbance import disturbance as disturbance
from spotcheck.outcomes.estimates import Estimate as Estimate
from spotcheck.outcomes.estimates import StratumCounts as StratumCounts
from spotcheck.outcomes.estimates import stratified as stratified
from spotcheck.outcomes.intervals import Interval as Interval
from spotcheck.outcomes.intervals import clopper_pearson as clopper_pearson
from spotcheck.outcomes.intervals import wilson as wilson
from spotcheck.outcomes.tables import OutcomeRow as OutcomeRow
from spotcheck.outcomes.tables import StratumOutcome as StratumOutcome
from spotcheck.outcomes.tables import outcome_rows as outcome_rows

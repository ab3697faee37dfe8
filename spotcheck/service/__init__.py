"""The service layer: every workflow of the command line, as typed functions a platform calls.

    from spotcheck.service import Workspace, verify
    ws = Workspace("sqlite:///bureau.db", actor="planning-office")
    ws.import_file("enterprises", "enterprises.csv")
    result = ws.plan("2026Q4", "plan-2026Q4.zip", seed="...")
    assert verify(result.out).ok

`Workspace` holds the database workflows (import, freeze, seed, plan, results, report,
log); the functions
here need no database (verify, explain, zip, keys, demo). Results are the dataclasses of
`spotcheck.service.results`, each with the `as_json()` that `--json` prints.
"""

from spotcheck.service.bundles import demo as demo
from spotcheck.service.bundles import explain as explain
from spotcheck.service.bundles import make_keys as make_keys
from spotcheck.service.bundles import verify as verify
from spotcheck.service.bundles import zip_bundle as zip_bundle
from spotcheck.service.progress import Progress as Progress
from spotcheck.service.report import ReportResult as ReportResult
from spotcheck.service.results import CeremonyStatus as CeremonyStatus
from spotcheck.service.results import DatabaseReady as DatabaseReady
from spotcheck.service.results import DemoOutcomes as DemoOutcomes
from spotcheck.service.results import DemoResult as DemoResult
from spotcheck.service.results import EventLog as EventLog
from spotcheck.service.results import Explanation as Explanation
from spotcheck.service.results import FreezeResult as FreezeResult
from spotcheck.service.results import ImportResult as ImportResult
from spotcheck.service.results import KeyPair as KeyPair
from spotcheck.service.results import LogCheck as LogCheck
from spotcheck.service.results import PlanResult as PlanResult
from spotcheck.service.results import SeedStep as SeedStep
from spotcheck.service.results import ZippedBundle as ZippedBundle
from spotcheck.service.workspace import Workspace as Workspace

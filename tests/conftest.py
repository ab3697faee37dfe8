"""Shared test set-up: Hypothesis profiles and the fixed scenarios most tests start from.

Profiles: `ci` is deterministic (derandomized, ~25 examples); `dev` explores ~100 random
examples. `HYPOTHESIS_PROFILE` picks one; otherwise `ci` when `CI` is set, else `dev`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from builders import Scenario, city

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "dev", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI")
                                                                else "dev"))


@pytest.fixture(scope="session")
def city_scenario() -> Scenario:
    """The fixed 90-enterprise scenario with tight capacity, a skip and a cooldown."""
    return city()


@pytest.fixture(scope="session")
def ample_city_scenario() -> Scenario:
    """The fixed scenario with capacity 1000 for every officer."""
    return city(capacity=1000)

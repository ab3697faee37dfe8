"""spotcheck's models: validated domain records (here) and database tables (`.tables`)."""

from spotcheck.models.domain import Conflict as Conflict
from spotcheck.models.domain import Enterprise as Enterprise
from spotcheck.models.domain import HistoryRecord as HistoryRecord
from spotcheck.models.domain import Inspector as Inspector

__all__ = ["Conflict", "Enterprise", "HistoryRecord", "Inspector"]

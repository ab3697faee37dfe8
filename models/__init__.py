"""spotcheck's models: validated domain records (here) and database tables (models.tables)."""

from .domain import Conflict as Conflict
from .domain import Enterprise as Enterprise
from .domain import HistoryRecord as HistoryRecord
from .domain import Inspector as Inspector

__all__ = ["Conflict", "Enterprise", "HistoryRecord", "Inspector"]

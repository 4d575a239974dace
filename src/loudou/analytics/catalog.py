"""Every report by name: the seven core reports and the management reports."""

from collections.abc import Callable

from .diagnosis import diagnosis
from .discipline import discipline
from .frames import PipelineData
from .insights import activities, collection, plan, stage_probability
from .params import ReportParams, ReportResult
from .reports import REPORTS

MANAGEMENT_REPORTS: dict[str, Callable[[PipelineData, ReportParams], ReportResult]] = {
    "stage_probability": stage_probability,
    "plan": plan,
    "diagnosis": diagnosis,
    "discipline": discipline,
    "collection": collection,
    "activities": activities,
}
CATALOG: dict[str, Callable[[PipelineData, ReportParams], ReportResult]] = {
    **REPORTS,
    **MANAGEMENT_REPORTS,
}

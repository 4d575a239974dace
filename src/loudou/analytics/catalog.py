"""Every report by name: the core reports and the management reports."""

from collections.abc import Callable

from .frames import PipelineData
from .insights import INSIGHTS
from .params import ReportParams, ReportResult
from .reports import REPORTS

CATALOG: dict[str, Callable[[PipelineData, ReportParams], ReportResult]] = {
    **REPORTS,
    **INSIGHTS,
}

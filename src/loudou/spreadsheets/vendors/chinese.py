"""Chinese CRMs' opportunity exports (销售易 Neocrm, 纷享销客 FxiaoKe, 悟空CRM): one file
(XLSX or CSV) with 商机名称, 客户名称, 销售阶段, 商机金额, 预计成交日期, 负责人, 创建时间,
赢率 …, and, when present, a stage-change record (商机编号 or 商机名称, 阶段, 变更时间,
操作人). 赢单 / 输单 (as a stage or a status) are the outcomes; times are in the
organisation's time zone."""

import polars as pl

from ..lookups import LOST_WORDS, WON_WORDS
from .source import DEAL_SCHEMA, HISTORY_SCHEMA, Columns, Export, Source, percent, read_frame

DEALS_FILES = "商机导出（商机名称、销售阶段 …）/ an opportunity export (商机名称, 销售阶段 …)"
STAGE = ("销售阶段", "商机阶段", "阶段")
IDS = ("商机编号", "商机ID", "商机id", "编号", "ID", "数据ID")
IGNORED = (
    "最后修改时间",
    "最后修改人",
    "最后跟进时间",
    "创建人",
    "销售流程",
    "业务类型",
    "商机类型",
    "备注",
    "锁定状态",
    "生命状态",
    "所属部门",
    "负责人所属部门",
    "预测金额",
    "阶段停留天数",
)
WON = sorted({*WON_WORDS, "已赢单", "已成交", "赢单"})
LOST = sorted({*LOST_WORDS, "已输单", "输单", "丢单", "无效"})


def read(export: Export, ignore: set[str]) -> Source | None:
    path = None
    for stage in STAGE:
        path = path or export.with_headers("商机名称", stage)
    if path is None:
        return None
    raw = read_frame(path)
    cols = Columns(path.name, raw, ignore)
    stage = cols.col("stage", *STAGE)
    status = cols.col("status", "商机状态", "状态", "结果", "赢单/输单").str.to_lowercase()
    said = pl.coalesce(status, stage.str.to_lowercase())
    won = said.is_in(WON)
    lost = said.is_in(LOST)
    deals = raw.select(
        row=pl.col("__row"),
        external_id=cols.col("external_id", *IDS),
        name=cols.col("name", "商机名称"),
        account=cols.col("account", "客户名称", "客户", "公司名称"),
        owner=cols.col("owner", "负责人", "负责人(主属)", "所有人", "销售负责人"),
        stage=stage,
        stage_order=pl.lit(None, pl.Float64),
        probability=percent(cols.col("probability", "赢率", "赢率(%)", "阶段赢率", "赢单率")),
        amount=cols.col("amount", "商机金额", "销售金额", "金额", "预计金额"),
        currency=cols.col("currency", "币种"),
        created_at=cols.col("created_at", "创建时间", "创建日期"),
        close_date=cols.col("close_date", "预计成交日期", "预计签单日期", "预计结单日期"),
        closed_at=cols.col("closed_at", "实际成交日期", "成交日期", "结单日期", "关闭时间"),
        closed=won | lost,
        won=won,
        source=cols.col("source", "商机来源", "来源", "线索来源"),
        lost_reason=cols.col("lost_reason", "输单原因", "输单原因描述"),
        last_changed_at=cols.col("last_changed_at", "阶段变更时间"),
        pipeline=cols.col("pipeline", "销售流程", "商机流程"),
    ).cast(DEAL_SCHEMA)
    cols.known(*IGNORED)
    source = Source(vendor="chinese", deals_file=path.name, deals=deals, files=[path.name])
    source.columns.append(cols.finish())
    history = export.with_headers("变更时间", skip=(path,))
    if history is not None:
        frame = read_frame(history)
        hcols = Columns(history.name, frame, ignore)
        source.history = frame.select(
            row=pl.col("__row"),
            external_id=hcols.col("external_id", *IDS),
            stage=hcols.col("stage", "变更后阶段", *STAGE),
            at=hcols.col("at", "变更时间"),
            by=hcols.col("by", "操作人", "变更人"),
            probability=pl.lit(None, pl.Float64),
        ).cast(HISTORY_SCHEMA)
        hcols.known("变更前阶段", "商机名称")
        source.history_file = history.name
        source.columns.append(hcols.finish())
        source.files.append(history.name)
    return source

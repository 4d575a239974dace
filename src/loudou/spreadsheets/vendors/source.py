"""What every vendor's reader gives the migration: the export's files (a zip or a folder),
read as frames of text, and normalised into one model (``Source``): deals, their stage
history, owners, accounts, contacts and activities, plus a report of every column of
every file (mapped, ignored, or unknown).

Nothing here knows a vendor; each vendor module (salesforce.py, hubspot.py, …) fills a
``Source`` from its own file names and headers."""

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.conf import settings

from ..columns import normalise
from ..reader import FileError, detect_encoding, read_table

# The normalised deal columns (all text but the flags), as vendor readers fill them.
DEAL_SCHEMA = {
    "row": pl.Int64,  # the row in its file, as a spreadsheet numbers it
    "external_id": pl.String,
    "name": pl.String,
    "account": pl.String,
    "owner": pl.String,  # the source's key of the owner (an id, an e-mail or a name)
    "stage": pl.String,  # the source's stage label
    "stage_order": pl.Float64,  # the stage's place in the source pipeline, when told
    "probability": pl.Float64,  # percent, 0 to 100, when told
    "amount": pl.String,
    "currency": pl.String,
    "created_at": pl.String,
    "close_date": pl.String,  # expected while open, the closing date once closed
    "closed_at": pl.String,  # the closing time, when the source tells it apart
    "closed": pl.Boolean,
    "won": pl.Boolean,
    "source": pl.String,
    "lost_reason": pl.String,
    "last_changed_at": pl.String,  # when the current stage was entered or the deal edited
    "pipeline": pl.String,  # the source's pipeline (HubSpot, Pipedrive …), when it has several
}
HISTORY_SCHEMA = {
    "row": pl.Int64,
    "external_id": pl.String,
    "stage": pl.String,
    "at": pl.String,
    "by": pl.String,
    "probability": pl.Float64,
}
CONTACT_ROLE_SCHEMA = {
    "row": pl.Int64,
    "external_id": pl.String,  # the deal's
    "contact": pl.String,  # the contact's key (its id in the source)
    "role": pl.String,
    "primary": pl.Boolean,
}
ACTIVITY_SCHEMA = {
    "row": pl.Int64,
    "external_id": pl.String,  # the deal's
    "type": pl.String,  # call, visit, meeting, email, wechat, note
    "at": pl.String,
    "note": pl.String,
    "by": pl.String,
}

# Headers that look like something a funnel needs: never dropped in silence.
_IMPORTANT = re.compile(
    r"stage|phase|status|owner|assigned|date|time|created|closed?|amount|value|revenue|"
    r"price|probability|阶段|状态|负责|所有人|日期|时间|金额|赢率|概率|成交|创建",
    re.IGNORECASE,
)


def looks_important(header: str) -> bool:
    """A header that names a stage, owner, date or amount (e.g. 'Stage__c', '签约日期')."""
    return bool(_IMPORTANT.search(header))


@dataclass
class SourceUser:
    """A user of the source CRM: its key (an id, or the name the export writes)."""

    key: str
    username: str = ""
    email: str = ""
    name: str = ""
    active: bool = True

    def labels(self) -> list[str]:
        return [x for x in (self.email, self.username, self.name, self.key) if x]


@dataclass
class FileColumns:
    """The columns of one file: which the migration reads (header -> what it holds),
    which it ignores (knowingly, or because the user said ``--ignore``), and the unknown
    ones that look important (the migration stops on them)."""

    file: str
    mapped: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass
class Source:
    """An export, normalised (see the module docstring). Times are text until the
    migration parses them: ``naive_tz`` is the zone of times written without one (UTC
    for Salesforce, whose exports are in UTC; the organisation's for the others)."""

    vendor: str
    deals_file: str
    deals: pl.DataFrame
    history_file: str = ""
    history: pl.DataFrame | None = None
    users: dict[str, SourceUser] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # id -> name
    # account, name, title, email, phone, and key: the contact's id, when the source has one
    contacts: list[dict[str, str]] = field(default_factory=list)
    # Salesforce's OpportunityContactRole: which contacts play which role in which deal.
    contact_roles_file: str = ""
    contact_roles: pl.DataFrame | None = None
    contact_roles_deleted: int = 0
    activities_file: str = ""
    activities: pl.DataFrame | None = None
    columns: list[FileColumns] = field(default_factory=list)
    naive_tz: str | None = None
    files: list[str] = field(default_factory=list)
    skipped: int = 0  # rows the source marks deleted, left out
    # Pipedrive: a closed deal keeps the open stage it closed from; no stage is an outcome.
    outcome_stages: bool = True
    # The order the export lists its stages in, when that hints at the pipeline's order
    # (HubSpot's "Date entered" columns): a tie-break, below the history (order.py).
    listed_stages: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# The export's files


class Export:
    """The files of an export (a folder, a zip, or one file), by lower-case name; a zip is
    unpacked into a temporary folder (bounded like workbooks: size, ratio, no paths
    leaving it), removed by ``close``."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        self._temporary: Path | None = None
        if not path.exists():
            raise FileError(f"找不到 {path}", f"no such file or folder: {path}")
        if path.is_dir():
            root = path
        elif zipfile.is_zipfile(path) and path.suffix.lower() not in (".xlsx", ".xlsm"):
            root = self._temporary = Path(tempfile.mkdtemp(prefix="loudou-export-"))
            _unzip(path, root)
        elif path.suffix.lower() == ".zip":
            raise FileError("压缩包无法读取", "the zip cannot be read")
        else:
            root = path.parent
            self.files = {path.name.lower(): path}
            return
        self.files = {}
        for item in sorted(root.rglob("*")):
            if item.is_file() and item.suffix.lower() in (".csv", ".xlsx", ".xls", ".txt"):
                self.files.setdefault(item.name.lower(), item)

    def unread(self, read: list[str]) -> list[str]:
        """The export's files the migration did not read (listed, never dropped in
        silence)."""
        taken = {name.lower() for name in read}
        return sorted(p.name for key, p in self.files.items() if key not in taken)

    def find(self, *names: str) -> Path | None:
        """The first file present among ``names`` (lower case, with or without suffix)."""
        for name in names:
            for candidate in (name, f"{name}.csv", f"{name}.xlsx"):
                if candidate.lower() in self.files:
                    return self.files[candidate.lower()]
        return None

    def with_headers(self, *needed: str, skip: tuple[Path, ...] = ()) -> Path | None:
        """The first file whose header holds every one of ``needed`` (exports named by date,
        like HubSpot's, are found by what they hold)."""
        wanted = {normalise(n) for n in needed}
        for path in self.files.values():
            if path in skip:
                continue
            try:
                header = read_header(path)
            except FileError:
                continue
            if wanted <= {normalise(h) for h in header}:
                return path
        return None

    def close(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unzip(path: Path, target: Path) -> None:
    limit = settings.LOUDOU_IMPORT_LIMITS["unpacked_bytes"]
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            total = sum(m.file_size for m in members)
            if total > limit or any(
                m.file_size > 100 * max(m.compress_size, 1) and m.file_size > 1 << 20
                for m in members
            ):
                raise FileError(
                    "压缩包解压后过大（或压缩比异常）", "the zip unpacks to too much data"
                )
            for member in members:
                name = Path(member.filename).name  # never a path outside the folder
                if not name or name.startswith("."):
                    continue
                with archive.open(member) as source, open(target / name, "wb") as out:
                    shutil.copyfileobj(source, out)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError("压缩包无法读取", f"the zip cannot be read ({exc})") from exc


def _bounded(path: Path, frame: pl.DataFrame) -> None:
    """The import's bounds on a file: rows and columns (workbooks are checked before
    they are read, by ``read_table``)."""
    limits = settings.LOUDOU_IMPORT_LIMITS
    if frame.height > limits["rows"] or frame.width > limits["columns"]:
        raise FileError(
            f"{path.name} 过大：最多 {limits['rows']} 行、{limits['columns']} 列",
            f"{path.name} is too large: at most {limits['rows']:,} rows and "
            f"{limits['columns']} columns",
        )


def read_header(path: Path) -> list[str]:
    table = read_table(path)
    header = [str(h) for h in table.header]
    close = getattr(table.rows, "close", None)
    if close is not None:
        close()  # the generator holds the file open
    return header


def read_frame(path: Path) -> pl.DataFrame:
    """A file as a frame of text (every column a string, the header as written), with
    ``__row``: the row number a spreadsheet shows. CSV through Polars (UTF-8 or GB18030);
    workbooks through the checked reader."""
    if path.suffix.lower() in (".csv", ".txt"):
        encoding = detect_encoding(path)
        data: bytes | Path = path
        if encoding not in ("utf-8", "utf-8-sig"):
            data = path.read_bytes().decode(encoding).encode("utf-8")
        try:
            frame = pl.read_csv(
                data,
                infer_schema=False,
                encoding="utf8-lossy",
                truncate_ragged_lines=True,
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise FileError(
                f"{path.name} 无法读取：引号不成对，或不是 CSV",
                f"{path.name} cannot be read: a quote is not closed, or it is not a CSV",
            ) from exc
        # Polars keeps a header's doubled quotes (HubSpot: Date entered ""X (P)"").
        frame = frame.rename({c: c.lstrip("\ufeff").replace('""', '"') for c in frame.columns})
        _bounded(path, frame)
        return frame.with_columns(__row=pl.int_range(2, frame.height + 2, dtype=pl.Int64))
    table = read_table(path)
    numbers, rows = [], []
    width = len(table.header)
    for number, row in table.rows:
        numbers.append(number)
        cells = [None if c is None or c == "" else str(c) for c in row[:width]]
        rows.append(cells + [None] * (width - len(cells)))
    header = [str(h) for h in table.header]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(header, pl.String), orient="row")
    return frame.with_columns(__row=pl.Series(numbers, dtype=pl.Int64))


class Columns:
    """Finding a file's columns by their names (case, spaces and underscores aside), and
    recording which were used, so the rest can be reported."""

    def __init__(self, file: str, frame: pl.DataFrame, ignore: set[str]) -> None:
        self.file = file
        self.frame = frame
        self.ignore = {normalise(i) for i in ignore}
        self.by_key = {normalise(c): c for c in frame.columns if c != "__row"}
        self.report = FileColumns(file)

    def find(self, meaning: str, *names: str) -> str | None:
        for name in names:
            header = self.by_key.get(normalise(name))
            if header is not None:
                self.report.mapped[header] = meaning
                return header
        return None

    def col(self, meaning: str, *names: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        header = self.find(meaning, *names)
        if header is None:
            return pl.lit(None, dtype=dtype).alias(meaning)
        expr = pl.col(header).str.strip_chars()
        expr = pl.when(expr == "").then(None).otherwise(expr)
        expr = expr if dtype == pl.String else expr.cast(dtype, strict=False)
        return expr.alias(meaning)

    def known(self, *headers: str) -> None:
        """Columns read knowingly as nothing (e.g. 'SystemModstamp'): listed as ignored."""
        keys = {normalise(h) for h in headers}
        for key, header in self.by_key.items():
            if key in keys and header not in self.report.mapped:
                self.report.ignored.append(header)

    def finish(self) -> FileColumns:
        """Every column not mapped: ignored if harmless or ``--ignore``d, unknown if it
        looks like a stage, owner, date or amount."""
        for key, header in self.by_key.items():
            if header in self.report.mapped or header in self.report.ignored:
                continue
            if key in self.ignore or not looks_important(header):
                self.report.ignored.append(header)
            else:
                self.report.unknown.append(header)
        return self.report


def flag(expr: pl.Expr) -> pl.Expr:
    """Salesforce's and others' booleans: true/false, 1/0, yes/no, 是/否."""
    text = expr.str.to_lowercase()
    return (
        pl.when(text.is_in(["true", "1", "yes", "y", "是"]))
        .then(True)
        .when(text.is_in(["false", "0", "no", "n", "否"]))
        .then(False)
        .otherwise(None)
    )


def percent(expr: pl.Expr) -> pl.Expr:
    """'25', '25%', '0.25' (a fraction when every value is ≤ 1 is not guessed: percent)."""
    return expr.str.replace_all(r"[%\s]", "").cast(pl.Float64, strict=False)


def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def fraction_to_percent(expr: pl.Expr) -> pl.Expr:
    """Probabilities written as fractions (HubSpot: 0.2) as percent; percent kept."""
    return pl.when(expr.max() <= 1).then(expr * 100).otherwise(expr)


def contacts_of(
    frame: pl.DataFrame, cols: "Columns", account: pl.Expr, name: pl.Expr
) -> list[dict[str, str]]:
    """Contacts (account name, name, title, e-mail, phone) of a contacts/persons file."""
    out = []
    for row in frame.select(
        account=account,
        name=name,
        title=cols.col("title", "Job Title", "Title", "职务", "职位"),
        email=cols.col("email", "Email", "Person - Email", "E-mail", "邮箱"),
        phone=cols.col(
            "phone", "Phone Number", "Phone", "Person - Phone", "Mobile", "手机", "电话"
        ),
    ).iter_rows(named=True):
        if row["account"] and row["name"]:
            out.append({k: (v or "") for k, v in row.items()})
    return out


def history_from_entered(
    raw: pl.DataFrame, cols: "Columns", external: pl.Expr, pattern: str
) -> tuple[pl.DataFrame, dict[str, int]]:
    """HubSpot-style 'Date entered "<stage> (<pipeline>)"' columns as history rows
    (external_id, stage, at), and each stage's place (the columns' order)."""
    parts, order = [], {}
    for header in raw.columns:
        match = re.match(pattern, header, re.IGNORECASE)
        if not match:
            continue
        label = match.group(1).strip().strip("'\"“”")
        label = re.sub(r"\s*\([^()]*\)$", "", label).strip()
        cols.report.mapped[header] = f"entered: {label}"
        order.setdefault(label, len(order) + 1)
        parts.append(
            raw.select(
                row=pl.col("__row"),
                external_id=external,
                stage=pl.lit(label),
                at=pl.col(header).str.strip_chars(),
                by=pl.lit(None, pl.String),
                probability=pl.lit(None, pl.Float64),
            ).filter(pl.col("at").is_not_null() & (pl.col("at") != ""))
        )
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=HISTORY_SCHEMA)
    return frame.cast(HISTORY_SCHEMA), order

"""Reading a CSV or XLSX file as a header and numbered rows, whatever its encoding."""

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineWorkbook


class FileError(ValueError):
    """The file as a whole cannot be read."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass
class Table:
    """``rows`` yields (row number as a spreadsheet shows it, cells); the header is row 1.
    ``done()`` tells how much of the file has been read, from 0 to 1."""

    header: list[str]
    rows: Iterator[tuple[int, list[object]]]
    encoding: str | None = None
    done: "Callable[[], float]" = lambda: 0.0


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it."""

    def __init__(self, raw: "io.BufferedReader") -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "bytearray | memoryview") -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else GB18030 (a superset of
    GBK, which Excel writes on Chinese Windows)."""
    with open(path, "rb") as handle:
        start = handle.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def read_table(path: Path) -> Table:
    path = Path(path)
    if not path.exists():
        raise FileError(f"找不到文件 {path}", f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _read_workbook(path)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path)
    raise FileError(
        f"不支持的文件类型 {suffix}（请用 .csv 或 .xlsx）",
        f"unsupported file type {suffix} (use .csv or .xlsx)",
    )


def _read_csv(path: Path) -> Table:
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as peek:
        sample = peek.read(64 * 1024)
    size = max(path.stat().st_size, 1)
    counter = _CountingReader(open(path, "rb"))  # noqa: SIM115 (closed by the generator)
    handle = io.TextIOWrapper(io.BufferedReader(counter), encoding=encoding, newline="")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise FileError("文件是空的", "the file is empty") from None

    def rows() -> Iterator[tuple[int, list[object]]]:
        with handle:
            for number, row in enumerate(reader, start=2):
                if "".join(row).strip():
                    yield number, list(row)

    return Table(header, rows(), encoding, lambda: min(1.0, counter.count / size))


def _read_workbook(path: Path) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for broken files
        raise FileError(f"无法读取表格文件：{exc}", f"cannot read the workbook: {exc}") from exc
    iterator = iter(sheet.iter_rows())
    total = max(getattr(sheet, "height", 0) or 0, 1)
    position = [0]
    try:
        header = [str(cell) for cell in next(iterator)]
    except StopIteration:
        raise FileError("工作表是空的", "the sheet is empty") from None

    def rows() -> Iterator[tuple[int, list[object]]]:
        for number, row in enumerate(iterator, start=2):
            position[0] = number
            if any(cell not in ("", None) for cell in row):
                yield number, list(row)

    return Table(header, rows(), None, lambda: min(1.0, position[0] / total))

"""Reading a CSV or XLSX file as a header and numbered rows, whatever its encoding."""

import codecs
import csv
import io
import re
import zipfile
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
    GBK, which Excel writes on Chinese Windows). A file that is text in neither, or that is
    mostly UTF-8 with a few lines in another encoding (rows pasted from elsewhere), is
    refused: read either way, some of its names would come out garbled."""
    with open(path, "rb") as handle:
        start = handle.read(1 << 16)
        if b"\x00" in start:
            raise FileError(
                "这不是文本文件（CSV 应为 UTF-8 或 GBK 编码的文本）",
                "this is not a text file (a CSV is text in UTF-8 or GBK)",
            )
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _not_utf8(path)
    return "utf-8"


def _not_utf8(path: Path) -> str:
    """GB18030 for a file whose non-ASCII lines are not UTF-8; a refusal naming the lines
    for a file mostly in UTF-8 (or in no encoding at all)."""
    good, bad = 0, []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                good += 1
            except UnicodeDecodeError:
                bad.append(number)
    if good and len(bad) <= good:
        shown = ", ".join(str(n) for n in bad[:10]) + (" …" if len(bad) > 10 else "")
        raise FileError(
            f"文件大部分是 UTF-8 编码，但第 {shown} 行不是（可能是从别处粘贴的 GBK 文字）；"
            "请把这些行改存为 UTF-8 后再导入",
            f"the file is mostly UTF-8, but line {shown} is not (text pasted from a GBK "
            "file?); save those lines as UTF-8 and import again",
        )
    try:
        with open(path, encoding="gb18030") as handle:
            while handle.read(1 << 20):
                pass
    except UnicodeDecodeError:
        raise FileError(
            "无法识别文件编码：既不是 UTF-8 也不是 GBK 文本",
            "cannot read the file: it is text in neither UTF-8 nor GBK",
        ) from None
    return "gb18030"


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
    # Only the delimiter (and spaces after it) is guessed; the quote is '"', as spreadsheet
    # programs write it. Cells an export quoted against formulas start with an apostrophe
    # ('=E1,'=1+1), which the guess took for a quote: a row's cells ran together.
    reader = csv.reader(
        handle,
        csv.excel,
        delimiter=dialect.delimiter,
        skipinitialspace=dialect.skipinitialspace,
    )
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise FileError("文件是空的", "the file is empty") from None
    except csv.Error as exc:
        handle.close()
        raise FileError(
            "标题行无法读取：单元格过长或引号不成对",
            "the header row cannot be read: a cell is too long or a quote is not closed",
        ) from exc

    def rows() -> Iterator[tuple[int, list[object]]]:
        with handle:
            number = 1
            try:
                for number, row in enumerate(reader, start=2):
                    if "".join(row).strip():
                        yield number, list(row)
            except csv.Error as exc:  # e.g. a cell over the 128 KiB field limit
                raise FileError(
                    f"第 {number + 1} 行无法读取：单元格过长或引号不成对",
                    f"row {number + 1} cannot be read: a cell is too long (over 128 KB) or "
                    "a quote is not closed",
                ) from exc

    return Table(header, rows(), encoding, lambda: min(1.0, counter.count / size))


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
# Columns of two or three letters (a sheet of up to 26 columns has none), and row numbers.
_WIDE_CELL = re.compile(rb' r="([A-Z]{2,3})\d+"')
_ROW = re.compile(rb'<(?:\w+:)?row r="(\d+)"')
_SHEET_TARGET = re.compile(rb'Target="/?(?:xl/)?(worksheets/[^"]+)"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose declared or real size is beyond the limits, before a reader
    allocates it: a 1.5 KB sheet claiming A1:XFD1048576 made the reader ask for 512 GiB.
    XLSX is a zip of XML: its uncompressed size and compression ratio are checked from the
    zip's directory, then the first sheet's declared dimension and every cell reference
    it holds (streamed, never held in memory)."""
    from django.conf import settings  # here: the CSV feeder child runs without Django

    limits = settings.LOUDOU_IMPORT_LIMITS
    if not zipfile.is_zipfile(path):
        return  # .xls (BIFF): its format caps it at 65,536 rows x 256 columns
    too_big = FileError(
        "表格文件过大或结构异常（行数、列数或解压后的大小超出限制），请另存为 CSV 或拆分后再导入",
        "the workbook is too large or malformed (rows, columns or unpacked size beyond the "
        "limits); save it as CSV or split it",
    )
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        if len(members) > 10_000 or unpacked > limits["unpacked_bytes"]:
            raise too_big
        for member in members:
            if member.file_size > (1 << 20) and member.file_size > 100 * max(
                member.compress_size, 1
            ):
                raise too_big  # a zip bomb: a megabyte of XML is never 100 times smaller
        names = {m.filename for m in members}
        sheet = "xl/worksheets/sheet1.xml"
        if "xl/_rels/workbook.xml.rels" in names:
            found = _SHEET_TARGET.search(archive.read("xl/_rels/workbook.xml.rels"))
            sheet = "xl/" + found.group(1).decode() if found else sheet
        if sheet not in names:
            return  # not an XLSX calamine reads as such; it will say so
        rows = columns = 0
        with archive.open(sheet) as stream:
            head = stream.read(1 << 16)
            declared = _DIMENSION.search(head)
            if declared:
                last_column, last_row = declared.group(3) or declared.group(1), declared.group(4)
                columns = _column_number(last_column)
                rows = int(last_row or declared.group(2))
            tail, chunk = b"", head
            while chunk:
                text = tail + chunk
                wide = set(_WIDE_CELL.findall(text))
                if wide:
                    columns = max(columns, *(_column_number(c) for c in wide))
                numbers = _ROW.findall(text)
                if numbers:
                    rows = max(rows, *map(int, numbers))
                if columns > limits["columns"] or rows > limits["rows"]:
                    raise too_big
                tail = chunk[-32:]  # a reference cut between two chunks
                chunk = stream.read(1 << 20)
        if columns > limits["columns"] or rows > limits["rows"] or rows * columns > limits["cells"]:
            raise too_big


def _read_workbook(path: Path) -> Table:
    check_workbook(path)
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

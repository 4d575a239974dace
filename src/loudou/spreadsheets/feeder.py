"""Reading a big CSV in a child process for the fast import path.

    python -m loudou.spreadsheets.feeder FILE WIDTH COLUMNS_JSON BATCH

The child reads and splits the file (Python's csv module: one core) and writes each batch
to its standard output as a Polars frame of text (Arrow IPC, length-prefixed), while the
importer checks and inserts the batch before on the other core. No Django here: the
child only reads the file.
"""

import io
import json
import struct
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl

HEADER = struct.Struct("<Qd")  # bytes of the frame that follows, share of the file read
FILE_ERROR = 3  # the child's exit status when the file cannot be read (reader.FileError)


def text_frame(
    rows: list[tuple[int, list[object]]], width: int, columns: dict[str, int | None]
) -> pl.DataFrame:
    """A batch of CSV rows as a frame of text: idx (position), number (the row number a
    spreadsheet shows), then each field of ``columns`` (field -> column index)."""
    data: dict[str, Any] = {"idx": range(len(rows)), "number": [n for n, _ in rows]}
    cells = [row for _, row in rows]
    if any(len(row) != width for row in cells):  # ragged CSV lines
        cells = [(row + [None] * width)[:width] for row in cells]
    by_column = list(zip(*cells, strict=True))
    absent = [None] * len(rows)
    for column, i in columns.items():
        data[column] = absent if i is None else by_column[i]
    schema = {"idx": pl.Int64, "number": pl.Int64} | {c: pl.String for c in columns}
    return pl.DataFrame(data, schema=schema)


class Feeder:
    """The child's batches, in file order; ``done`` is the share of the file read."""

    def __init__(self, path: Path, width: int, columns: dict[str, int | None], batch: int) -> None:
        self.done = 0.0
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "loudou.spreadsheets.feeder",
                str(path),
                str(width),
                json.dumps(columns),
                str(batch),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def __iter__(self) -> Iterator[pl.DataFrame]:
        stream = self.process.stdout
        while head := stream.read(HEADER.size):
            size, self.done = HEADER.unpack(head)
            yield pl.read_ipc_stream(io.BytesIO(stream.read(size)))
        code = self.process.wait()
        if code == FILE_ERROR:  # the file itself: the child said why, in both languages
            from .reader import FileError

            raise FileError(**json.loads(self.process.stderr.read()))
        if code != 0:
            raise RuntimeError(f"reading the file failed:\n{self.process.stderr.read().decode()}")

    def close(self) -> None:
        """Stop the child if the import ends early (an error, an exception)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdout, self.process.stderr):
            pipe.close()


def main(path: str, width: int, columns: dict[str, int | None], batch: int) -> None:
    from .reader import FileError, read_table

    out = sys.stdout.buffer
    try:
        table = read_table(Path(path))
        rows = iter(table.rows)
        while chunk := list(islice(rows, batch)):
            buffer = io.BytesIO()
            text_frame(chunk, width, columns).write_ipc_stream(buffer)
            out.write(HEADER.pack(buffer.tell(), table.done()))
            out.write(buffer.getvalue())
    except FileError as exc:
        out.flush()
        sys.stderr.write(json.dumps({"zh": exc.zh, "en": exc.en}))
        sys.exit(FILE_ERROR)
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]))

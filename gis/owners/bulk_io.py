"""Bulk locate's files: CSV, Arrow IPC streams and GeoParquet read in record batches from a
file on disk (an upload is spooled there first), and the answer written back batch by batch
in the same format, each batch's bytes handed on as soon as they are written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from gis.crs.systems import InputCRS, parse_crs
from gis.errors import InvalidCRS, InvalidInput, RowError
from gis.io.read import LAT_NAMES, LON_NAMES, _pick
from gis.owners.bulk import (
    Check,
    PointColumns,
    check_batches,
    locate_batches,
    owner_schema,
    refuse_clashes,
)
from gis.owners.extent import Extent
from gis.owners.index import OwnerIndex
from gis.owners.model import DEFAULT_TOLERANCE_M

Format = Literal["csv", "arrow", "parquet"]
MEDIA: dict[Format, str] = {
    "csv": "text/csv",
    "arrow": "application/vnd.apache.arrow.stream",
    "parquet": "application/vnd.apache.parquet",
}
ALIASES = {"application/x-parquet": "parquet", "application/octet-stream+parquet": "parquet"}
BATCH_ROWS = 1 << 17  # rows located at once: the owners index the points, so bigger is faster
BLOCK = 8 << 20  # bytes of CSV parsed at once
SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}


def format_of(media_type: str) -> Format | None:
    """The bulk format of a Content-Type (None: not a bulk body)."""
    media = media_type.split(";")[0].strip().lower()
    for fmt, name in MEDIA.items():
        if media == name:
            return fmt
    found = ALIASES.get(media)
    return "parquet" if found else None


def format_of_path(path: Path) -> Format:
    """The bulk format of a file by its suffix."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{path.name}: give a .csv, .arrow or .parquet file")
    return fmt


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of at least `rows` rows (the last may be smaller)."""
    held: list[pa.RecordBatch] = []
    count = 0
    for b in batches:
        held.append(b)
        count += b.num_rows
        if count >= rows:
            yield pa.Table.from_batches(held).combine_chunks().to_batches()[0]
            held, count = [], 0
    if count:
        yield pa.Table.from_batches(held).combine_chunks().to_batches()[0]


def _geo_crs(geo: dict[str, object], column: str) -> InputCRS | None:
    """The CRS a GeoParquet "geo" document gives `column` (None: OGC:CRS84, i.e. lon/lat)."""
    crs = ((geo.get("columns") or {}).get(column) or {}).get("crs")  # type: ignore[attr-defined]
    if crs is None:
        return None
    ident = crs.get("id", {}) if isinstance(crs, dict) else {}
    code = f"{ident.get('authority')}:{ident.get('code')}" if ident else str(crs)
    if code in ("OGC:CRS84", "EPSG:4326"):
        return None
    try:
        return parse_crs(code)
    except InvalidCRS as exc:
        raise InvalidInput(f"the GeoParquet geometry's CRS {code}: {exc}") from None


@dataclass
class BulkInput:
    """A file of points: its format, schema, where its points are and in which CRS."""

    path: Path
    format: Format
    schema: pa.Schema
    where: PointColumns
    crs: InputCRS | None  # what the file says (GeoParquet), None when it says nothing
    encoding: str = "utf8"
    unsplit: list[RowError] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "the CSV" if self.format == "csv" else f"the {self.format} file"

    def _csv(self, columns: list[str] | None, numbered: bool) -> Iterator[pa.RecordBatch]:
        def skip(row: pcsv.InvalidRow) -> str:
            line = row.number if row.number is not None else 0
            text = row.text if len(row.text) <= 60 else row.text[:57] + "..."
            why = f"{row.actual_columns} fields where the header has {row.expected_columns}"
            self.unsplit.append(RowError(line - 1, "(row)", text, why))
            return "skip"

        types = {n: pa.string() for n in self.schema.names}
        try:
            reader = pcsv.open_csv(
                self.path,
                read_options=pcsv.ReadOptions(
                    block_size=BLOCK, encoding=self.encoding, use_threads=not numbered
                ),
                parse_options=pcsv.ParseOptions(invalid_row_handler=skip if numbered else None),
                convert_options=pcsv.ConvertOptions(
                    column_types=types, include_columns=columns, strings_can_be_null=False
                ),
            )
            yield from reader
        except pa.ArrowInvalid as exc:
            raise InvalidInput(f"cannot read the CSV: {_arrow_reason(exc)}") from None

    def _batches(self, columns: list[str] | None, numbered: bool) -> Iterator[pa.RecordBatch]:
        if self.format == "csv":
            return self._csv(columns, numbered)
        if self.format == "parquet":
            return pq.ParquetFile(self.path).iter_batches(BATCH_ROWS, columns=columns)
        reader = pa.ipc.open_stream(pa.memory_map(str(self.path)))
        if columns is None:
            return iter(reader)
        return (b.select(columns) for b in reader)

    def check(self, crs: InputCRS, extent: Extent) -> Check:
        """Every row read (only the point columns) and checked; nothing answered yet."""
        self.unsplit = []
        batches = self._batches(self.where.names, numbered=True)
        return check_batches(batches, self.where, crs, extent, self.unsplit)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The whole rows, in batches of about BATCH_ROWS."""
        return _rebatch(self._batches(None, numbered=False), BATCH_ROWS)


def _arrow_reason(exc: Exception) -> str:
    text = str(exc)
    if "UTF8" in text or "UTF-8" in text:
        return "it is not UTF-8: give its encoding (text/csv; charset=GBK, or --encoding GBK)"
    return text.splitlines()[0][:200]


def _csv_header(path: Path, encoding: str) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig" if encoding == "utf8" else encoding) as f:
            first = f.readline()
    except (UnicodeDecodeError, LookupError) as exc:
        raise InvalidInput(f"cannot read the CSV's header as {encoding}: {exc}") from None
    if not first.strip():
        raise InvalidInput("the CSV is empty: send a header row (e.g. id,lon,lat) and rows")
    return next(csv.reader(io.StringIO(first)))


def open_input(
    path: Path,
    fmt: Format,
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
) -> BulkInput:
    """A BulkInput of the file at `path`: its columns read and its point columns found."""
    geo: dict[str, object] | None = None
    enc = (encoding or "utf8").lower().replace("utf-8", "utf8")
    try:
        if fmt == "csv":
            schema = pa.schema([(n, pa.string()) for n in _csv_header(path, enc)])
        elif fmt == "parquet":
            schema = pq.read_schema(path)
        else:
            with pa.ipc.open_stream(pa.memory_map(str(path))) as r:
                schema = r.schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read the {fmt} body: {_arrow_reason(exc)}") from None
    meta = schema.metadata or {}
    if b"geo" in meta:
        geo = json.loads(meta[b"geo"])
    columns = list(schema.names)
    refuse_clashes(columns, f"the {fmt} file")
    geometry = None
    if geo is not None and lon_col is None:
        geometry = str(geo.get("primary_column", "geometry"))
    else:
        for f in schema:
            ext = (f.metadata or {}).get(b"ARROW:extension:name", b"")
            if ext == b"geoarrow.wkb" and lon_col is None:
                geometry = f.name
    if geometry is not None:
        if geometry not in columns:
            raise InvalidInput(f"the geometry column {geometry!r} is not in the file")
        where = PointColumns(geometry=geometry)
        crs = _geo_crs(geo or {}, geometry)
    else:
        where = PointColumns(
            _pick(columns, lon_col, LON_NAMES, "longitude"),
            _pick(columns, lat_col, LAT_NAMES, "latitude"),
        )
        crs = None
    return BulkInput(path, fmt, schema, where, crs, enc)


class Drain:
    """A file object that keeps what is written until it is taken (an HTTP chunk)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False
        self.pos = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.pos += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        self.closed = True

    def take(self, size: int = 4 << 20) -> list[bytes]:
        """What was written since the last take, in pieces of about `size` bytes."""
        out: list[bytes] = []
        held: list[bytes] = []
        count = 0
        for part in self.parts:
            held.append(part)
            count += len(part)
            if count >= size:
                out.append(b"".join(held))
                held, count = [], 0
        if held:
            out.append(b"".join(held))
        self.parts = []
        return out


def _plain(t: pa.DataType) -> pa.DataType:
    return t.value_type if pa.types.is_dictionary(t) else t


def _decoded(col: pa.Array) -> pa.Array:
    if isinstance(col, pa.DictionaryArray):
        return pc.take(col.dictionary, col.indices)
    return col


class BatchWriter:
    """Writes the answer in `fmt`, batch by batch: each write returns the bytes it made."""

    def __init__(self, fmt: Format, schema: pa.Schema) -> None:
        self.drain = Drain()
        sink = pa.PythonFile(self.drain, mode="w")
        self.schema = owner_schema(schema)
        self.writer: pcsv.CSVWriter | pa.ipc.RecordBatchStreamWriter | pq.ParquetWriter
        self.plain = fmt == "csv"  # pyarrow writes dictionaries as CSV 5x slower than strings
        if self.plain:
            self.schema = pa.schema(
                [pa.field(f.name, _plain(f.type)) for f in self.schema], self.schema.metadata
            )
            options = pcsv.WriteOptions(quoting_style="needed")
            self.writer = pcsv.CSVWriter(sink, self.schema, write_options=options)
        elif fmt == "arrow":
            self.writer = pa.ipc.new_stream(sink, self.schema)
        else:
            self.writer = pq.ParquetWriter(sink, self.schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> list[bytes]:
        if self.plain:
            arrays = [_decoded(c) for c in batch.columns]
            batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if isinstance(self.writer, pq.ParquetWriter):
            self.writer.write_batch(batch, row_group_size=batch.num_rows)
        else:
            self.writer.write_batch(batch)
        return self.drain.take()  # the header too, the first time

    def close(self) -> list[bytes]:
        self.writer.close()
        return self.drain.take()


def answer(
    inp: BulkInput,
    index: OwnerIndex,
    crs: InputCRS,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    seen: Callable[[pa.RecordBatch], None] | None = None,
) -> Iterator[bytes]:
    """The located file's bytes, batch by batch, in the input's format. A batch is written
    (in a second thread) while the next is located: encoding the answer costs about as
    much as locating it."""
    writer = BatchWriter(inp.format, inp.schema)
    with ThreadPoolExecutor(1) as pool:
        pending: Future[list[bytes]] | None = None
        for batch in locate_batches(inp.batches(), index, inp.where, crs, tolerance_m):
            if pending is not None:
                yield from pending.result()
            pending = pool.submit(writer.write, batch)
            if seen is not None:
                seen(batch)
        if pending is not None:
            yield from pending.result()
    yield from writer.close()

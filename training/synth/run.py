"""Generating a whole district into a directory, chunk after chunk, and summarising it."""
import datetime
import sys
import time
from dataclasses import dataclass

import numpy as np

from app.config import Config

from . import district
from .generator import Chunk, simulate
from .mess import add_mess
from .textfmt import table_text
from .timeline import Timeline
from .writer import ExportWriter

CHUNK_SIZE = 20_000


@dataclass(frozen=True)
class Settings:
    """What to generate (the command's options)."""

    out: str
    firms: int
    seed: int
    months: int = 36
    end: str = "2026-09"
    default_rate: float = 0.05
    region: str = Config.REGION_CODE
    chunk_size: int = CHUNK_SIZE


def _file_name(writer, schema, year, timeline):
    if schema.name == "registration":
        return f"{schema.file_prefix}_{timeline.end.replace('-', '')}.csv"
    if schema.name == "tax_grade":
        return writer.excel_name(f"{schema.file_prefix}_{year}")
    return f"{schema.file_prefix}_{year}.csv"


def _write_table(writer, table, text, defect, timeline, name_of):
    found = []
    for year in np.unique(table.year):
        rows = table.year == year
        found += writer.write(table.source, {k: v[rows] for k, v in text.items()}, defect[rows],
                              name_of(table.schema, int(year)))
    return found


def write_chunk(writer, result, chunk, timeline, region_code):
    """Add one chunk's tables (with their mess), corrections and truth rows to the district."""
    rng = chunk.rng("mess")
    defects = []
    for table in result.tables:
        if not len(table):
            continue
        text, defect, order = add_mess(rng, table, table_text(table, timeline), region_code,
                                       invalid=table.source != "registration")
        defects += _write_table(writer, table.take(order), text, defect, timeline,
                                lambda schema, year: _file_name(writer, schema, year, timeline))
    fixed = result.corrections
    if len(fixed):
        _write_table(writer, fixed, table_text(fixed, timeline), np.full(len(fixed), ""), timeline,
                     lambda schema, year: f"{schema.file_prefix}_更正_{year}.csv")
        writer.rows["tax_filing_corrections"] += len(fixed)
    writer.append_truth("loans.csv", result.truth_loans)
    writer.append_truth("firms.csv", result.truth_firms)
    if defects:
        files, lines, kinds = zip(*defects, strict=True)
        writer.append_truth("defects.csv", {"file": np.array(files), "line": np.array(lines),
                                            "defect": np.array(kinds)})


def generate(settings, log=sys.stderr):
    """Write the district described by `settings`; return the summary."""
    started = time.perf_counter()
    timeline = Timeline(settings.end, settings.months)
    region = district.load(settings.region)
    writer = ExportWriter(settings.out)
    writer.rows["tax_filing_corrections"] = 0
    intercept, loans, defaults = None, 0, 0
    for index, start in enumerate(range(0, settings.firms, settings.chunk_size)):
        gidx = np.arange(start, min(start + settings.chunk_size, settings.firms))
        chunk = Chunk(settings.seed, index, gidx)
        result = simulate(chunk, region, timeline, intercept, settings.default_rate)
        intercept = result.intercept
        write_chunk(writer, result, chunk, timeline, region.code)
        loans += len(result.truth_loans["defaulted"])
        defaults += int(result.truth_loans["defaulted"].sum())
        print(f"chunk {index}: {gidx[-1] + 1} firms, {time.perf_counter() - started:.1f} s", file=log, flush=True)
    created = datetime.datetime(*map(int, settings.end.split("-")), 28)
    files = writer.close(created)
    return {"firms": settings.firms, "seed": settings.seed, "months": settings.months, "end": settings.end,
            "files": len(files), "rows": dict(writer.rows), "loans": loans, "defaulted": defaults,
            "default_rate": round(defaults / max(loans, 1), 4), "seconds": round(time.perf_counter() - started, 1)}

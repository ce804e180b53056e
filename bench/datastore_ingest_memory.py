"""Peak memory of a CSV ingest must not grow with the file: 1M vs 5M generated rows, each in a fresh process.

Run: ``.venv/bin/python bench/datastore_ingest_memory.py [--memory-limit 256MB] [rows ...]``. Prints rows, file size,
seconds and peak RSS (``resource.getrusage`` of the child). Peak RSS is bounded by DuckDB's ``memory_limit`` plus
the interpreter (~110 MB), whatever the file size: with 256MB both runs peak near 260 MB. The file mixes the hard cases: decimal comma, thousands separators, codes
with leading zeros, dd/mm/yyyy dates, a null marker and Windows-1252 text (so the streaming transcoder runs too).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from citycommons.datastore import DatastoreConfig, ingest_file
root, source = Path(sys.argv[1]), Path(sys.argv[2])
config = DatastoreConfig(root=root, max_file_bytes=10**12, memory_limit=sys.argv[3])
started = time.monotonic()
result = ingest_file(config=config, table_id="bench", source=source, filename=source.name)
print(json.dumps({
    "rows": result.report.rows,
    "seconds": round(time.monotonic() - started, 2),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "types": {f.name: f.type for f in result.table_schema.fields},
}))
"""


def generate(path: Path, rows: int) -> None:
    names = ["Gràcia", "Sant Martí", "Eixample", "Sarrià-Sant Gervasi", "Nou Barris"]
    with path.open("w", encoding="cp1252", newline="") as fh:
        fh.write("id;codi;barri;data;valor;poblacio;nota\r\n")
        for i in range(rows):
            valor = ".." if i % 97 == 0 else f"{i % 1000},{i % 100:02d}"
            fh.write(
                f"{i};{i % 1000:03d};{names[i % 5]};{1 + i % 28:02d}/{1 + i % 12:02d}/20{i % 25:02d};"
                f'{valor};{i % 900 + 100}.{i % 1000:03d};"text {i}"\r\n'
            )


def main(sizes: list[int], memory_limit: str) -> None:
    print(f"DuckDB memory_limit={memory_limit}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            source = Path(tmp) / f"bench-{rows}.csv"
            t0 = time.monotonic()
            generate(source, rows)
            made = time.monotonic() - t0
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(Path(tmp) / f"store-{rows}"), str(source), memory_limit],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            size_mb = source.stat().st_size / 1e6
            print(
                f"{rows:>9,} rows  {size_mb:7.1f} MB  generated {made:5.1f} s  ingest {figures['seconds']:6.1f} s "
                f"({size_mb / max(figures['seconds'], 0.01):5.1f} MB/s)  peak RSS {figures['peak_rss_mb']:7.1f} MB"
            )
            source.unlink()
        print("types:", figures["types"])


if __name__ == "__main__":
    args = sys.argv[1:]
    limit = "256MB"
    if args[:1] == ["--memory-limit"]:
        limit, args = args[1], args[2:]
    main([int(a) for a in args] or [1_000_000, 5_000_000], limit)

"""Appends batches forever, one append per event, one transaction per batch; killed by test_service.

Usage: crash_writer.py DATA_DIR BATCH (the SQLite database of ``Settings(data_dir=DATA_DIR)``). Prints
``inside`` once a batch's first entry is written (its transaction still open) and ``committed <size>`` after
each commit.
"""

from __future__ import annotations

import sys
from itertools import count
from pathlib import Path

from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.ledger import service
from citycommons.settings import Settings
from tests.ledger.factories import event


def main(data_dir: str, batch: int) -> None:
    factory = make_sessionmaker(make_engine(Settings(environment="test", data_dir=Path(data_dir))))
    numbers = count()
    while True:
        with unit_of_work(factory) as session:
            for n in range(batch):
                service.append(session=session, event=event(next(numbers)))
                if n == 0:
                    print("inside", flush=True)
            size = service.current_size(session=session)
        print(f"committed {size}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

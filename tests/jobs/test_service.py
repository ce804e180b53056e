"""Scheduling inside a transaction, dispatch only after commit, supersession, the atomic claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from citycommons.actor import SYSTEM
from citycommons.catalog import distributions
from citycommons.catalog.schemas import DistributionCreate, DistributionPatch, Upload
from citycommons.datastore import status
from citycommons.datastore.jobs import tabular_format
from citycommons.jobs import service
from citycommons.jobs.backends.inprocess import InProcessBackend
from citycommons.jobs.models import Job
from tests import factories
from tests.jobs.helpers import SMALL_CSV, job_settings


class Recorder:
    """A backend that records what it is handed (the real ones are tested end to end elsewhere)."""

    def __init__(self) -> None:
        self.dispatched: list[str] = []

    def dispatch(self, job_ids: list[str]) -> None:
        self.dispatched.extend(job_ids)

    def start(self) -> None: ...

    def stop(self) -> None: ...


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path)


@pytest.fixture
def recorder(sessionmaker) -> Recorder:  # type: ignore[no-untyped-def]
    backend = Recorder()
    service.bind(sessionmaker, backend)
    return backend


def _upload(tmp_path: Path, name: str = "data.csv", content: bytes = SMALL_CSV) -> Upload:
    path = tmp_path / f"spool-{name}"
    path.write_bytes(content)
    return Upload(filename=name, path=str(path))


def _dataset(uow) -> str:  # type: ignore[no-untyped-def]
    with uow() as session:
        factories.make_org(session, "environment")
        return factories.make_dataset(session, "air", distributions=[]).id


def _jobs(sessionmaker) -> list[Job]:  # type: ignore[no-untyped-def]
    with sessionmaker() as session:
        return list(session.scalars(select(Job).order_by(Job.created_at)))


def test_a_rolled_back_request_starts_no_job(sessionmaker, uow, settings, recorder, tmp_path, engine_kind):
    dataset_id = _dataset(uow)
    with sessionmaker() as session:
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                    data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
        assert dist.ingest is not None and dist.ingest.status == "queued"
        assert service.pending(session) == [dist.ingest.id]
        session.rollback()
        assert service.pending(session) == []
        session.commit()  # a later commit of the same session dispatches nothing either
    assert recorder.dispatched == [] and _jobs(sessionmaker) == []
    with sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_committed_request_dispatches_its_job_once(sessionmaker, uow, settings, recorder, tmp_path):
    dataset_id = _dataset(uow)
    with uow() as session:
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                    data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
    assert dist.ingest is not None
    assert recorder.dispatched == [dist.ingest.id]
    with sessionmaker() as session:
        session.commit()
    assert recorder.dispatched == [dist.ingest.id]


def test_a_newer_upload_supersedes_a_queued_job_and_runs_once(sessionmaker, uow, settings, recorder, tmp_path):
    dataset_id = _dataset(uow)
    with uow() as session:
        first = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                     data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
    with uow() as session:
        second = distributions.patch(session=session, actor=SYSTEM, settings=settings, distribution_id=first.id,
                                     data=DistributionPatch(), upload=_upload(tmp_path, "b.csv",
                                     b"district,value\nGracia,1\n"))  # fmt: skip
    assert first.ingest and second.ingest and first.ingest.id != second.ingest.id
    old, new = _jobs(sessionmaker)
    assert old.status == "superseded" and new.id in old.message and new.status == "queued"
    assert service.execute(settings=settings, factory=sessionmaker, job_id=old.id) is None  # not claimable
    done = service.execute(settings=settings, factory=sessionmaker, job_id=new.id)
    assert done is not None and done.status == "succeeded" and done.version == 1 and done.result["rows"] == 1
    assert service.execute(settings=settings, factory=sessionmaker, job_id=new.id) is None  # idempotent
    with sessionmaker() as session:
        assert status.is_active(session, first.id)
        latest = status.latest_job(session, first.id)
        assert latest is not None and latest.id == new.id and latest.status == "succeeded"
        assert [j.id for j in status.jobs_of(session, first.id)] == [new.id, old.id]


def test_a_job_whose_file_changed_since_scheduling_is_superseded(sessionmaker, uow, settings, tmp_path):
    dataset_id = _dataset(uow)
    with uow() as session:  # no backend bound: the job waits, queued
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                    data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
    assert dist.ingest is not None
    with uow() as session:  # the newer file's job was lost (e.g. dispatched to a dead worker); the old one runs
        distributions.patch(session=session, actor=SYSTEM, settings=settings, distribution_id=dist.id,
                            data=DistributionPatch(), upload=_upload(tmp_path, "c.csv"))  # fmt: skip
        session.execute(update(Job).where(Job.id == dist.ingest.id).values(status="queued"))
    done = service.execute(settings=settings, factory=sessionmaker, job_id=dist.ingest.id)
    assert done is not None and done.status == "superseded" and "changed" in done.message


def test_the_inprocess_worker_picks_up_queued_jobs_from_other_processes(sessionmaker, uow, settings, tmp_path):
    dataset_id = _dataset(uow)
    with uow() as session:
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                    data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
    backend = InProcessBackend(settings=settings, factory=sessionmaker, workers=2, poll_seconds=0.05)
    backend.start()
    try:
        import time

        deadline = time.monotonic() + 20
        while not _jobs(sessionmaker)[0].finished_at:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        backend.stop()
    assert not backend.running
    (job,) = _jobs(sessionmaker)
    assert job.status == "succeeded" and job.started_at and job.finished_at and job.requested_by is None
    assert dist.id == job.target


@pytest.mark.parametrize(
    ("declared", "filename", "expected"),
    [
        ("CSV", "x.bin", "csv"),
        ("text/csv", "x", "csv"),
        ("", "data.GeoJSON", "geojson"),
        ("XLSX", "", "xlsx"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "x", "xlsx"),
        ("", "rows.jsonl", "jsonl"),
        ("PARQUET", "", "parquet"),
        ("PDF", "report.pdf", None),
        ("", "archive.zip", None),
        ("XLS", "old.xls", None),
    ],
)
def test_which_distributions_are_tabular(declared: str, filename: str, expected: str | None) -> None:
    assert tabular_format(declared_format=declared, filename=filename) == expected


def test_a_job_whose_worker_died_is_queued_again_and_runs(sessionmaker, uow, settings, tmp_path):
    from datetime import timedelta

    from citycommons.db.base import utcnow

    dataset_id = _dataset(uow)
    with uow() as session:
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset=dataset_id,
                                    data=DistributionCreate(), upload=_upload(tmp_path))  # fmt: skip
    assert dist.ingest is not None
    assert service.claim(factory=sessionmaker, job_id=dist.ingest.id)  # a worker claims it, then its process dies
    assert service.requeue_stale(factory=sessionmaker) == []  # still beating, as far as anyone knows
    with uow() as session:
        session.execute(update(Job).values(updated_at=utcnow() - timedelta(minutes=10)))
    assert service.requeue_stale(factory=sessionmaker) == [dist.ingest.id]
    backend = InProcessBackend(settings=settings, factory=sessionmaker)
    assert backend.drain() == 1
    (job,) = _jobs(sessionmaker)
    assert job.status == "succeeded" and job.version == 1

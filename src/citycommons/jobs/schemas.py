"""What the job API and pages show of a job (ORM rows never leave the services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "superseded"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "superseded"})


class JobSummary(BaseModel):
    """The state of a job, as embedded in a distribution."""

    id: str
    kind: str
    status: JobStatus
    stage: str = Field(description="What the job is doing: queued, downloading, reading, writing, done...")
    progress_done: int = Field(description="Bytes processed so far (or the stage's own unit).")
    progress_total: int | None = Field(description="Bytes to process, when known.")
    message: str = Field(description="For a failed job, the precise reason; otherwise a short note.")
    version: int | None = Field(description="The datastore version produced by a successful ingest.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        if self.status == "succeeded":
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, int(100 * self.progress_done / self.progress_total)))


class JobRead(JobSummary):
    """A job with its input, its result and, for a failed job, the errors per field (as the API's ``fields``)."""

    target: str = Field(description="The id of the object the job works on (the distribution for an ingest).")
    error_fields: dict[str, list[str]]
    result: dict[str, Any] = Field(
        description="What a successful job produced; an ingest: rows, columns (name, type), quarantined rows..."
    )
    requested_by: str | None = Field(description="The user who caused the job (shown to the dataset's editors).")
    updated_at: datetime

"""Background jobs: rows in the metadata database (``job``), run by an in-process worker or a Redis (rq) queue.

A service schedules a job inside the request's transaction (``service.schedule``); the job is handed to the
backend only after that transaction commits (``service.dispatch_after_commit``), so a rolled-back request starts
nothing. A job takes ids, opens its own sessions and is idempotent: only a ``queued`` job can be claimed, once.
"""

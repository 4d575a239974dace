"""Tasks used by the tests of the queue (module-level, as django-tasks requires)."""

from django_tasks import task

CALLS: list[object] = []


@task()
def record(value: object = None, due: str | None = None) -> str:
    CALLS.append(due if due is not None else value)
    return "ok"


@task()
def explode() -> None:
    raise RuntimeError("boom")

"""Background work: django-tasks' database queue, schedules (croniter), the worker.

Tasks are django-tasks ``@task`` functions in the apps that need them, enqueued with
``task.enqueue()`` or, from inside a use case, ``queue.enqueue_on_commit()``. Schedules
(``schedules.Schedule``, registered from each app's ``schedules.py``) enqueue a task when
their cron expression comes due. ``loudou worker`` runs both in one process.
"""

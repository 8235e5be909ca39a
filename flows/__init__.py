"""Prefect flows: thin orchestration of the tasks in ``tasks/``; no SQL, no template, no rule here."""

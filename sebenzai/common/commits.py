"""Commits that need not wait for the disk."""

from django.db import connection


def commit_without_flush_wait() -> None:
    """This transaction's commit returns before its WAL reaches the disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only). Only for work that can be done
    again from what is already durable: a crash of the database server within a fraction of a
    second of the commit can lose it, never corrupt anything. Scoring is such work: the answers
    it reads were committed durably, and a lost scoring leaves them pending for the sweeper to
    send again. No-op on other databases, and outside a transaction."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")

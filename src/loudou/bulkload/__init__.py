"""Bulk loads: the machinery, not the domain.

- ``sql``: multi-row INSERTs, id reservation, column adapters (the only bulk SQL that
  differs between SQLite and PostgreSQL);
- ``writer``: a thread that runs inserts on the load's own connection, inside its one
  transaction, while the caller prepares the next batch; it owns that connection's
  hand-over, so callers just use the database;
- ``indexes``: secondary indexes dropped for a big SQLite load and rebuilt at its end.

Nothing here knows about deals: ``deals.bulk`` decides what to write.
"""

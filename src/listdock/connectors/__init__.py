"""Data sources: engines, discovery of tables and views, queries and output formats.

Modules, from the bottom up:

- ``types``: the field types listdock exposes and the discovered table metadata.
- ``engines``: SQLAlchemy engines for SQLite, PostgreSQL and MySQL/MariaDB sources, a
  connection check with plain-language errors, and a thread-safe engine cache.
- ``discovery``: tables and views of a source with their columns and keys.
- ``values``: conversion of request values (JSON or query-string text) to field types.
- ``query``: restrictions, ordering and paging compiled to SQLAlchemy Core, and streaming.
- ``formats``: JSON, CSV, XML and XLSX renderers that yield chunks of about 64 KB.
"""

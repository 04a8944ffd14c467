"""PCN desk data layer: enquiry log, tickets and desk users.

* ``core.settings``    – ``PCN_DATABASE_URL`` / ``PCN_SPOOL_DIR`` (read on every call)
* ``db.session``       – engine cache per URL, ``session_scope()``
* ``db.models``        – SQLAlchemy models (the six tables of docs/ARCHITECTURE.md)
* ``db.repositories``  – ``enquiries`` and ``tickets`` repository functions
* ``db.spool``         – local JSON-lines spool for tickets when the database is down
* ``db.vocabularies``  – code checks against content/vocabularies.yml, ``bilan_group(iso2)``
* ``db.migrate``       – Alembic, programmatically (``python -m db upgrade``)

Importing ``db`` is cheap: nothing connects to a database at import time.
"""

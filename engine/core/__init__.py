"""The engine's foundation (基础): configuration, the database and its tables, errors, the injected clock, one
transaction per service call, the audit log, the schema migrations and the vocabulary of codes with their
Chinese labels.

It may import no other package of the engine: everything else builds on it.
"""

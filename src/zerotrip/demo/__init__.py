"""demo: builders that fill a database with a synthetic but plausible Zhejiang, shared by tests and the seed.

Owns the demo organisation tree (the province, its 11 cities and 90 county-level divisions, and twelve
departments in each), a synthetic population (households with spouses, children, newborns and elderly
parents, resident ID numbers that pass GB 11643), enterprises with valid credit codes, staff in every
department, and the demo logins printed by ``zerotrip demo``.

Invariants: everything is derived from a seed and a fixed reference date, never from the wall clock or
the global random state, so the same seed gives the same people; names are generated from character lists
and never taken from real people. Every row goes through the identity actions, so demo data passes the same
validation and authorisation as real data. Builders never commit: the CLI or the test owns the transaction.
"""

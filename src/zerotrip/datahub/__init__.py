"""datahub: the public data platform (公共数据平台).

Owns the catalogue of data resources (owner department, fields with types and grades, share and open
types), aggregation of records from files and API pushes with validation and quality rules,
system-versioned records (ADR 0001: each record's current state, whose change numbers are the cursor of
the change feed for return to lower levels, and a history of the states changes replaced), share requests
and grants, the one gateway through which every consumer reads shared data, open data, objections, and the
citizen's data-use log.

Invariants: every successful read of personal data through the gateway writes exactly one audit event per
subject, in the same transaction; a field's grade bounds how it may be shared and opened (L4 is never
shared or opened); consumers, including zerotrip's own services and booking contexts, are API clients
with grants, never special cases. It may use identity and audit, and must not import other contexts.
"""

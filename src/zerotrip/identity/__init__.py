"""identity: who is who, and who may do what.

Owns natural persons (validated resident ID numbers), enterprises (validated credit codes), the organisation
tree (province → city → county → department, with GB/T 2260 division codes), staff memberships with roles
scoped to an org subtree, accounts and web sessions, and API clients with OAuth2 client credentials.

Invariants: a person's birth date and sex always agree with their resident ID number; a membership's
``org_path`` is its organisation's materialised path, so "everyone under this unit" is one indexed prefix
scan (it must hold 1.21 million staff); passwords and secrets are stored only as argon2id or SHA-256 hashes.
It must not import any context other than audit, and never commits: the edge owns the transaction.
"""

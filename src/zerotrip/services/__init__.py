"""services: the one-stop portal (政务服务事项, the service guide, trip counting; later applications,
workflow, instant approval, bundles).

Owns the catalogue of service items: what each item is, its implementing department and level, legal basis,
conditions, time limits, fee and channels, the materials it asks for with the source that replaces each
paper (an e-certificate type, a datahub query or "exists?" fact, a commitment, an earlier item's result, an
upload, or an on-site check), and its steps. ``trips.py`` computes an item's trip count from these and
analyses a whole catalogue; ``catalogue_csv.py`` reads and writes catalogues as CSV for the CLI.

Invariants: a trip count is never stored or typed in, only computed from what the item asks for, so it
changes exactly when that does; every definition and revision is kept as a version with an audit event in
the same transaction; a datahub source names a catalogued resource and its fields. It may use datahub,
certificates and messaging through their actions, queries, schemas and errors (certificate types are kept
as codes), and identity and audit; it must not import booking or web.
"""

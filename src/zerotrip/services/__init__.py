"""services: the one-stop portal (政务服务事项, the service guide, trip counting, applications with their
evidence, instant approval, the staff workflow with deadlines and supplements, ratings).

Owns the catalogue of service items: what each item is, its implementing department and level, legal basis,
conditions, time limits, fee and channels, the materials it asks for with the source that replaces each
paper (an e-certificate type, a datahub query or "exists?" fact, a commitment, an earlier item's result, an
upload, or an on-site check), and its steps. ``trips.py`` computes an item's trip count from these and
analyses a whole catalogue; ``catalogue_csv.py`` reads and writes catalogues as CSV for the CLI.

Applications (``applying.py``, with what they share in ``applications.py``): a citizen's draft copies the
item's materials; ``evidence.py`` reads the datahub materials through the gateway as the one-stop service
platform (an API client with grants, never a special case), after the applicant saw what will be read and
consented; ``wallet_evidence.py`` takes an e-certificate material's certificate from the applicant's own
wallet on consent (a use grant and use through certificates, verified online); declined materials, and
certificates the applicant lacks, are uploaded (``uploads.py``, files in the data directory). ``rules.py``
(pure) judges an instantly approvable item's versioned rules on the fetched evidence (``instant.py``); when
they all pass the decision letter is issued through certificates.

The staff workflow: ``workflow.py`` (pure) is the table of moves by status and step and the clock;
``routing.py`` sends an application to the applicant's county office and names the office above;
``reviewing.py`` holds the reviewers' moves and the escalation of overdue applications,
``supplements.py`` the applicant's answers to a supplement request, ``ratings.py`` ratings and their
rectification; ``workflow_queries.py`` the queues.

Bundles (一件事, ``bundle_*.py`` and ``bundles.py``): a life event's items of several departments applied
for once. ``bundle_catalogue.py`` defines them; ``bundles.py`` opens an ordinary application of every
part; ``bundle_evidence.py`` reads each shared source once, with one consent, for all parts;
``bundle_progress.py`` pushes each part's result to the parts that need it and starts them;
``bundle_rules.py`` (pure) orders the parts, combines their statuses into one and counts the bundle's trips.

Invariants: a trip count is never stored or typed in, only computed from what the item asks for, so it
changes exactly when that does; every definition and revision is kept as a version with an audit event in
the same transaction; nothing is read for an application before the applicant consents, and a declined
material is never read; every status change of an application appends a transition and an audit event
in the same transaction; an instant approval is decided from fetched evidence alone, and anything else
(a failed rule, declined consent, the applicant's wish) goes to a person; only the reviewers of the
office an application is with act on it, and staff outside that office's subtree (another county) do not
see it; a bundle's part starts only when every part it needs is approved, and its draft is changed only
through its bundle; a datahub source names a catalogued resource and its fields. It may use datahub (its
gateway for reads), certificates and messaging through their actions, queries, schemas and errors
(certificate types are kept as codes), and identity and audit; it must not import booking or web.
"""

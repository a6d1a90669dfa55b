"""datahub: the public data platform (公共数据平台).

Will own the catalogue of data resources, aggregation with validation and quality rules, versioned records,
share requests and grants, the one gateway through which every consumer reads shared data (grant check,
field filtering, masking by grade, audit), open data, data return, objections and the citizen's data-use log.
It must never let a read of personal data pass without an audit event.
"""

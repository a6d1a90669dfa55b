"""services: the one-stop portal (政务服务事项, applications, workflow, instant approval, bundles, trips).

Will fetch every proof through the datahub gateway with the applicant's consent instead of asking for paper.
"""

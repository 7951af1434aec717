"""RadGame Django apps, layered (higher may import lower):

localization | reporting -> progress -> cases | cohorts -> inference -> accounts -> core

``inference`` sits below ``cases`` (DESIGN.md put it beside ``progress``): it knows no exercise kind
and depends only on accounts, and the case library needs it to run imports and upload parsing as jobs.
"""

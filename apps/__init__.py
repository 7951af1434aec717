"""RadGame Django apps, layered (higher may import lower):

demo -> localization | reporting -> exercises -> progress -> cases -> cohorts -> inference
     -> accounts -> core

``exercises`` is the one attempt lifecycle both exercises share (deliveries, keys, attempt numbers,
reveal, assessments, XP rules); the exercises keep only their scoring and feedback.

Two changes from DESIGN.md's first sketch, each because the code needed it: ``inference`` sits at the
bottom beside ``accounts`` (it knows no exercise kind, and the case library runs imports and upload
parsing as jobs), and ``cases`` sits above ``cohorts`` (case sets are assigned to cohorts).
"""

"""RadGame Django apps, layered (higher may import lower):

demo -> localization | reporting -> progress -> cases -> cohorts -> inference -> accounts -> core

Two changes from DESIGN.md's first sketch, each because the code needed it: ``inference`` sits at the
bottom beside ``accounts`` (it knows no exercise kind, and the case library runs imports and upload
parsing as jobs), and ``cases`` sits above ``cohorts`` (case sets are assigned to cohorts).
"""

"""RadGame Django apps, layered: localization|reporting -> progress|inference -> cases|cohorts -> accounts -> core."""

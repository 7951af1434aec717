"""Model serving on the workers: the registry (which model serves which job kind, loaded lazily
once per process) and the batch collector (concurrent jobs share one generate call).

Importing this package is cheap; torch and transformers load with the first model.
"""

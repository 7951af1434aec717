"""Django-free scoring and model code shared by the web side, the workers and the CLI.

Importing ``ml`` must stay cheap: heavy libraries are imported inside the functions that need them.
"""

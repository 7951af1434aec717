"""Settings: ``base`` is env-driven; ``local``, ``test`` and ``production`` are small overlays."""

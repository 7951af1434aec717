"""Case library pages: image serving, the educator's library, editor, case sets and imports."""

"""Multi-step procedures built on the library (more than one fit)."""

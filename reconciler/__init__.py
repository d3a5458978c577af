"""reconciler: a declarative, GitOps-style reconciler for Capillary loyalty identifiers and cards."""

__version__ = "0.1.0"

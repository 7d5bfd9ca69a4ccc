"""omniroute: cost-optimal, explainable order routing for distributed order management."""

__version__ = "0.1.0"

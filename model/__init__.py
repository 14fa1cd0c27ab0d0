"""Open planning model for AI compute and its energy."""
from __future__ import annotations

__version__ = "0.1.0"

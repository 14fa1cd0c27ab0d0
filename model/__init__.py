"""Open planning model for AI compute and its energy."""
from __future__ import annotations

__version__ = "0.1.0"

# The loader re-solves the world for a run that changes it (model.inputs.allocation); the world registers
# its solver on import, so it is there whatever a caller imports first.
import model.world  # noqa: E402,F401

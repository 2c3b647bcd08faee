"""revu-widgets: RevU offer progress ("My offers") inside a publisher's Flask site."""

from __future__ import annotations

from .errors import RevUError
from .models import (
    Offer,
    OfferState,
    ProgressPage,
    ProgressSummary,
    RewardStatus,
    SkippedOffer,
    Step,
    StepStatus,
    UserProgress,
)

__version__ = "0.1.0"

__all__ = [
    "Offer",
    "OfferState",
    "ProgressPage",
    "ProgressSummary",
    "RevUError",
    "RewardStatus",
    "SkippedOffer",
    "Step",
    "StepStatus",
    "UserProgress",
    "__version__",
]

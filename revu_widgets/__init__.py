"""revu-widgets: RevU offer progress ("My offers") inside a publisher's Flask site."""

from __future__ import annotations

from ._version import __version__
from .client import RevUClient
from .errors import RevUError
from .extension import RevUWidgets
from .models import (
    Member,
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

__all__ = [
    "Member",
    "Offer",
    "OfferState",
    "ProgressPage",
    "ProgressSummary",
    "RevUClient",
    "RevUError",
    "RevUWidgets",
    "RewardStatus",
    "SkippedOffer",
    "Step",
    "StepStatus",
    "UserProgress",
    "__version__",
]

"""How offers read to a person, in one import for host code (the kit's modules import the parts).

The words, numbers and times the kit's pages show, for a host view or a template filter of its
own: formatting and translation (:mod:`revu_widgets.formatting`), status words, explanations
and error texts (:mod:`revu_widgets.wording`), the JSON shapes (:mod:`revu_widgets.json_shapes`)
and the Jinja setup (:mod:`revu_widgets.templating`).
"""

from __future__ import annotations

from .formatting import (
    N_,
    amount_number,
    currency_name,
    current_locale,
    current_timezone,
    format_amount,
    format_date,
    format_datetime,
    format_number,
    format_relative,
    formatter,
    gettext,
    isoformat,
    ngettext,
)
from .json_shapes import (
    offer_as_json,
    skipped_as_json,
    step_as_json,
    summary_counts,
    summary_totals,
    totals_as_json,
)
from .templating import detail_url, http_url, install, reward_rows
from .wording import (
    claim_details,
    error_text,
    explain,
    explain_for_staff,
    http_error_text,
    next_action,
    next_action_code,
    next_action_for_staff,
    progress_values,
    reward_label,
    status_label,
    status_value,
    steps_text,
    tab_label,
)

__all__ = [
    "N_",
    "amount_number",
    "claim_details",
    "currency_name",
    "current_locale",
    "current_timezone",
    "detail_url",
    "error_text",
    "explain",
    "explain_for_staff",
    "format_amount",
    "format_date",
    "format_datetime",
    "format_number",
    "format_relative",
    "formatter",
    "gettext",
    "http_error_text",
    "http_url",
    "install",
    "isoformat",
    "next_action",
    "next_action_code",
    "next_action_for_staff",
    "ngettext",
    "offer_as_json",
    "progress_values",
    "reward_label",
    "reward_rows",
    "skipped_as_json",
    "status_label",
    "status_value",
    "step_as_json",
    "steps_text",
    "summary_counts",
    "summary_totals",
    "tab_label",
    "totals_as_json",
]

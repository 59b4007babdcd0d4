"""The one grade scale: relevance labels 0..3, their names, and the grade each feedback event implies."""

from __future__ import annotations

GRADE_NAMES: dict[int, str] = {0: "not relevant", 1: "related", 2: "relevant", 3: "perfect"}
GRADES: tuple[int, ...] = tuple(GRADE_NAMES)
MAX_GRADE: int = max(GRADES)

# Implicit feedback as grades (an analyst's graded label always wins over these): a thumbs up
# confirms the result, a click only shows interest, a thumbs down rejects it.
GRADE_THUMBS_UP, GRADE_CLICK, GRADE_THUMBS_DOWN = 3, 2, 0


def grade_label(grade: int) -> str:
    """``"2 · relevant"``: how pages and tables show a grade."""
    return f"{grade} · {GRADE_NAMES[grade]}"

"""The scheduling services: every booking change goes through these functions."""

from clinic.errors import BookingConflict, Conflict, IllegalTransition, PlanError, SchedulingError

from .booking import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
)
from .courses import course_cancel
from .guard import find_conflicts
from .moves import MOVABLE_STATUSES, MoveWindow, find_move_slots, move_window, stays_in_place
from .planning import PlannedSession, course_book_plan, course_plan
from .slots import PREP_WINDOW, Slot, find_slots, session_length

__all__ = [
    "PREP_WINDOW",
    "MOVABLE_STATUSES",
    "BookingConflict",
    "Conflict",
    "IllegalTransition",
    "MoveWindow",
    "PlanError",
    "PlannedSession",
    "SchedulingError",
    "Slot",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_no_show",
    "appointment_reschedule",
    "course_book_plan",
    "course_cancel",
    "course_plan",
    "find_conflicts",
    "find_move_slots",
    "find_slots",
    "move_window",
    "session_length",
    "stays_in_place",
]

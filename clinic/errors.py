from typing import NamedTuple


class SchedulingError(Exception):
    """A refusal to show the user: a sentence, tied to the input field it concerns when there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}


class Conflict(NamedTuple):
    resource: str  # practitioner, room, device or patient
    appointment_id: int


class BookingConflict(SchedulingError):
    """The time is taken: `conflicts` names each busy resource and the appointment holding it."""

    def __init__(self, conflicts: list[Conflict], message: str | None = None):
        resources = sorted({c.resource for c in conflicts})
        super().__init__(message or f"That time is already taken for the {' and '.join(resources) or 'resources'}.")
        self.conflicts = conflicts


class IllegalTransition(SchedulingError):
    """The appointment or course is not in a state that allows this move."""


class PlanError(SchedulingError):
    """No plan fits the course's intervals with the free time there is."""


class Contention(BookingConflict):
    """Another change needed the same bookings at the same moment, and the database stopped this one
    (a deadlock or a serialization failure) after running it again did not help: nothing was saved."""

    def __init__(self):
        super().__init__(
            [],
            "Another change to these bookings was being saved at the same moment, so nothing was saved. "
            "Please try again.",
        )

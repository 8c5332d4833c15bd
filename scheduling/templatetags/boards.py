"""What the board templates (day and week) ask of an appointment."""

from django import template

from clinic.roles import can
from scheduling.services import MOVABLE_STATUSES

register = template.Library()


@register.filter
def movable_by(appointment, user) -> bool:
    """Whether `user` may drag the appointment's card to another time: it can still move, and
    they may book. The roles are read once per request (`clinic.roles.user_roles`)."""
    return appointment.status in MOVABLE_STATUSES and can(user, "book")


@register.filter
def may(user, ability: str) -> bool:
    """Whether `user`'s roles allow `ability` (`clinic.roles.can`), for a board's own parts."""
    return can(user, ability)

"""What the board templates (day and week) ask of an appointment."""

from django import template

from clinic.roles import can

register = template.Library()


@register.filter
def may(user, ability: str) -> bool:
    """Whether `user`'s roles allow `ability` (`clinic.roles.can`), for a board's own parts."""
    return can(user, ability)

"""What the services' hand-written SQL shares."""

from collections.abc import Callable, Sequence
from functools import cache, partial

from django.db import connection, connections
from django.db.models import signals
from django.db.models.base import ModelState


def table(model) -> str:
    """The model's table name, quoted for the database in use."""
    return connection.ops.quote_name(model._meta.db_table)


def converters(alias: str, model, field_names: tuple[str, ...]) -> list[tuple]:
    """Each field's column and the functions the ORM passes a value of it through on reading (on
    SQLite, for one, a stored time comes back as text), for `converted`."""
    return _converters(alias, model, tuple(field_names))


@cache
def _converters(alias, model, field_names):
    db = connections[alias]
    found = []
    for name in field_names:
        column = model._meta.get_field(name).get_col(model._meta.db_table)
        found.append((column, db.ops.get_db_converters(column) + column.get_db_converters(db)))
    return found


def converted(db, row, column_converters: list[tuple]) -> list:
    """A row's values as the ORM would have read them, given `converters` for its columns."""
    values = []
    for value, (column, functions) in zip(row, column_converters, strict=True):
        for convert in functions:
            value = convert(value, column, db)
        values.append(value)
    return values


def loader(model, alias: str, names: tuple[str, ...] | None) -> Callable[[Sequence], object]:
    """A function making `model.from_db(alias, names, values)` of a row's values (`names`: the
    fields' attnames in the model's field order, None for all of them): the same instance, a field
    not named deferred, without running `Model.__init__` for each row when nothing listens to the
    model's `pre_init` or `post_init` (the slot search builds some 60 a search). Decided when made."""
    if signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return partial(model.from_db, alias, names)
    if names is None:
        names = tuple(field.attname for field in model._meta.concrete_fields)
    new = model.__new__

    def make(values):
        instance = new(model)
        instance.__dict__.update(zip(names, values, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, alias
        return instance

    return make

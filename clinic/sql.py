"""What the services' hand-written SQL shares."""

from functools import cache

from django.db import connection, connections


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

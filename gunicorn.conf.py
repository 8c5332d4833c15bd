"""gunicorn's settings, read from the working directory (docker-compose.yml runs it from /app).

The access log leaves out query strings and referers: a search box's `?q=` can hold a patient's
name, and logs are kept longer and by more people than the database. The logger class writes a
patient link's path without its token and escapes control characters, so a request cannot write a
line of its own (clinic/accesslog.py)."""

accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
logger_class = "clinic.accesslog.AccessLogger"

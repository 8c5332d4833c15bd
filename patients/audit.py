"""Recording who opened a patient's clinical record, in the audit trail (django-auditlog). Changes
are recorded by auditlog itself (see the registrations at the end of each models.py); the trail
is read in records/audit.py."""

from auditlog.models import LogEntry

from patients.models import Patient


def record_clinical_access(*, patient: Patient, by, what: str) -> LogEntry:
    """Write down that `by` opened `patient`'s clinical record (`what`: the page, e.g. "patient page")."""
    return LogEntry.objects.log_create(
        patient,
        action=LogEntry.Action.ACCESS,
        changes=None,
        force_log=True,
        actor=by,
        additional_data={"opened": what},
    )

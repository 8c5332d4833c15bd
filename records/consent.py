"""A consent signature's printable record, for staff: the text exactly as signed (its version's
body, which never changes once signed), the typed name, when (clinic time), from which address,
where (online or the clinic's tablet), the witness, the photo scopes and any withdrawal."""

from django.shortcuts import get_object_or_404, render

from clinic.roles import ability_required
from clinical.models import ConsentSignature


@ability_required("view_patients")
def consent_record(request, patient_id, pk):
    signature = get_object_or_404(
        ConsentSignature.objects.select_related("patient", "text__condition", "witnessed_by"),
        pk=pk,
        patient_id=patient_id,  # a signature is shown under its own patient only
    )
    return render(request, "patients/consent_record.html", {"signature": signature, "patient": signature.patient})

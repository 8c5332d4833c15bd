"""The patient's consents on their own pages: what they have still to sign (each text in full, a
typed full name, and for photos a yes or no per use), what they signed, and withdrawing their photo
consent at once. The rules are `clinical.services.consent`'s, the same the clinic's tablet calls."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from clinical.consent_forms import consent_forms, sign_posted
from clinical.models import ConsentSignature, ConsentText
from clinical.selectors import consent_signatures
from clinical.services.consent import photo_consent_withdraw, photo_scopes, unsigned_texts

from .session import patient_required
from .views import portal_page


@patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent(request, patient):
    sign_forms = consent_forms(unsigned_texts(patient=patient), patient=patient, data=request.POST or None)
    status = 200
    if request.method == "POST":
        if sign_posted(request, sign_forms, patient=patient, channel=ConsentSignature.Channel.ONLINE):
            return redirect("portal:consent")
        status = 400
    return portal_page(
        request, "consent.html", patient=patient, forms=sign_forms, signed=consent_signatures(patient),
        scopes=photo_scopes(patient=patient), photo=ConsentText.Kind.PHOTO, status=status,
    )  # fmt: skip


@patient_required
@require_POST
def photo_consent_withdraw_view(request, patient):
    if photo_consent_withdraw(patient=patient):
        messages.success(
            request, "Your photo consent is withdrawn: no new photos, and none shown for teaching or marketing."
        )
    else:
        messages.info(request, "You had no photo consent standing.")
    return redirect("portal:consent")

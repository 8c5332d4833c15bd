"""The second factor's pages: the code step after the password, enrolment (QR code and the key as
text), the recovery codes shown once, and a person's own page to set up an app or renew codes.
The rules and the lockout are in clinic.second_factor."""

import django_otp
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from clinic import second_factor as rules
from clinic.forms import add_service_error

ENROL_KEY = "second_factor_enrol_key"  # the key being set up, until the app's first code confirms it
SHOW_CODES = "second_factor_show_codes"  # recovery codes to show, once


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _signed_in(request, device) -> None:
    request.session.cycle_key()  # a new session id for the session that now passed its second factor
    django_otp.login(request, device)
    request.session.pop(rules.FREE_SESSION_KEY, None)
    rules.forget_failures(request, user=request.user)


@login_required
def code_step(request):
    """After the password: the app's code, or a recovery code. A wrong one counts toward the
    login lockout; when it locks, the session ends and axes answers with its lockout page."""
    user = request.user
    if rules.session_owes(request) != rules.VERIFY:
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and rules.locked_out(request, user=user):
        logout(request)  # django-axes's middleware answers with its lockout page
        return render(request, "registration/second_factor_code.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        device = rules.check_code(user=user, code=form.cleaned_data["code"])
        if device is not None:
            _signed_in(request, device)
            return redirect(_next(request))
        if rules.count_failure(request, user=user):
            logout(request)
            return render(request, "registration/second_factor_code.html", {"form": form}, status=429)
        form.add_error("code", "That code was not accepted. Type the newest code your app shows, or a recovery code.")
    context = {"form": form, "next": _next(request), "hide_staff_menu": True}
    return render(request, "registration/second_factor_code.html", context)


@login_required
def enrol(request):
    """Set up an authenticator app: a new key on each visit, its QR code and the key as text,
    confirmed by the app's first code. Then the recovery codes, once."""
    user = request.user
    if rules.has_second_factor(user):
        return redirect("second_factor:manage")
    form = CodeForm(request.POST or None)
    key = request.session.get(ENROL_KEY) if request.method == "POST" else None
    if key and form.is_valid():
        try:
            device, codes = rules.enrol(user=user, key=key, code=form.cleaned_data["code"])
        except rules.CodeRefused as refusal:
            add_service_error(form, refusal)
        else:
            request.session.pop(ENROL_KEY, None)
            _signed_in(request, device)
            request.session[SHOW_CODES] = codes
            return redirect(f"{reverse('second_factor:recovery_codes')}?{urlencode({'next': _next(request)})}")
    if request.method == "POST" and not key:
        form.add_error(None, "The set-up had expired. Scan this new code, then type the code the app shows.")
    if not key:
        key = request.session[ENROL_KEY] = rules.new_secret()
    context = {
        "form": form,
        "next": _next(request),
        "qr_code": rules.qr_code_svg(user=user, key=key),
        "secret": rules.secret_as_text(key),
        "required": rules.must_use_second_factor(user),
        "hide_staff_menu": rules.session_owes(request) is not None,
    }
    return render(request, "registration/second_factor_enrol.html", context)


@login_required
def recovery_codes(request):
    """The recovery codes just made, shown this once (a reload shows the manage page instead)."""
    codes = request.session.pop(SHOW_CODES, None)
    if not codes or rules.session_owes(request) is not None:
        return redirect("second_factor:manage")
    return render(request, "registration/second_factor_codes.html", {"codes": codes, "next": _next(request)})


@login_required
def manage(request):
    """A person's own second factor: whether they have an app, how many recovery codes are left."""
    user = request.user
    context = {
        "enrolled": rules.has_second_factor(user),
        "required": rules.must_use_second_factor(user),
        "codes_left": rules.recovery_codes_left(user),
    }
    return render(request, "registration/second_factor_manage.html", context)


@login_required
@require_POST
def renew_recovery_codes(request):
    if not rules.has_second_factor(request.user):
        return redirect("second_factor:manage")
    request.session[SHOW_CODES] = rules.recovery_codes_renew(user=request.user)
    return redirect("second_factor:recovery_codes")

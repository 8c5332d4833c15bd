from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    practitioner = getattr(request.user, "practitioner", None)
    return render(request, "home.html", {"practitioner": practitioner, "groups": request.user.groups.all()})

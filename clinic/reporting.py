"""Error reports that carry no patient data."""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


class NoPatientDataFilter(SafeExceptionReporterFilter):
    """Django's safe filter, plus: every GET and POST parameter is hidden, not only passwords.
    A search for a name, a registration form or a patient-link token must not reach a report."""

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in ("QUERY_STRING", "HTTP_REFERER", "HTTP_COOKIE", "HTTP_AUTHORIZATION"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        # Local variables of our code may be a patient or a form full of patient details.
        return [
            (name, self.cleansed_substitute) for name, _ in super().get_traceback_frame_variables(request, tb_frame)
        ]


class NoPatientDataReporter(ExceptionReporter):
    """Django's reporter, with the query string's values hidden as the filter hides the rest."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if "request_GET_items" in data:
            data["request_GET_items"] = [(key, self.filter.cleansed_substitute) for key in self.request.GET]
        if "request_insecure_uri" in data:
            data["request_insecure_uri"] = data["request_insecure_uri"].split("?", 1)[0]
        if "request_FILES_items" in data:
            data["request_FILES_items"] = [(key, self.filter.cleansed_substitute) for key in self.request.FILES]
        return data

"""The staff pages of scheduling, in the `scheduling` namespace."""

from datetime import date

from django.urls import path, register_converter

from scheduling.views import appointments, board, booking, consent, dayboard, daylist, patch, sessions, weekboard


class DateConverter:
    """A calendar date as YYYY-MM-DD in the years 1900-2999; an impossible date (2027-02-30) is a 404."""

    regex = r"(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}"  # ASCII digits: \d would match "٢٠٢٧" too

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)  # ValueError means no match

    def to_url(self, value: date) -> str:
        return value.isoformat()


register_converter(DateConverter, "isodate")

urlpatterns = [
    path("day/", dayboard.day_board, name="day_board"),
    path("day/<isodate:day>/", dayboard.day_board, name="day_board_date"),
    path("day/<isodate:day>/list/", daylist.day_list_view, name="day_list"),
    path("board/changes/", board.board_changes, name="board_changes"),
    path("week/", weekboard.week_board, name="week_board"),
    path("week/<isodate:day>/", weekboard.week_board, name="week_board_date"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/check-in/", appointments.appointment_check_in_view, name="appointment_check_in"),
    path("appointments/<int:pk>/consent/", consent.consent_tablet, name="consent_tablet"),
    path("appointments/<int:pk>/reschedule/", appointments.appointment_reschedule_view, name="appointment_reschedule"),
    path("appointments/<int:pk>/move/", board.appointment_move, name="appointment_move"),
    path("appointments/<int:pk>/sun-confirm/", appointments.sun_exposure_confirm_view, name="sun_exposure_confirm"),
    path("appointments/<int:pk>/cancel/", appointments.appointment_cancel_view, name="appointment_cancel"),
    path("appointments/<int:pk>/no-show/", appointments.appointment_no_show_view, name="appointment_no_show"),
    path("appointments/<int:pk>/complete/", appointments.appointment_complete_view, name="appointment_complete"),
    path("appointments/<int:pk>/defer/", appointments.appointment_defer_view, name="appointment_defer"),
    path("courses/<int:pk>/book/", booking.course_book, name="course_book"),
    path("courses/<int:pk>/plan/", booking.course_plan_view, name="course_plan"),
    path("book/consultation/", booking.book_visit, name="book_visit"),
]
# Recording a session completes the appointment; its page sits under /clinical/ with the other
# dermatologist's pages (clinic/urls.py mounts it in the `clinical` namespace).
clinical_urlpatterns = [
    path("appointments/<int:appointment_id>/record/", sessions.record_session, name="record"),
    path("appointments/<int:appointment_id>/patch-result/", patch.patch_result, name="patch_result"),
]

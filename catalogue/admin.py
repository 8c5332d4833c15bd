from django.contrib import admin

from catalogue.models import (
    ClinicClosure,
    Condition,
    LaserDevice,
    Practitioner,
    Room,
    TimeOff,
    TreatmentArea,
    WorkingHours,
)


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "default_sessions",
        "min_sessions",
        "max_sessions",
        "min_interval_days",
        "max_interval_days",
        "outcome_scale",
        "test_patch_required",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "active"]}),
        ("Protocol", {"fields": [("default_sessions", "min_sessions", "max_sessions"),
                                 ("min_interval_days", "max_interval_days"), "outcome_scale", "test_patch_required"]}),
        (
            "What the patient is told",
            {
                "description": "Added to the general advice every patient gets (no sun or tanning beds for two "
                "weeks, no peels or waxing, clean skin on the day), in the email that comes when it is due.",
                "fields": ["prep_text", "day_before_text", "aftercare_text"],
            },
        ),
    ]  # fmt: skip


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "colour", "active"]
    list_filter = ["role", "active"]
    search_fields = ["user__first_name", "user__last_name", "user__username"]
    list_select_related = ["user"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "weekday", "start_time", "end_time"]
    list_filter = ["weekday", "practitioner"]
    search_fields = ["practitioner__user__last_name"]
    list_select_related = ["practitioner__user"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    search_fields = ["practitioner__user__last_name", "reason"]
    date_hierarchy = "start"
    list_select_related = ["practitioner__user"]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    list_display = ["start_date", "end_date", "reason"]
    search_fields = ["reason"]
    date_hierarchy = "start_date"


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "turnover_minutes", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


@admin.register(LaserDevice)
class LaserDeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "model", "wavelengths_nm", "turnover_minutes", "active"]
    list_filter = ["active", "conditions"]
    search_fields = ["name", "model"]
    filter_horizontal = ["conditions"]


@admin.register(TreatmentArea)
class TreatmentAreaAdmin(admin.ModelAdmin):
    list_display = ["name", "size"]
    list_filter = ["size"]
    search_fields = ["name"]

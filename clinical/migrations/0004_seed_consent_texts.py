"""The first version of each consent text: a treatment consent for each of the four seeded
conditions, and the photo consent with its two scopes. Plain words for the clinic to edit (in the
admin, as a new version): a starting point, not legal or medical advice."""

from datetime import UTC, datetime

from django.db import migrations

PUBLISHED = datetime(2026, 1, 1, tzinfo=UTC)

COMMON_RISKS = (
    "What to expect: for a few hours after each session the treated skin is usually red, a little "
    "swollen and warm, like mild sunburn. The laser pulses feel like a rubber band snapping on the "
    "skin; most people find this bearable, and we can pause at any time."
)
PREP = (
    "Before each session: no sun or tanning beds, and no chemical peels or waxing on the area, for "
    "the two weeks before. Tell us about any new medicine, a pregnancy, or a skin infection."
)
AFTERCARE = (
    "Afterwards: the redness fades within hours. Keep the area clean, do not pick at it, and use a "
    "sunscreen of SPF 30 or higher every day for the rest of the course."
)
CLOSING = (
    "No treatment can promise a result, and the number of sessions is our estimate. You can stop the "
    "course at any time. By typing your full name you confirm that you have read this, that your "
    "questions were answered, and that you agree to the treatment."
)

TEXTS = {
    "acne-scars": (
        "Consent to laser treatment of acne scars",
        "The laser makes tiny marks in the skin that it heals over the following weeks, building new "
        "collagen that softens the scars. The skin may feel rough or look a little darker for a few days.",
    ),
    "wrinkles-fine-lines": (
        "Consent to laser treatment of wrinkles and fine lines",
        "The laser warms the deeper skin so that it builds new collagen; the lines soften gradually, "
        "over weeks, not at once.",
    ),
    "pigmentation": (
        "Consent to laser treatment of age spots and pigmentation",
        "The laser breaks up the extra pigment, which darkens and flakes off over one to two weeks. "
        "Rarely, small blisters form, or the skin turns temporarily lighter or darker than around it; "
        "this usually settles over a few months. Sun can bring pigment back.",
    ),
    "tattoo-removal": (
        "Consent to laser tattoo removal",
        "The laser breaks the ink into tiny pieces that your body clears over the weeks after each "
        "session. Small blisters or pinpoint bleeding can appear and heal within days, and the skin "
        "may turn temporarily lighter or darker than around it; this usually settles over a few "
        "months. Some colours fade less than others, and a faint trace can remain.",
    ),
}

PHOTO = (
    "Consent to photographs",
    "We would like to take photographs of the treated area before and after your sessions. You choose "
    "each use below, and you can change your mind at any time on your patient pages or at the desk; "
    "from that moment no new photos are taken and your photos are no longer shown for that use.\n\n"
    "For your clinical record: photos kept with your record, seen only by the clinic's staff who "
    "treat you, to judge how the treatment is working.\n\n"
    "For teaching or marketing: photos, without your name and with your face hidden where it can be, "
    "used in training or shown on the clinic's website, leaflets or social media.",
)


def seed(apps, schema_editor):
    Condition = apps.get_model("catalogue", "Condition")
    ConsentText = apps.get_model("clinical", "ConsentText")
    for condition in Condition.objects.filter(slug__in=TEXTS):
        if ConsentText.objects.filter(kind="treatment", condition=condition).exists():
            continue
        title, own = TEXTS[condition.slug]
        body = "\n\n".join([own, COMMON_RISKS, PREP, AFTERCARE, CLOSING])
        ConsentText.objects.create(
            kind="treatment", condition=condition, version=1, title=title, body=body, published_at=PUBLISHED
        )
    if not ConsentText.objects.filter(kind="photo").exists():
        ConsentText.objects.create(kind="photo", version=1, title=PHOTO[0], body=PHOTO[1], published_at=PUBLISHED)


def unseed(apps, schema_editor):
    ConsentText = apps.get_model("clinical", "ConsentText")
    ConsentText.objects.filter(version=1, published_at=PUBLISHED, signatures__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0003_consent"),
        ("patients", "0003_seed_conditions"),
    ]

    operations = [migrations.RunPython(seed, unseed)]

"""Words the service pages show for the services context's codes (translated where they are shown)."""

from __future__ import annotations

from zerotrip.web.i18n import N_

ITEM_TYPE_LABELS = {
    "licensing": N_("Administrative licensing"),
    "payment": N_("Administrative payment"),
    "confirmation": N_("Administrative confirmation"),
    "levy": N_("Administrative levy"),
    "adjudication": N_("Administrative adjudication"),
    "reward": N_("Administrative reward"),
    "other_power": N_("Other administrative power"),
    "public_service": N_("Public service"),
}
LEVEL_LABELS = {"province": N_("Province level"), "city": N_("City level"), "county": N_("County level")}
LIFE_EVENT_LABELS = {
    "birth": N_("Having a baby"),
    "schooling": N_("Going to school"),
    "employment": N_("Work"),
    "marriage": N_("Marriage"),
    "renting": N_("Renting a home"),
    "home_purchase": N_("Buying a home"),
    "starting_business": N_("Starting a business"),
    "business_change": N_("Changing a business"),
    "medical": N_("Medical care"),
    "vaccination": N_("Vaccination"),
    "social_security": N_("Social security"),
    "retirement": N_("Retirement"),
    "death": N_("After a death"),
}
CHANNEL_LABELS = {
    "online": N_("Online (Zheliban)"),
    "window": N_("At the service counter"),
    "mail": N_("By post"),
    "self_service": N_("Self-service terminal"),
}
BAND_LABELS = {"zero": N_("No trip"), "one": N_("One trip"), "more": N_("More than one trip")}
PRESENCE_LABELS = {
    "none": N_("No visit"),
    "onsite": N_("You come in person"),
    "inspection": N_("Staff inspect your premises (no trip for you)"),
}
# The certificate types the demo catalogue names, until the guide reads type names from the certificates
# context; any other code is shown as it is.
CERTIFICATE_TYPE_LABELS = {
    "birth-medical-certificate": N_("Birth medical certificate"),
    "household-register-extract": N_("Household register"),
    "marriage-certificate": N_("Marriage certificate"),
    "real-estate-title": N_("Real-estate title certificate"),
    "no-real-estate": N_("Certificate of no real estate"),
    "business-licence": N_("Business licence"),
    "social-security-card": N_("Social security card"),
    "covid-vaccination": N_("COVID-19 vaccination certificate"),
    "decision-letter": N_("Decision letter"),
}

# What replaces the paper, one sentence per source kind.
FROM_WALLET = N_("Taken from your e-certificate wallet, with your consent: %(type)s")
FROM_DATAHUB = N_("Fetched from %(owner)s, with your consent: %(resource)s")
EXISTS_IN_DATAHUB = N_("Checked with %(owner)s, with your consent: %(resource)s")
COMMITMENT = N_("You sign a commitment online instead of bringing proof; it is checked afterwards")
PRIOR_RESULT = N_("Passed on from the result of “%(item)s”")
UPLOAD = N_("Upload a scan or a photo")
ONSITE = N_("Show the original in person")
HELD_BY = N_("%(holder)s already holds this but does not share it yet")

# Why the applicant must be there.
REASON_APPLY = N_("Applying at the counter: the item cannot be applied for online or by post")
REASON_MATERIAL = N_("Showing %(name)s")
REASON_STEP = N_("At the step “%(name)s”")

PROBLEM_TITLES = (
    N_("No such service item"),
    N_("A service item with this code already exists"),
    N_("The service item does not agree with the catalogues it refers to"),
    N_("Defining a service item takes the reviewer or platform administrator role over its department"),
    N_("The catalogue file cannot be read"),
    N_("No such application"),
    N_("You cannot apply for this service online"),
    N_("The application can no longer be changed this way"),
    N_("Some materials are still missing"),
    N_("The file cannot be accepted"),
    N_("The instant-approval rules do not fit the service item"),
    N_("The service platform may not read departments' data yet"),
    N_("The application is not at the step this action belongs to"),
    N_("Handling this application takes the reviewer role over its office"),
    N_("The supplement request cannot be sent as it is"),
    N_("Some items of the supplement request are not answered yet"),
    N_("This application cannot be rated, or the rating answered, now"),
    N_("No such bundle"),
    N_("A bundle with this code already exists"),
    N_("The bundle's parts do not fit together"),
    N_("Defining a bundle takes the platform administrator role over every part's department"),
    N_("No such bundle application"),
)

# Ratings (好差评): the tags an applicant may pick, good ones first.
RATING_TAG_LABELS = {
    "convenient": N_("Easy to do"),
    "fast": N_("Done quickly"),
    "courteous": N_("Courteous staff"),
    "clear_guide": N_("Clear guide"),
    "too_many_materials": N_("Too many materials"),
    "extra_trips": N_("Had to go more than once"),
    "slow": N_("Took too long"),
    "unclear_guide": N_("Unclear guide"),
    "discourteous": N_("Discourteous staff"),
}
SCORE_LABELS = {
    1: N_("Very dissatisfied"),
    2: N_("Dissatisfied"),
    3: N_("Acceptable"),
    4: N_("Satisfied"),
    5: N_("Very satisfied"),
}

"""The case record's vocabularies, each in one place.

Multi-valued categories are stored as bit masks in the statistics record (so the nulägesbild can count
them in the database) and as lists of codes inside the encrypted classification of the case. A code's
bit must never change once data exists: add new codes at the end.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "oppet", _("Öppet")
    WATCH = "bevakning", _("Bevakning")
    CLOSED = "avslutat", _("Avslutat")


# The only status changes there are; anything else is refused.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.WATCH, CaseStatus.CLOSED}),
    CaseStatus.WATCH: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.OPEN}),
}


class LegalGender(models.TextChoices):
    WOMAN = "kvinna", _("Kvinna")
    MAN = "man", _("Man")
    OTHER = "annat", _("Annat/okänt")


class IdentityNumberKind(models.TextChoices):
    PERSONNUMMER = "personnummer", _("Personnummer")
    SAMORDNINGSNUMMER = "samordningsnummer", _("Samordningsnummer")
    RESERVNUMMER = "reservnummer", _("Reservnummer")
    NONE = "saknas", _("Saknas")


class ProtectedIdentity(models.TextChoices):
    NONE = "ingen", _("Ingen")
    SECRECY_MARKING = "sekretessmarkering", _("Sekretessmarkering")
    PROTECTED_REGISTRATION = "skyddad_folkbokforing", _("Skyddad folkbokföring")
    FICTITIOUS_IDENTITY = "fingerade_personuppgifter", _("Fingerade personuppgifter")


class ViolenceContext(models.TextChoices):
    PARTNER = "vinr_partner", _("Våld i nära relation – partner eller före detta partner")
    OTHER_RELATIVE = "vinr_narstaende", _("Våld i nära relation – annan närstående")
    HONOUR = "hrv", _("Hedersrelaterat våld och förtryck")


class ViolenceForm(models.TextChoices):
    PHYSICAL = "fysiskt", _("Fysiskt våld")
    PSYCHOLOGICAL = "psykiskt", _("Psykiskt våld")
    SEXUAL = "sexuellt", _("Sexuellt våld")
    ECONOMIC = "ekonomiskt", _("Ekonomiskt våld")
    MATERIAL = "materiellt", _("Materiellt våld")
    LATENT = "latent", _("Latent våld")
    NEGLECT = "forsummelse", _("Försummelse")
    DISABILITY_RELATED = "funktionshinderrelaterat", _("Funktionshinderrelaterat våld")
    DIGITAL = "digitalt", _("Digitalt våld")


class HonourSubtype(models.TextChoices):
    FORCED_MARRIAGE = "tvangsaktenskap", _("Tvångsäktenskap/äktenskapstvång")
    CHILD_MARRIAGE = "barnaktenskap", _("Barnäktenskap")
    MARRIAGE_JOURNEY = "aktenskapsresa", _("Vilseledande till äktenskapsresa")
    FGM = "konsstympning", _("Könsstympning")
    RESTRICTIONS = "begransningar", _("Begränsningar/oskuldskontroll")
    ABDUCTION = "bortforande", _("Hot om bortförande/utreseförbud")


class PerpetratorRelation(models.TextChoices):
    PARTNER = "partner", _("Partner")
    EX_PARTNER = "ex_partner", _("Före detta partner")
    PARENT = "foralder", _("Förälder")
    CHILD = "barn", _("Barn")
    SIBLING = "syskon", _("Syskon")
    OTHER_RELATIVE = "annan_slakting", _("Annan släkting")
    SEVERAL = "flera", _("Flera utövare (hedersrelaterat)")
    OTHER = "annan", _("Annan")


class CaseFlag(models.TextChoices):
    DISABILITY = "funktionsnedsattning", _("Kvinna med funktionsnedsättning")
    LGBTQI = "hbtqi", _("HBTQI-person")
    ELDERLY = "aldre", _("Äldre (65+)")
    SHELTERED_HOUSING = "skyddat_boende", _("Skyddat boende")
    CHILDREN_IN_HOUSEHOLD = "barn_i_hushallet", _("Barn i hushållet")
    CHILDREN_WITNESSED = "barn_bevittnat", _("Barn som bevittnat eller upplevt våld")
    REPORT_OF_CONCERN = "orosanmalan", _("Orosanmälan gjord")


class ChildAgeBand(models.TextChoices):
    INFANT = "0-2", _("0–2 år")
    PRESCHOOL = "3-5", _("3–5 år")
    SCHOOL = "6-12", _("6–12 år")
    TEEN = "13-17", _("13–17 år")


class AgeBand(models.TextChoices):
    CHILD = "0-17", "0–17"
    YOUNG = "18-29", "18–29"
    ADULT = "30-49", "30–49"
    MIDDLE = "50-64", "50–64"
    ELDERLY = "65+", "65+"
    UNKNOWN = "okand", _("Okänd")


class RiskInstrument(models.TextChoices):
    FREDA = "freda", _("FREDA-farlighetsbedömning")
    PATRIARK = "patriark", "PATRIARK"
    SARA_SV = "sara_sv", "SARA:SV"
    CHECK_10 = "check10", "Check-10"
    OTHER = "annat", _("Annat instrument")


class RiskLevel(models.TextChoices):
    LOW = "lag", _("Låg")
    MEDIUM = "medel", _("Medel")
    HIGH = "hog", _("Hög")


RISK_ORDER = {RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


class MeasureKind(models.TextChoices):
    CONTACT_BAN = "kontaktforbud", _("Kontaktförbud")
    SHELTERED_HOUSING = "skyddat_boende", _("Skyddat boende")
    SAFETY_ALARM = "trygghetslarm", _("Trygghetslarm")
    TRAVEL_BAN = "utreseforbud", _("Utreseförbud")
    SAFETY_PLAN = "sakerhetsplan", _("Säkerhetsplan")


def to_mask(choices: type[models.TextChoices], codes: list[str] | set[str] | tuple[str, ...]) -> int:
    """Bit i is set when the i-th code of ``choices`` is in ``codes``."""
    values = list(choices.values)
    mask = 0
    for code in codes:
        mask |= 1 << values.index(code)
    return mask


def from_mask(choices: type[models.TextChoices], mask: int) -> list[str]:
    return [code for index, code in enumerate(choices.values) if mask & (1 << index)]


def age_band(age: int | None) -> str:
    if age is None:
        return AgeBand.UNKNOWN
    if age < 18:
        return AgeBand.CHILD
    if age < 30:
        return AgeBand.YOUNG
    if age < 50:
        return AgeBand.ADULT
    if age < 65:
        return AgeBand.MIDDLE
    return AgeBand.ELDERLY


class LegalBasis(models.TextChoices):
    CONSENT = "samtycke", _("Samtycke")
    POLICE_SERIOUS_VIOLENCE = (
        "osl_10_18c",
        _("OSL 10 kap. 18 c § – till polisen för att förhindra allvarligt våld"),
    )
    CRIME_AGAINST_CHILD = "osl_10_21", _("OSL 10 kap. 21 § – brott mot barn")
    DUTY_TO_REPORT = "osl_10_28", _("OSL 10 kap. 28 § – uppgiftsskyldighet/orosanmälan")
    NECESSARY = "osl_10_2", _("OSL 10 kap. 2 § – nödvändigt utlämnande")


class InformationCategory(models.TextChoices):
    """What a disclosure lets the recipient see. Case metadata (reference, status, dates) comes with any."""

    IDENTITY = "identitet", _("Identitet och kontaktuppgifter")
    VIOLENCE = "vald", _("Våldsbild och händelser")
    SUMMARY = "sammanfattning", _("Sammanfattning och bidrag")
    RISK = "risk", _("Riskbedömningar")
    MEASURES = "insatser", _("Skyddsinsatser")
    CHILDREN = "barn", _("Barn i hushållet")


class DisclosureEnd(models.TextChoices):
    REVOKED = "aterkallat", _("Återkallat")
    CONSENT_WITHDRAWN = "samtycke_aterkallat", _("Samtycket återkallat")
    EXPIRED = "utgatt", _("Utgånget")

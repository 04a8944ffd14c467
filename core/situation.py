"""The asker's situation: who asks, who insures them, where the care is, what kind.

Real people describe a situation, not a question type. The answer depends on
three facts first (../shared/domain/situations.md): who insures the person,
where the care is (or was), and whether it is planned or needed during a stay.
`Situation` carries those facts from message to message in Rasa slots (one
slot per field, same name), so the answer action can pick the text for *this*
asker and ask one short question when the deciding fact is missing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Mapping, Optional

# Values of the enumerated fields (None = not known).
REQUESTER_ROLES = ("patient", "relative", "pharmacist", "provider", "foreign_ncp", "institution", "elected",
                   "association")
DIRECTIONS = ("abroad", "to_france", "domestic")
CARE_TIMINGS = ("planned", "unplanned")
CARE_TYPES = ("hospital", "imaging", "outpatient", "dental", "medicines", "maternity", "dialysis", "cancer",
              "physiotherapy", "optical", "fertility", "mental_health", "long_term_care", "other")
STATUSES = ("pensioner_s1", "frontier_worker", "student", "posted_worker", "tourist", "resident")
# Insurance groups: which rules apply depends first on who insures the person.
INSURANCE_GROUPS = ("FR", "EU_EEA", "UK", "CH", "THIRD")


@dataclass(frozen=True)
class Situation:
    requester_role: Optional[str] = None     # REQUESTER_ROLES
    insured_country: Optional[str] = None    # ISO2 of the country whose scheme insures the person ("FR": France)
    insurance_scheme: Optional[str] = None   # e.g. "CPAM", "MSA", "NHS", "mutualite_be", "krankenkasse"
    residence_country: Optional[str] = None  # ISO2
    treatment_country: Optional[str] = None  # ISO2 of the country of care
    nationality: Optional[str] = None        # ISO2 ("US citizen" is a nationality, never a place of care)
    direction: Optional[str] = None          # DIRECTIONS
    care_timing: Optional[str] = None        # CARE_TIMINGS
    care_type: Optional[str] = None          # CARE_TYPES
    status: Optional[str] = None             # STATUSES

    @classmethod
    def slot_names(cls) -> tuple:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> "Situation":
        return cls(**{name: slots.get(name) or None for name in cls.slot_names()})

    def as_slots(self) -> Dict[str, Optional[str]]:
        return asdict(self)

    def merged_with(self, newer: "Situation") -> "Situation":
        """What the conversation knows: a fact stated in the newer message wins, the rest is kept."""
        return replace(self, **{k: v for k, v in asdict(newer).items() if v})

    @property
    def insurance_group(self) -> Optional[str]:
        return insurance_group(self.insured_country)


def insurance_group(iso2: Optional[str]) -> Optional[str]:
    """FR | EU_EEA | UK | CH | THIRD for the country of insurance, None when unknown."""
    if not iso2:
        return None
    from core.countries import country

    iso2 = "GB" if iso2.upper() == "UK" else iso2.upper()
    if iso2 == "FR":
        return "FR"
    if iso2 == "GB":
        return "UK"
    if iso2 == "CH":
        return "CH"
    try:
        record = country(iso2)
    except KeyError:
        return "THIRD"
    return "EU_EEA" if record.get("eu") or record.get("eea") else "THIRD"

"""The bilan's requester profile and origin, from what the asker explicitly states.

The six-month bilan counts enquiries by profile (content/vocabularies.yml codes)
and by the requester's own country. Both come from explicit statements read by
core/situation.py ("je suis pharmacienne", "un de nos assurés", "I am insured
in Sweden"), never from a word that merely appears: "ma caisse a refusé" is a
patient, not a social-security fund; "facture de kiné" is not a provider; a
country named as the place of care is never the asker's origin. Unknown rather
than wrong (bench/eval_profile_origin.py measures the precision).
"""
from __future__ import annotations

from typing import List, Optional

from core.content import load_vocabularies
from core.situation import Reading, read_message

# Who asks (core/situation.py roles) -> bilan profile code.
ROLE_PROFILES = {
    "patient": "IND",
    "relative": "IND",
    "pharmacist": "HCP",
    "provider": "HCP",
    "foreign_ncp": "NCP",
    "institution": "SSF",
    "association": "SSA",
    "elected": "OTH",
    "other": "OTH",
}


def profile_codes() -> List[str]:
    return list(load_vocabularies()["profiles"].keys())


def profile_of(reading: Reading) -> Optional[str]:
    """The profile code the message states, or None."""
    return ROLE_PROFILES.get(reading.role or "")


def origin_of(reading: Reading) -> Optional[str]:
    """The asker's own country (where insured, else where living; for a professional,
    where they work), or None."""
    return reading.requester_country


def detect_profile(text: str, language: Optional[str] = None) -> Optional[str]:
    """The profile stated in `text` (French reading unless `language` says otherwise)."""
    return profile_of(read_message(text, language or "fr"))

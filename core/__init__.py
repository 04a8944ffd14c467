"""The bottom layer of PCN desk: settings, the staff-edited content and the pure helpers.

It imports nothing from ``bot``, ``actions``, ``db`` or ``dashboard``; they all
import from here (content and vocabularies, countries, language, profiles,
privacy), so each fact has one reader and one source.
"""

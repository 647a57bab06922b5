"""Compile gettext catalogues with polib, so no system gettext is needed."""

from __future__ import annotations

from pathlib import Path

import polib


def compile_catalogues(locale_dir: Path) -> list[Path]:
    """Write a .mo beside every .po newer than its .mo; return the paths written."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


def untranslated_entries(po_path: Path) -> list[str]:
    catalogue = polib.pofile(str(po_path))
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    missing += [e.msgid for e in catalogue.fuzzy_entries()]
    return missing

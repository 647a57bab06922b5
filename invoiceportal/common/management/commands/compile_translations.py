from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from invoiceportal.common.translations import compile_catalogues


class Command(BaseCommand):
    help = "Compile the .po catalogues to .mo with polib (no system gettext needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        written = []
        for locale_dir in settings.LOCALE_PATHS:
            written += compile_catalogues(locale_dir)
        self.stdout.write(f"Compiled {len(written)} catalogue(s).")

"""Configuration shared by every process (web app, scheduler, migrator): the PORTAL_*
settings and the process's logging. Imports neither Flask nor the app."""

from matching_and_import_db.settings.declare import REQUIRED, SettingsError, Variable
from matching_and_import_db.settings.portal import VARIABLES, Settings

__all__ = ["REQUIRED", "VARIABLES", "Settings", "SettingsError", "Variable"]

"""How a setting is declared, once: a field of the settings dataclass whose annotation is its
type, with its default and help beside it. The list of variables (README table, parsing)
is read off the dataclass, so a variable cannot be declared in one place and missed in
another."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "PORTAL_"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: typing.Any = _Required()  # the default of a variable that must be set


def setting(default: object, help: str, *, secret: bool = False) -> typing.Any:
    """One variable: `name: type = setting(default, "what it does")`. A secret is left out
    of the settings' repr, so a logged or printed Settings never shows it."""
    return dataclasses.field(default=default, repr=not secret,
                             metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Variable:
    name: str
    default: object
    kind: type
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name.upper()


def variables_of(cls: type) -> tuple[Variable, ...]:
    """The variables a settings dataclass declares, in declaration order."""
    kinds = typing.get_type_hints(cls)
    return tuple(Variable(f.name, f.default, kinds[f.name], f.metadata["help"],
                          f.metadata["secret"])
                 for f in dataclasses.fields(cls) if "help" in f.metadata)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse(var: Variable, raw: str) -> object:
    if var.kind is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise SettingsError(f"{var.env} must be true or false, got {raw!r}")
    if var.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{var.env} must be a whole number, got {raw!r}") from None
    if var.kind is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{var.env} must be a number, got {raw!r}") from None
    return raw


def read_values(variables: tuple[Variable, ...], environ: Mapping[str, str],
                overrides: Mapping[str, object]) -> dict[str, object]:
    """Each variable's value: an override as given, else the environment's (an empty or
    blank value counts as unset), else the default; a required one missing is an error
    naming it."""
    unknown = set(overrides) - {var.name for var in variables}
    if unknown:
        raise SettingsError(f"no such settings: {', '.join(sorted(unknown))}")
    values: dict[str, object] = {}
    for var in variables:
        if var.name in overrides:
            values[var.name] = overrides[var.name]
        elif environ.get(var.env, "").strip() != "":
            values[var.name] = parse(var, environ[var.env])
        elif var.default is REQUIRED:
            raise SettingsError(f"{var.env} is not set; it is required")
        else:
            values[var.name] = var.default
    return values

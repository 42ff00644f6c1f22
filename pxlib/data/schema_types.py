"""The two classes input schemas are written with: a file's columns and the file itself."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """One column of an input file."""

    name: str
    kind: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    description: str = ""
    planned: bool = False  # a date that may lie after the as-of date


@dataclass(frozen=True)
class Schema:
    """An input file: its columns and the columns whose values must be unique together."""

    name: str
    description: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()
    extra_columns: str = "keep"  # "keep" | "pattern" (GPPS question columns)
    extra_pattern: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

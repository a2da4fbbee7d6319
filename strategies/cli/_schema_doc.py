"""``tickstate schema --markdown``: the strategy-file reference, written from the JSON Schema.

``docs/strategy-file.md`` is this module's output, never edited by hand: every key of every
table with its type, range, default and description, as the pydantic models the files are
validated with declare them (``strategy_schema``). ``--check FILE`` says when the committed page
has drifted from the code. Only tickstate's own signals are listed: an installed plugin's
parameters are in ``tickstate schema`` (and its own docs), not in tickstate's reference.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["check_markdown", "schema_markdown"]

_CLOCK_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
_DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"

#: Each table of a file: its heading, the schema definition, and a word on when it is needed.
_TABLES = (
    ("[session]", "SessionSpec", "Required."),
    ("[entry_window]", "EntryWindow", "Optional: every key has a default."),
    ("[sizing]", "Sizing", "Required: exactly one of its keys."),
    ("[[instruments]]", "Instrument", "At least one; one table per symbol."),
    ('[broker] kind = "sim"', "SimBrokerSpec", "The default broker: `tickstate run` starts the "
     "simulated exchange (Alpaca's twin) in-process. `tickstate replay` ignores `[broker]`."),
    ('[broker] kind = "alpaca"', "AlpacaBrokerSpec", "Its paper endpoints by default; "
     "[rehearsal.md](rehearsal.md) points it at `tickstate sim` first."),
)


def _builtin_signals() -> set[str]:
    """The signals tickstate's own distribution registers (plugins are left out)."""
    try:
        entries = metadata.distribution("tickstate").entry_points
    except metadata.PackageNotFoundError:  # a source tree never installed: no plugins either
        return set()
    return {e.name for e in entries if e.group == "tickstate.signals"}


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _toml(value: Any) -> str:
    """A JSON value as a strategy file spells it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if re.fullmatch(r"\d\d:\d\d:00", value):  # a clock time: the file writes "15:15"
            value = value[:5]
        return json.dumps(value)
    return json.dumps(value)


class _Writer:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def type_of(self, schema: dict[str, Any]) -> str:
        """A key's type in a trader's words."""
        name = _ref_name(schema)
        if name is not None:
            target = self.defs[name]
            if "enum" in target:
                return self.type_of(target)
            return f"table ([{name}](#{_anchor(name, self.defs)}))"
        if _is_decimal(schema):
            return "decimal"
        for word in ("anyOf", "oneOf"):
            if word in schema:
                options = [s for s in schema[word] if s.get("type") != "null"]
                if all(_ref_name(s) in ("SimBrokerSpec", "AlpacaBrokerSpec") for s in options):
                    return "table (`[broker]`, by `kind`)"
                kinds = list(dict.fromkeys(self.type_of(s) for s in options))
                if "decimal" in kinds and "number" in kinds:  # a tick: "0.01" or 0.01
                    kinds.remove("number")
                return " or ".join(kinds)
        if "const" in schema:
            return f"`{_toml(schema['const'])}`"
        if "enum" in schema:
            return " \\| ".join(f"`{_toml(v)}`" for v in schema["enum"])
        kind = schema.get("type")
        pattern = schema.get("pattern")
        if pattern == _CLOCK_PATTERN:
            return 'time of day `"HH:MM"`'
        if pattern == _DECIMAL_PATTERN:
            return "decimal"
        if kind == "number":
            return "decimal" if schema.get("description", "").startswith("a ") else "number"
        if kind == "array":
            return f"array of {self.type_of(schema.get('items', {}))}"
        if kind == "string" and schema.get("format") == "path":
            return "path"
        return str(kind) if kind else "any"

    def range_of(self, schema: dict[str, Any]) -> str:
        """The bounds the schema puts on a key's value."""
        parts = []
        for key, word in (
            ("exclusiveMinimum", "> "),
            ("minimum", "≥ "),
            ("exclusiveMaximum", "< "),
            ("maximum", "≤ "),
            ("minItems", "at least "),
            ("maxItems", "at most "),
        ):
            if key in schema:
                parts.append(f"{word}{_number(schema[key])}")
        if _is_decimal(schema) and "positive" in schema.get("description", ""):
            parts.append("> 0")
        for word in ("anyOf", "oneOf"):
            for option in schema.get(word, ()):
                inner = self.range_of(option)
                if inner:
                    parts.append(inner)
        return ", ".join(dict.fromkeys(parts))

    def table(self, definition: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
        """One row per key: key, type, range, default, description."""
        required = set(definition.get("required", ()))
        rows = ["| key | type | range | default | description |", "|---|---|---|---|---|"]
        for key, prop in definition.get("properties", {}).items():
            if key in skip:
                continue
            kind = self.type_of(prop)
            if "default" in prop:
                value = prop["default"]
                shown = value if kind == "decimal" and isinstance(value, str) else _toml(value)
                default = f"`{shown}`"
            else:  # no default in the schema: demanded, or filled in as the description says
                default = "**required**" if key in required else "*filled in*"
            text = prop.get("description") or self.described(prop)
            rows.append(
                f"| `{key}` | {kind} | {self.range_of(prop) or '—'} | {default} "
                f"| {_cell(text)} |"
            )
        return rows

    def described(self, prop: dict[str, Any]) -> str:
        """A table-valued key without a description of its own: its table's, if any."""
        name = _ref_name(prop) or _ref_name(prop.get("items", {}))
        if name is not None:
            return str(self.defs[name].get("description", ""))
        if "oneOf" in prop:
            return (
                "where `tickstate run` sends the orders: one of the `[broker]` tables below "
                "(default: the simulated exchange)"
            )
        return ""



def _number(value: float) -> str:
    """A bound as a person reads it: ``1,000,000,000``, ``0.001``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _is_decimal(schema: dict[str, Any]) -> bool:
    """An exact decimal: a TOML number, or a string of digits (``Money``, ``Ratio``, ...)."""
    options = schema.get("anyOf", ())
    return len(options) == 2 and {o.get("type") for o in options} == {"number", "string"} and any(
        o.get("pattern") == _DECIMAL_PATTERN for o in options
    )


def _anchor(name: str, defs: dict[str, Any]) -> str:
    if name == "SignalTable":
        return "signal"
    for heading, definition, _ in _TABLES:
        if definition == name:
            return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")
    return name.lower()


def _cell(text: str) -> str:
    """Docstring text as a Markdown table cell: ``code`` as `code`, no pipes or newlines."""
    return re.sub(r"``([^`]+)``", r"`\1`", text).replace("|", "\\|").replace("\n", " ").strip()


def schema_markdown() -> str:
    """The strategy-file reference as Markdown (``docs/strategy-file.md``)."""
    from strategies.spec import strategy_schema

    schema = strategy_schema()
    writer = _Writer(schema)
    defs = writer.defs
    lines = [
        "# Strategy files: every key",
        "",
        "<!-- Generated by `tickstate schema --markdown` from the schema strategy files are "
        "validated with; do not edit. `tickstate schema --markdown --check "
        "docs/strategy-file.md` fails when it differs. -->",
        "",
        "A strategy file is TOML. `tickstate validate FILE` checks one (a mistake is one line: "
        "`file: key.path: problem`, with \"did you mean\" for a misspelt key); `tickstate "
        "schema` prints the same rules as a JSON Schema for editors. Unknown keys are refused "
        "everywhere. The commented examples: "
        "[`examples/eighty_twenty.toml`](../examples/eighty_twenty.toml), "
        "[`examples/opening_range.toml`](../examples/opening_range.toml), "
        "[`examples/gap_fade/gap_fade.toml`](../examples/gap_fade/gap_fade.toml) (a plugin's).",
        "",
        "- **decimal**: prices, ticks and money are exact decimals, quoted (`\"0.01\"`) or not "
        "(`0.20`); an unquoted one is read from its text, never as a binary float.",
        '- **time of day**: `"HH:MM"` (or `"HH:MM:SS"`), local to `[session] timezone`.',
        "- **default** `none`: the key is off unless written. **required**: no default; "
        "`validate` names it when missing. *filled in*: may be left out, and is then derived "
        "as its description says.",
        "",
        "## Top level",
        "",
        *writer.table(schema),
        "",
        "## [signal]",
        "",
        "Required. `kind` names a registered signal; the table's other keys are that signal's "
        "parameters, validated by the signal itself (the same one-line errors as the rest of "
        "the file). A plugin's parameters are its own (see "
        "[writing-a-signal.md](writing-a-signal.md)); `tickstate schema` lists those of every "
        "installed signal.",
        "",
    ]
    builtins = _builtin_signals()
    for option in defs["SignalTable"]["oneOf"]:
        kind = option["properties"]["kind"]["const"]
        if kind not in builtins:
            continue
        lines += [f'### kind = "{kind}"', ""]
        if option.get("description"):
            lines += [_cell(option["description"]), ""]
        lines += [*writer.table(option, skip=("kind",)), ""]
    for heading, name, when in _TABLES:
        definition = defs[name]
        lines += [f"## {heading}", "", f"{_cell(definition.get('description', ''))} {when}", ""]
        lines += [*writer.table(definition), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def check_markdown(path: Path) -> int:
    """``--check FILE``: exit 1 (one line) when FILE is not what ``--markdown`` prints."""
    import sys

    from strategies.cli._codes import EXIT_DIFFERS, EXIT_OK

    try:
        committed = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"tickstate schema --check: {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_DIFFERS
    if committed != schema_markdown():
        print(
            f"tickstate schema --check: {path} differs from the schema; write it with "
            f"tickstate schema --markdown > {path}",
            file=sys.stderr,
        )
        return EXIT_DIFFERS
    return EXIT_OK

"""Where a validation error points, as a key path a person reads: ``instruments[1].tick``.

pydantic's locations carry the tag of a tagged union (``broker.sim.speed``); the tag is dropped.
An unknown key gets the nearest known key as a suggestion, or the list of known keys.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from strategies._fields import describe, shown
from strategies.spec._broker import BROKER_TAGS, AlpacaBrokerSpec, SimBrokerSpec

__all__ = ["dotted", "locate", "unknown_key"]


def locate(error: ErrorDetails, root: type[BaseModel]) -> tuple[str, str]:
    """The key path and the problem of one pydantic error in a file validated by ``root``."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[0] == "broker" and loc[1] in BROKER_TAGS:
        del loc[1]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    kind = error["type"]
    if kind == "tickstate":
        at, problem = str(ctx["at"]), str(ctx["problem"])
        return ".".join(part for part in (dotted(loc), at) if part), problem
    if kind == "extra_forbidden":
        return dotted(loc), _unknown_key_at(error["loc"], root)
    if kind == "union_tag_invalid":
        expected = ", ".join(f'"{tag}"' for tag in BROKER_TAGS)
        problem = f"must be one of {expected}, got {shown(ctx['tag'])}"
        if ctx["tag"] == "paper":
            problem += " (replays always use the in-process paper broker; run needs a venue)"
        return dotted([*loc, "kind"]), problem
    return dotted(loc), describe(error)


def dotted(loc: list[int | str]) -> str:
    """A location as a key path: ``["instruments", 1, "tick"]`` → ``instruments[1].tick``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path


def _unknown_key_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    key = str(loc[-1])
    if loc[0] == "broker" and re.search("key|secret|token|password", key, re.I):
        return "unknown key; credentials never go in a strategy file (set them in the environment)"
    if loc[0] == "broker" and len(loc) == 3 and loc[1] in _BROKER_MODELS:
        # a key of the other kind (speed under kind = "alpaca"): say so, not "did you mean feed"
        owners = [t for t, model in _BROKER_MODELS.items() if key in model.model_fields]
        if owners:
            return f'unknown key for kind = "{loc[1]}"; only kind = "{owners[0]}" takes {key}'
    return unknown_key(key, _keys_at(loc[:-1], root))


_BROKER_MODELS: dict[str | int, type[BaseModel]] = {
    "sim": SimBrokerSpec,
    "alpaca": AlpacaBrokerSpec,
}


def unknown_key(key: str, known: tuple[str, ...]) -> str:
    """The problem of an unknown ``key``: the nearest of ``known`` as a suggestion, or the list."""
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return f"unknown key; expected one of: {', '.join(known)}" if known else "unknown key"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _keys_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> tuple[str, ...]:
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        if len(models) > 1:  # a tagged union: the tag names the member
            models = [m for m in models if part in get_args(m.model_fields["kind"].annotation)]
            continue
        field = models[0].model_fields.get(part) if models else None
        models = _models_in(field.annotation) if field else []
    return tuple(models[0].model_fields) if len(models) == 1 else ()

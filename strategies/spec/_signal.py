"""The ``[signal]`` table: which registered signal a strategy runs, and its parameters.

``kind`` names a signal of the registry (``strategies.signals``: the built-ins and every plugin
alike); the rest of the table is that signal's parameters, validated by its own ``Params``
model, so a built-in's and a plugin's mistakes read the same: ``signal.zone: must be > 0 and <
0.5, got 0.6``, ``signal.zonee: unknown key; did you mean "zone"?``. The machine's rules
(``entry_window``, ``square_off``, ``max_attempts``) live at the top of the file, the same for
every signal; a signal only supplies its default entry cutoff.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from strategies._fields import describe, fail
from strategies.signals import Signal, SignalKind, signal_kind, signal_names
from strategies.spec._errors import dotted, unknown_key

__all__ = ["SignalTable", "signal_schema"]


class SignalTable(BaseModel):
    """A registered signal's name and its parameters, validated by the signal's ``Params``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(description="a registered signal: a built-in or a plugin's name")
    _kind: SignalKind | None = PrivateAttr(default=None)
    _params: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _registered(self) -> SignalTable:
        try:
            found = signal_kind(self.kind)
        except LookupError as exc:  # unknown (with a suggestion), or claimed twice
            raise fail("kind", str(exc)) from None
        except Exception as exc:  # a broken plugin is the plugin's fault: say so in one line
            raise fail("kind", f'cannot load signal "{self.kind}": {exc}') from None
        try:
            self._params = found.parse(self.model_extra or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            at = dotted(list(first["loc"])) or "kind"
            if first["type"] == "extra_forbidden":
                problem = unknown_key(str(first["loc"][-1]), _keys(found, first["loc"][:-1]))
            else:
                problem = describe(first)
            raise fail(at, problem) from None
        self._kind = found
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """Dumped as the parameters the signal runs with: its ``Params``, defaults filled in."""
        params = self._params
        if isinstance(params, BaseModel):
            return {"kind": self.kind, **params.model_dump(mode=info.mode)}
        return handler(self)

    def __eq__(self, other: object) -> bool:
        """Two tables are equal when they run the same signal with the same parameters."""
        if not isinstance(other, SignalTable):
            return NotImplemented
        return (self.kind, self._params) == (other.kind, other._params)

    __hash__ = None  # type: ignore[assignment]  # the parameters may hold lists and tables

    @property
    def registered(self) -> SignalKind:
        """The registry's entry for ``kind``."""
        assert self._kind is not None  # set by validation
        return self._kind

    @property
    def params(self) -> Any:
        """The parameters as the signal's ``Params`` model (or the table, without ``Params``)."""
        return self._params

    def build(self, symbol: str) -> Signal:
        """The signal of ``symbol`` with these parameters."""
        return self.registered.build(self.params, symbol)


def _keys(found: SignalKind, loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """The keys a table at ``loc`` inside the signal's parameters may have."""
    model: type[BaseModel] | None = found.params
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        model = _model(annotation)
    return tuple(model.model_fields) if model is not None else ()


def _model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def signal_schema(defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a ``[signal]`` table: one alternative per registered signal.

    Each signal's ``Params`` schema gets ``kind`` as a constant; nested definitions go to
    ``defs`` (the document's ``$defs``). A signal that cannot be loaded is left out.
    """
    alternatives: list[dict[str, Any]] = []
    for name in signal_names():
        try:
            found = signal_kind(name)
        except Exception:
            continue
        schema: dict[str, Any] = (
            found.params.model_json_schema(ref_template="#/$defs/{model}")
            if found.params is not None
            else {"type": "object", "additionalProperties": True}
        )
        defs.update(schema.pop("$defs", {}))
        schema.setdefault("properties", {})
        schema["properties"] = {"kind": {"const": name}, **schema["properties"]}
        schema["required"] = ["kind", *schema.get("required", [])]
        schema["title"] = f"signal {name}"
        alternatives.append(schema)
    return {"oneOf": alternatives, "description": "the signal and its parameters"}

"""``tickstate new-signal NAME``: a signal plugin package that validates and replays as written.

The package is the shape ``docs/writing-a-signal.md`` describes and ``examples/gap_fade`` is:
a ``pyproject.toml`` registering the signal in the entry-point group ``tickstate.signals``, one
module holding the signal (a first-bar breakout, there to be replaced), and a strategy file that
uses it on the demo data. Nothing is overwritten: an existing folder is the user's mistake.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import sys
from pathlib import Path
from string import Template

__all__ = ["ScaffoldError", "check_name", "run_new_signal", "scaffold"]

#: A signal's name is also its package's and its entry point's: a lower-case Python identifier.
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MAX_NAME = 32
#: The strategy's ``name`` starts every client order id (at most 48 characters in all).
_MAX_STRATEGY = 16


class ScaffoldError(ValueError):
    """The name or the folder cannot be used; ``str()`` is the one line to show."""


def check_name(name: str) -> None:
    """Refuse a name that cannot be a package, an entry point and a signal all at once."""
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} is not a signal name: lower-case letters, digits and _, "
            "starting with a letter (e.g. gap_fade)"
        )
    if len(name) > _MAX_NAME:
        raise ScaffoldError(f"{name!r} is longer than {_MAX_NAME} characters")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(f"{name!r} is a Python keyword; it cannot name a package")
    from strategies.signals import signal_names

    if name in signal_names():
        raise ScaffoldError(f'a signal "{name}" is already registered; choose another name')
    if name in sys.stdlib_module_names or importlib.util.find_spec(name) is not None:
        raise ScaffoldError(f"{name!r} is already an importable module; choose another name")


def scaffold(name: str, parent: Path) -> Path:
    """Write the package ``parent/name`` and return its folder; raise ``ScaffoldError``."""
    check_name(name)
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root}: already exists; nothing was written")
    words = {
        "name": name,
        "cls": "".join(part.capitalize() for part in name.split("_") if part),
        "strategy": name[:_MAX_STRATEGY].rstrip("_"),
        "dist": name.replace("_", "-"),
    }
    files = {
        root / "pyproject.toml": _PYPROJECT,
        root / "README.md": _README,
        root / name / "__init__.py": _INIT,
        root / name / "signal.py": _SIGNAL,
        root / f"{name}.toml": _STRATEGY,
    }
    try:
        for path, template in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Template(template).substitute(words), encoding="utf-8")
    except OSError as exc:
        raise ScaffoldError(f"{exc.filename or root}: {exc.strerror or exc}") from None
    return root


def run_new_signal(name: str, parent: Path) -> int:
    """``tickstate new-signal NAME --dir DIR``: write the package, say what to do next."""
    from strategies.cli._codes import EXIT_OK, EXIT_USAGE

    try:
        root = scaffold(name, parent)
    except ScaffoldError as exc:
        print(f"tickstate new-signal: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config = root / f"{name}.toml"
    data = Path("data") / "intraday_1min"  # the demo data, when run from a tickstate checkout
    shown = str(data) if data.is_dir() else "PATH/TO/tickstate/data/intraday_1min"
    print(f"wrote {root}: the signal {name!r} in {root / name / 'signal.py'}")
    print("next:")
    print(f"  pip install -e {root}")
    print(f"  tickstate validate {config}")
    print(f"  tickstate replay {config} --data {shown} --start 2012-11-15")
    return EXIT_OK


_PYPROJECT = """\
# A tickstate signal plugin: `pip install -e .` here registers the signal "$name".
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "tickstate-$dist"
version = "0.1.0"
description = "The $name signal for tickstate."
requires-python = ">=3.11"
dependencies = ["tickstate"]

[tool.setuptools]
packages = ["$name"]

# The name a strategy file's [signal] kind uses = "module:object"; tickstate builds the signal
# of each symbol as $cls(params, symbol).
[project.entry-points."tickstate.signals"]
$name = "$name.signal:$cls"
"""

_README = """\
# $name

A tickstate signal plugin, made by `tickstate new-signal $name`. How signals work, and every
hook this one may declare: tickstate's `docs/writing-a-signal.md`.

```sh
pip install -e .                                   # registers the signal "$name"
tickstate validate $name.toml                      # the strategy file that uses it
tickstate replay $name.toml --data PATH/TO/tickstate/data/intraday_1min --start 2012-11-15
tickstate run $name.toml --start 2012-11-15 --speed 600   # live, on the simulated exchange
```

The rule in `$name/signal.py` is a placeholder (buy a break of the session's first bar); change
`on_bar` and the `Params`, keep the rest.
"""

_INIT = """\
\"\"\"The $name signal for tickstate (see ``$name.signal``).\"\"\"

from $name.signal import $cls, ${cls}Params

__all__ = ["$cls", "${cls}Params"]
"""

_SIGNAL = """\
\"\"\"The $name signal: a first-bar breakout, the placeholder rule to replace with yours.

Long only: when the session's first bar completes, a BUY STOP goes in at its high (rounded up to
the tick) with an initial stop ``stop_offset_ticks`` below its low. The machine places the
protective stop at the fill; the stop or the engine's square-off ends the trade.
\"\"\"

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from brokers import Bar
from machines import (
    EntryLeg,
    EntrySignalled,
    Outcome,
    Side,
    Snapshot,
    StrategyEvent,
    ceil_to_tick,
    floor_to_tick,
)
from strategies.signals import Count, SessionContext, entries_closed

__all__ = ["$cls", "${cls}Params"]


class ${cls}Params(BaseModel):
    \"\"\"The [signal] table of a $name strategy (everything but ``kind``).\"\"\"

    model_config = ConfigDict(extra="forbid", frozen=True)  # unknown keys are mistakes

    stop_offset_ticks: Count = Field(
        default=1, ge=0, description="initial stop ticks below the first bar's low"
    )


class $cls:
    \"\"\"The $name signal of one symbol.\"\"\"

    Params: ClassVar[type[${cls}Params]] = ${cls}Params
    default_entry_cutoff: ClassVar[time] = time(11, 30)  # [entry_window] end, when not written

    def __init__(self, params: ${cls}Params, symbol: str) -> None:
        self.params = params
        self.symbol = symbol
        self._context: SessionContext | None = None
        self._leg: EntryLeg | None = None  # today's entry, from the first bar
        self._answered = False  # the machine answered our entry today (taken or declined)

    def start_session(self, context: SessionContext) -> None:
        \"\"\"A new session: forget yesterday.\"\"\"
        self._context = context
        self._leg, self._answered = None, False

    def on_bar(self, bar: Bar, snapshot: Snapshot) -> Sequence[StrategyEvent]:
        \"\"\"A bar of the session completed: the events to fire, in order.\"\"\"
        context = self._context
        if context is None or self._answered:
            return ()
        end = context.bar_end(bar)  # events decided on a bar happen when it completes
        if self._leg is None:  # the session's first bar
            tick = context.tick
            entry = ceil_to_tick(bar.high, tick)
            offset = self.params.stop_offset_ticks * tick.size_at(bar.low)
            stop = floor_to_tick(bar.low - offset, tick)
            if not stop < entry:
                self._answered = True  # no room for a protective stop today
                return ()
            self._leg = EntryLeg(side=Side.BUY, entry_price=entry, initial_stop=stop)
        if entries_closed(end, context.entry_cutoff, snapshot) or not snapshot.is_flat:
            return ()
        qty = context.size(self._leg.entry_price, self._leg.initial_stop)
        return (EntrySignalled(at=end, qty=qty, legs=(self._leg,)),)

    def on_outcome(self, outcome: Outcome) -> None:
        \"\"\"The machine's answer to an event ``on_bar`` returned: one entry a day.\"\"\"
        if isinstance(outcome.event, EntrySignalled):
            self._answered = True
"""

_STRATEGY = """\
# A strategy running the $name signal on two US stocks of tickstate's demo data (2012).
# Every key: tickstate's docs/strategy-file.md. Check it with `tickstate validate $name.toml`.

name = "$strategy"                      # starts every client order id
max_attempts = 1                        # entries per symbol per day
square_off = "15:15"                    # flatten what is still open at 15:15 New York time
bar_minutes = 5                         # the signal reads 5-minute bars

[signal]
kind = "$name"                          # the entry point's name in pyproject.toml
stop_offset_ticks = 1                   # a parameter of ${cls}Params

[session]
calendar = "XNYS"                       # New York Stock Exchange hours, holidays, early closes

[entry_window]
start = "09:30"                         # no entry before the open
end = "11:30"                           # the entry cutoff

[sizing]
fixed_qty = 100                         # shares per entry

[broker]
kind = "sim"                            # tickstate run: the local simulated exchange
speed = 600                             # ten minutes of bars a second

[[instruments]]
symbol = "AAPL"
tick = "0.01"

[[instruments]]
symbol = "GOOG"
tick = "0.01"
"""

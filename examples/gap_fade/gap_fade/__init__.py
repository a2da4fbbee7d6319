"""Gap fade: a tickstate signal plugin (see ``gap_fade.signal``)."""

from gap_fade.signal import GapFade, GapFadeParams

__all__ = ["GapFade", "GapFadeParams"]

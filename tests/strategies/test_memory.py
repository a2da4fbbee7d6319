"""The collector settings of a live run: frozen start-up heap, a larger young generation, undone."""

from __future__ import annotations

import gc

from strategies._memory import LIVE_YOUNG_THRESHOLD, tuned_for_live


class TestTunedForLive:
    def test_the_start_up_heap_is_frozen_and_young_collections_wait_longer(self):
        """Inside the block what was alive is frozen and gen0 waits for LIVE_YOUNG_THRESHOLD
        allocations; on leaving, the thresholds are as before and nothing stays frozen."""
        before = gc.get_threshold()
        with tuned_for_live():
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold() == (LIVE_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

    def test_blocks_nest_and_only_the_outermost_undoes_them(self):
        """Two runs in one process: the inner block's end keeps the outer one's settings."""
        before = gc.get_threshold()
        with tuned_for_live():
            with tuned_for_live():
                pass
            assert gc.get_threshold()[0] == LIVE_YOUNG_THRESHOLD
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

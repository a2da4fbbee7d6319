"""The collector settings of a run, live or replayed: frozen start-up heap, a larger young
generation, undone."""

from __future__ import annotations

import gc

from strategies._memory import RUN_YOUNG_THRESHOLD, tuned_for_a_run


class TestTunedForARun:
    def test_the_start_up_heap_is_frozen_and_young_collections_wait_longer(self):
        """Inside the block what was alive is frozen and gen0 waits for RUN_YOUNG_THRESHOLD
        allocations; on leaving, the thresholds are as before and nothing stays frozen."""
        before = gc.get_threshold()
        with tuned_for_a_run():
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold() == (RUN_YOUNG_THRESHOLD, *before[1:])
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0

    def test_blocks_nest_and_only_the_outermost_undoes_them(self):
        """Two runs in one process: the inner block's end keeps the outer one's settings."""
        before = gc.get_threshold()
        with tuned_for_a_run():
            with tuned_for_a_run():
                pass
            assert gc.get_threshold()[0] == RUN_YOUNG_THRESHOLD
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0


class TestAReplayIsARun:
    def test_both_models_replay_with_the_bars_frozen_and_leave_the_collector_as_it_was(
        self, tmp_path
    ):
        """A replay is a run: its bars live until it ends and each bar's objects die young, so
        both models replay (and fingerprint, and write) with the heap frozen and the young
        generation larger, checked from inside the loop; after, nothing stays frozen."""
        from strategies.run import run_replay
        from tests.strategies.replaying import eighty_twenty_two_days

        spec, bars = eighty_twenty_two_days()
        before = gc.get_threshold()
        for model in ("twin", "plain"):
            seen: list[tuple[int, int]] = []

            def look(_n: int, seen: list[tuple[int, int]] = seen) -> None:
                seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

            run_replay(spec, bars, out_dir=tmp_path / model, model=model, progress=look)
            assert seen
            assert {young for young, _ in seen} == {RUN_YOUNG_THRESHOLD}
            assert min(frozen for _, frozen in seen) >= len(bars)
            assert gc.get_threshold() == before
            assert gc.get_freeze_count() == 0

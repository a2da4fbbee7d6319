"""Sessions come from the exchange calendar: weekends, holidays, early closes, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from strategies._exceptions import CalendarError
from strategies._sessions import Session, TradingCalendar


@pytest.fixture(scope="module")
def nyse() -> TradingCalendar:
    return TradingCalendar.for_name("XNYS")


@pytest.fixture(scope="module")
def nse() -> TradingCalendar:
    return TradingCalendar.for_name("XNSE")


class TestPreviousAndNextSession:
    def test_monday_follows_friday(self, nyse):
        """The session before Monday 2013-07-08 is Friday 2013-07-05, not Sunday."""
        assert nyse.previous_session(date(2013, 7, 8)) == date(2013, 7, 5)
        assert nyse.next_session(date(2013, 7, 5)) == date(2013, 7, 8)

    def test_day_after_thanksgiving_looks_back_to_wednesday(self, nyse):
        """Thanksgiving 2012-11-22 did not trade: the day after's previous session is 2012-11-21."""
        assert not nyse.is_session(date(2012, 11, 22))
        assert nyse.previous_session(date(2012, 11, 23)) == date(2012, 11, 21)

    def test_day_after_independence_day_looks_back_to_july_third(self, nyse):
        """After the 2013-07-04 holiday, the previous session is 2013-07-03."""
        assert nyse.previous_session(date(2013, 7, 5)) == date(2013, 7, 3)

    def test_first_session_of_a_year_looks_back_across_new_year(self, nyse):
        """2013-01-02's previous session is 2012-12-31 (New Year's Day closed)."""
        assert nyse.previous_session(date(2013, 1, 2)) == date(2012, 12, 31)

    def test_unplanned_closure_is_in_the_calendar(self, nyse):
        """After 9/11 the NYSE reopened on 2001-09-17; its previous session is 2001-09-10."""
        assert nyse.previous_session(date(2001, 9, 17)) == date(2001, 9, 10)

    def test_holiday_itself_may_be_asked_about(self, nyse):
        """previous/next work from a non-session day too: around 2013-07-04."""
        assert nyse.previous_session(date(2013, 7, 4)) == date(2013, 7, 3)
        assert nyse.next_session(date(2013, 7, 4)) == date(2013, 7, 5)

    def test_nse_republic_day_friday_skips_to_monday(self, nse):
        """NSE closed Friday 2024-01-26 (Republic Day): Monday 2024-01-29 looks back to Thursday."""
        assert not nse.is_session(date(2024, 1, 26))
        assert nse.previous_session(date(2024, 1, 29)) == date(2024, 1, 25)
        assert nse.next_session(date(2024, 1, 25)) == date(2024, 1, 29)

    def test_nse_holi_monday_looks_back_to_friday(self, nse):
        """Holi closed NSE on Monday 2024-03-25: Tuesday's previous session is Friday 2024-03-22."""
        assert nse.previous_session(date(2024, 3, 26)) == date(2024, 3, 22)

    def test_sessions_between_two_dates_skip_weekends_and_holidays(self, nyse):
        """The week of Thanksgiving 2012 has four sessions."""
        week = nyse.sessions(date(2012, 11, 19), date(2012, 11, 25))
        assert week == (
            date(2012, 11, 19),
            date(2012, 11, 20),
            date(2012, 11, 21),
            date(2012, 11, 23),
        )

    def test_calendar_covers_the_demo_years_and_beyond(self, nyse):
        """XNYS answers from 2000 through 2030."""
        assert nyse.first == date(2000, 1, 3)
        assert nyse.last == date(2030, 12, 31)

    def test_date_outside_the_calendar_is_refused(self, nse):
        """XNSE's holidays are recorded only so far; asking beyond them is an error, not a guess."""
        with pytest.raises(CalendarError, match="outside the XNSE calendar"):
            nse.previous_session(date(2031, 1, 6))


class TestSessionTimes:
    def test_session_open_follows_daylight_saving_time(self, nyse):
        """09:30 New York is 14:30 UTC on Friday 2013-03-08, 13:30 UTC after the DST switch."""
        assert nyse.open_at(date(2013, 3, 8)).astimezone(UTC) == datetime(
            2013, 3, 8, 14, 30, tzinfo=UTC
        )
        assert nyse.open_at(date(2013, 3, 11)).astimezone(UTC) == datetime(
            2013, 3, 11, 13, 30, tzinfo=UTC
        )

    def test_nse_opens_at_quarter_past_nine_india_time(self, nse):
        """NSE's 09:15 IST is 03:45 UTC (India keeps no DST)."""
        opened = nse.open_at(date(2024, 1, 29))
        assert opened.astimezone(UTC) == datetime(2024, 1, 29, 3, 45, tzinfo=UTC)
        assert nse.close_at(date(2024, 1, 29)).time() == time(15, 30)

    def test_early_close_is_the_calendars(self, nyse):
        """2013-07-03 closed at 13:00 New York time."""
        assert nyse.close_at(date(2013, 7, 3)).time() == time(13, 0)

    def test_strategy_session_closes_early_on_a_half_day(self, nyse):
        """A 09:30-16:00 strategy session ends at 13:00 on the day after Thanksgiving."""
        session = Session(calendar=nyse, open=time(9, 30), close=time(16, 0))
        assert session.close_at(date(2012, 11, 23)).time() == time(13, 0)
        assert session.close_at(date(2012, 11, 21)).time() == time(16, 0)

    def test_open_of_a_holiday_is_an_error(self, nyse):
        """There is no open on a day that does not trade."""
        with pytest.raises(CalendarError, match="2013-07-04 is not a XNYS session"):
            nyse.open_at(date(2013, 7, 4))

    def test_local_clock_time_on_a_date_is_timezone_aware(self, nyse):
        """Session.at gives an aware datetime in the exchange's zone."""
        session = Session(calendar=nyse, open=time(9, 30), close=time(16, 0))
        at = session.at(date(2013, 11, 4), time(15, 15))
        assert at.astimezone(UTC) == datetime(2013, 11, 4, 20, 15, tzinfo=UTC)


class TestCalendarLookup:
    def test_calendars_are_built_once(self):
        """for_name returns the same cached calendar."""
        assert TradingCalendar.for_name("XNYS") is TradingCalendar.for_name("XNYS")

    def test_unknown_calendar_is_an_error(self):
        """A name exchange_calendars does not know is refused."""
        with pytest.raises(CalendarError, match='unknown trading calendar "NOPE"'):
            TradingCalendar.for_name("NOPE")

    def test_spec_session_gives_the_same_previous_session(self):
        """A strategy's session (from its file) answers previous_session by its calendar."""
        from strategies.spec._strategy import SessionSpec

        hours = SessionSpec.model_validate({"calendar": "XNYS"}).hours()
        assert hours.previous_session(date(2012, 11, 23)) == date(2012, 11, 21)
        assert hours.timezone.key == "America/New_York"


class TestCalendarCache:
    """A built calendar is kept as plain data, so the next process need not import pandas."""

    def test_a_cached_calendar_answers_as_the_library_built_one(self, tmp_path, monkeypatch):
        """Read back from the cache, XNYS and XNSE have the library's sessions and hours."""
        from strategies._sessions import _cache_file, _from_library, _read_cache, _write_cache

        monkeypatch.setenv("TICKSTATE_CACHE_DIR", str(tmp_path))
        for name in ("XNYS", "XNSE"):
            built = _from_library(name)
            file = _cache_file(name)
            assert file is not None
            assert file.is_relative_to(tmp_path)
            _write_cache(file, built)
            cached = _read_cache(file, name)
            assert cached == built
            assert dict(cached._hours) == dict(built._hours)
            assert [h[1].utcoffset() for h in cached._hours.values()] == [
                h[1].utcoffset() for h in built._hours.values()
            ]

    def test_a_damaged_cache_file_is_ignored(self, tmp_path, monkeypatch):
        """Half a file (a crash mid-write elsewhere) reads as no cache, never as an error."""
        from strategies._sessions import _cache_file, _read_cache

        monkeypatch.setenv("TICKSTATE_CACHE_DIR", str(tmp_path))
        file = _cache_file("XNYS")
        assert file is not None
        file.parent.mkdir(parents=True)
        file.write_text('{"format": 1, "name": "XNYS", "sessions": [', encoding="utf-8")
        assert _read_cache(file, "XNYS") is None

    def test_a_cache_directory_that_cannot_be_written_is_no_error(self, tmp_path, monkeypatch):
        """Where the cache cannot be written, the calendar is still built and returned."""
        from strategies._sessions import _cache_file, _from_library, _write_cache

        blocker = tmp_path / "file"
        blocker.write_text("", encoding="utf-8")
        monkeypatch.setenv("TICKSTATE_CACHE_DIR", str(blocker))  # a file, not a directory
        file = _cache_file("XNYS")
        assert file is not None
        _write_cache(file, _from_library("XNYS"))
        assert not file.exists()

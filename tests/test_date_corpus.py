"""The date corpus: how people type days and times, in Swedish and English, with what
each must mean (or why it is refused), judged from fixed moments in Europe/Stockholm.

Each line is `now language | typed | expected`. A meeting time expects the local
"YYYY-MM-DD HH:MM" (with the UTC offset where a DST change makes it matter) or the
reason of the refusal; a deadline expects "YYYY-MM-DD" or the reason. A sample goes
through /book and the goal deadline step end to end, where what was understood is
shown in full before the booking is sent or the goal is set.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.clock import TravellingClock
from bot.domain.dates import Unreadable, parse_date
from bot.domain.when import parse_when
from storage.db import Database
from storage.models import Goal, Meeting, Notification
from tests.factories import active_pair
from tests.harness import Person

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = {
    "TUE": datetime(2026, 12, 1, 9, 0, tzinfo=STOCKHOLM),  # a Tuesday morning
    "FRI": datetime(2026, 12, 4, 19, 30, tzinfo=STOCKHOLM),  # a Friday evening
    "END": datetime(2027, 1, 31, 12, 0, tzinfo=STOCKHOLM),  # the 31st, a Sunday
    "MAR": datetime(2027, 3, 31, 10, 0, tzinfo=STOCKHOLM),  # the 31st, a Wednesday
    "DST": datetime(2027, 3, 26, 18, 0, tzinfo=STOCKHOLM),  # before summer time begins
    "OCT": datetime(2027, 10, 29, 18, 0, tzinfo=STOCKHOLM),  # before summer time ends
}

MOMENTS = """
# Tuesday morning, 1 December 2026 09:00 — Swedish
TUE sv | imorgon kl 9 | 2026-12-02 09:00
TUE sv | i morgon 14:30 | 2026-12-02 14:30
TUE sv | idag 16 | 2026-12-01 16:00
TUE sv | idag kl 8 | in_past
TUE sv | i dag 9.30 | 2026-12-01 09:30
TUE sv | tis 14:00 | 2026-12-08 14:00
TUE sv | tisdag 10 | 2026-12-08 10:00
TUE sv | onsdag 10 | 2026-12-02 10:00
TUE sv | ons kl 10 | 2026-12-02 10:00
TUE sv | torsdag 13.15 | 2026-12-03 13:15
TUE sv | nästa torsdag 10 | 2026-12-10 10:00
TUE sv | torsdag nästa vecka kl 10 | 2026-12-10 10:00
TUE sv | tisdag nästa vecka kl 14 | 2026-12-08 14:00
TUE sv | nästa tisdag 14 | 2026-12-08 14:00
TUE sv | fredag denna vecka kl 15 | 2026-12-04 15:00
TUE sv | måndag den här veckan kl 10 | in_past
TUE sv | kl 14 på fredag | 2026-12-04 14:00
TUE sv | klockan 9 på måndag | 2026-12-07 09:00
TUE sv | 14:00 imorgon | 2026-12-02 14:00
TUE sv | onsdag 9 december kl 10 | 2026-12-09 10:00
TUE sv | Onsdag den 9 december kl. 10 | 2026-12-09 10:00
TUE sv | tisdag 9 december kl 10 | weekday_mismatch
TUE sv | 9 december kl 10 | 2026-12-09 10:00
TUE sv | den 9 december 10:00 | 2026-12-09 10:00
TUE sv | 9/12 10 | 2026-12-09 10:00
TUE sv | 3/12 15.30 | 2026-12-03 15:30
TUE sv | 1/12 08:00 | in_past
TUE sv | 2026-12-03 15:30 | 2026-12-03 15:30
TUE sv | 15 mars 10:00 | 2027-03-15 10:00
TUE sv | 15:e mars kl 10 | 2027-03-15 10:00
TUE sv | måndag 15 mars 2027 kl 10 | 2027-03-15 10:00
TUE sv | om en vecka kl 14 | 2026-12-08 14:00
TUE sv | om två veckor kl 10 | 2026-12-15 10:00
TUE sv | om 3 dagar kl 9 | 2026-12-04 09:00
TUE sv | om tre dagar 11 | 2026-12-04 11:00
TUE sv | om en månad kl 10 | 2027-01-01 10:00
TUE sv | ikväll 19 | 2026-12-01 19:00
TUE sv | ikväll kl 7 | 2026-12-01 19:00
TUE sv | i kväll 20.30 | 2026-12-01 20:30
TUE sv | imorgon kväll kl 6 | 2026-12-02 18:00
TUE sv | i eftermiddag kl 3 | 2026-12-01 15:00
TUE sv | imorgon förmiddag kl 10 | 2026-12-02 10:00
TUE sv | imorgon mitt på dagen | 2026-12-02 12:00
TUE sv | fredag vid midnatt | 2026-12-05 00:00
TUE sv | övermorgon kl 9 | 2026-12-03 09:00
TUE sv | i övermorgon 13 | 2026-12-03 13:00
TUE sv | igår kl 10 | in_past
TUE sv | i förrgår 10 | in_past
TUE sv | förra fredagen kl 10 | in_past
TUE sv | för två dagar sedan kl 10 | in_past
TUE sv | måndag vecka 50 kl 10 | 2026-12-07 10:00
TUE sv | v. 51 tisdag 9 | 2026-12-15 09:00
TUE sv | kl 10 | 2026-12-01 10:00
TUE sv | 14 | 2026-12-01 14:00
TUE sv | 8 | 2026-12-02 08:00
TUE sv | halv tre | no_date
TUE sv | tis | no_time
TUE sv | imorgon | no_time
TUE sv | imorgon kl | no_time
TUE sv | nästa vecka | no_date
TUE sv | ikväll | no_time
TUE sv | 15 mars | no_time
TUE sv | 31/2 10:00 | bad_date
TUE sv | imorgon 25:00 | bad_time
TUE sv | imorgon 10:75 | bad_time
TUE sv | kl 25 | bad_time
TUE sv |  | empty
TUE sv | vet inte | no_date
TUE sv | juni | no_date
TUE sv | blabla 14 | no_date
TUE sv | 2020-01-01 10:00 | in_past
# Tuesday morning — English
TUE en | tomorrow at 9 | 2026-12-02 09:00
TUE en | tomorrow 2pm | 2026-12-02 14:00
TUE en | today at 4pm | 2026-12-01 16:00
TUE en | today 8am | in_past
TUE en | next Tuesday 2pm | 2026-12-08 14:00
TUE en | tuesday 2pm | 2026-12-08 14:00
TUE en | Thursday at 10 | 2026-12-03 10:00
TUE en | next Thursday at 10 | 2026-12-10 10:00
TUE en | Thursday next week at 10am | 2026-12-10 10:00
TUE en | Friday this week at 3pm | 2026-12-04 15:00
TUE en | at 3pm on Friday | 2026-12-04 15:00
TUE en | 2pm tomorrow | 2026-12-02 14:00
TUE en | wednesday 9 december 10:00 | 2026-12-09 10:00
TUE en | Wednesday, December 9 at 10am | 2026-12-09 10:00
TUE en | tuesday 9 december 10:00 | weekday_mismatch
TUE en | December 9th at 10:30 | 2026-12-09 10:30
TUE en | the 9th of December at 10 | 2026-12-09 10:00
TUE en | march 15 at 10am | 2027-03-15 10:00
TUE en | dec 3 2pm | 2026-12-03 14:00
TUE en | monday 3 may 2pm | 2027-05-03 14:00
TUE en | wednesday 31 march 10:00 | 2027-03-31 10:00
TUE en | in a week at 2pm | 2026-12-08 14:00
TUE en | in two weeks at 10 | 2026-12-15 10:00
TUE en | in 3 days at 9am | 2026-12-04 09:00
TUE en | a week from now at 11 | 2026-12-08 11:00
TUE en | tonight at 7 | 2026-12-01 19:00
TUE en | tonight 8:30 | 2026-12-01 20:30
TUE en | this evening at 6 | 2026-12-01 18:00
TUE en | this afternoon at 3 | 2026-12-01 15:00
TUE en | tomorrow evening at 7 | 2026-12-02 19:00
TUE en | tomorrow morning at 8 | 2026-12-02 08:00
TUE en | tomorrow at noon | 2026-12-02 12:00
TUE en | Friday at midnight | 2026-12-05 00:00
TUE en | at 7 in the evening | 2026-12-01 19:00
TUE en | day after tomorrow at 9 | 2026-12-03 09:00
TUE en | yesterday at 10 | in_past
TUE en | last Friday at 10 | in_past
TUE en | 2 days ago at 10 | in_past
TUE en | 3 p.m. | 2026-12-01 15:00
TUE en | 10:30am | 2026-12-01 10:30
TUE en | 12pm | 2026-12-01 12:00
TUE en | 12am | 2026-12-02 00:00
TUE en | 13pm | bad_time
TUE en | tomorrow | no_time
TUE en | tomorrow at | no_time
TUE en | next week | no_date
TUE en | june | no_date
TUE en | whenever | no_date
TUE en | tomorrow 25:00 | bad_time
TUE en | 31/2 at 10 | bad_date
# Friday evening, 4 December 2026 19:30 — Swedish
FRI sv | ikväll 19 | in_past
FRI sv | ikväll 21 | 2026-12-04 21:00
FRI sv | ikväll kl 9 | 2026-12-04 21:00
FRI sv | fredag 10 | 2026-12-11 10:00
FRI sv | fredag 20 | 2026-12-11 20:00
FRI sv | idag 20 | 2026-12-04 20:00
FRI sv | idag 18 | in_past
FRI sv | nästa fredag 10 | 2026-12-11 10:00
FRI sv | fredag nästa vecka kl 10 | 2026-12-11 10:00
FRI sv | måndag 9 | 2026-12-07 09:00
FRI sv | nästa måndag 9 | 2026-12-07 09:00
FRI sv | lördag 11 | 2026-12-05 11:00
FRI sv | söndag kl 15 | 2026-12-06 15:00
FRI sv | nästa söndag kl 15 | 2026-12-13 15:00
FRI sv | imorgon kl 10 | 2026-12-05 10:00
FRI sv | 20:00 | 2026-12-04 20:00
FRI sv | 19 | 2026-12-05 19:00
FRI sv | kl 7 | 2026-12-05 07:00
FRI sv | om en vecka kl 10 | 2026-12-11 10:00
FRI sv | om två dagar kl 12 | 2026-12-06 12:00
FRI sv | torsdag 10 | 2026-12-10 10:00
FRI sv | tisdag nästa vecka 14 | 2026-12-08 14:00
FRI sv | 4/12 18:00 | in_past
FRI sv | 4/12 21:00 | 2026-12-04 21:00
FRI sv | midnatt | 2026-12-05 00:00
FRI sv | ikväll vid midnatt | 2026-12-05 00:00
# Friday evening — English
FRI en | tonight at 7 | in_past
FRI en | tonight at 9 | 2026-12-04 21:00
FRI en | friday at 10am | 2026-12-11 10:00
FRI en | next friday 10am | 2026-12-11 10:00
FRI en | today at 8pm | 2026-12-04 20:00
FRI en | tomorrow at 10 | 2026-12-05 10:00
FRI en | monday 9am | 2026-12-07 09:00
FRI en | sunday at 3pm | 2026-12-06 15:00
FRI en | in a week at 10 | 2026-12-11 10:00
FRI en | 8pm | 2026-12-04 20:00
FRI en | 7pm | 2026-12-05 19:00
FRI en | at midnight | 2026-12-05 00:00
FRI en | Saturday 5 December at 11 | 2026-12-05 11:00
FRI en | Sunday 5 December at 11 | weekday_mismatch
# The 31st: Sunday 31 January 2027 12:00
END sv | imorgon kl 9 | 2027-02-01 09:00
END sv | om en månad kl 10 | 2027-02-28 10:00
END en | in a month at 10 | 2027-02-28 10:00
END sv | söndag 10 | 2027-02-07 10:00
END sv | måndag kl 9 | 2027-02-01 09:00
END sv | nästa måndag kl 9 | 2027-02-01 09:00
END en | monday next week at 9 | 2027-02-01 09:00
END sv | 31/1 18:00 | 2027-01-31 18:00
END sv | 31/1 10:00 | in_past
END sv | 1/2 10 | 2027-02-01 10:00
END sv | 28 februari kl 10 | 2027-02-28 10:00
END sv | 29 februari kl 10 | 2028-02-29 10:00
END sv | 30 februari kl 10 | bad_date
END sv | idag 15 | 2027-01-31 15:00
END sv | ikväll 8 | 2027-01-31 20:00
END sv | om 2 veckor kl 9 | 2027-02-14 09:00
END en | feb 1st at 9am | 2027-02-01 09:00
END en | tomorrow at noon | 2027-02-01 12:00
END sv | tisdag 2 februari 10:00 | 2027-02-02 10:00
END en | wednesday 2 february 10:00 | weekday_mismatch
# The 31st: Wednesday 31 March 2027 10:00
MAR en | wednesday 31 march 10:00 | in_past
MAR sv | onsdag 31 mars kl 14 | 2027-03-31 14:00
MAR sv | onsdag kl 14 | 2027-04-07 14:00
MAR sv | idag kl 14 | 2027-03-31 14:00
MAR sv | om en månad kl 10 | 2027-04-30 10:00
MAR sv | imorgon 9 | 2027-04-01 09:00
# Spring forward: Friday 26 March 2027 18:00; clocks go from 02:00 to 03:00 on Sunday
DST sv | söndag kl 10 | 2027-03-28 10:00+02:00
DST en | sunday at 2:30am | 2027-03-28 03:30+02:00
DST sv | söndag 02:30 | 2027-03-28 03:30+02:00
DST sv | om en vecka kl 14 | 2027-04-02 14:00+02:00
DST sv | imorgon kl 14 | 2027-03-27 14:00+01:00
DST sv | måndag 9 | 2027-03-29 09:00+02:00
DST en | in 2 days at 9 | 2027-03-28 09:00+02:00
# Fall back: Friday 29 October 2027 18:00; clocks go from 03:00 to 02:00 on Sunday
OCT sv | söndag kl 10 | 2027-10-31 10:00+01:00
OCT sv | söndag 02:30 | 2027-10-31 02:30+02:00
OCT sv | imorgon kl 10 | 2027-10-30 10:00+02:00
OCT sv | om en vecka kl 14 | 2027-11-05 14:00+01:00
OCT en | next monday at 9 | 2027-11-01 09:00+01:00
"""

DAYS = """
# Tuesday 1 December 2026 — Swedish
TUE sv | 15 mars | 2027-03-15
TUE sv | den 15 mars | 2027-03-15
TUE sv | 15 mars 2027 | 2027-03-15
TUE sv | 15:e mars | 2027-03-15
TUE sv | 2027-03-15 | 2027-03-15
TUE sv | 15/3 | 2027-03-15
TUE sv | 15/3/27 | 2027-03-15
TUE sv | 15.3.2027 | 2027-03-15
TUE sv | 15.3 | 2027-03-15
TUE sv | 15.12 | 2026-12-15
TUE sv | senast 15 mars | 2027-03-15
TUE sv | juni | 2027-06-30
TUE sv | i juni | 2027-06-30
TUE sv | slutet av juni | 2027-06-30
TUE sv | i slutet av juni | 2027-06-30
TUE sv | början av april | 2027-04-01
TUE sv | mitten av mars | 2027-03-15
TUE sv | december | 2026-12-31
TUE sv | i december | 2026-12-31
TUE sv | början av december | 2027-12-01
TUE sv | slutet av året | 2026-12-31
TUE sv | slutet av nästa år | 2027-12-31
TUE sv | nästa år | 2027-12-31
TUE sv | slutet av nästa månad | 2027-01-31
TUE sv | nästa månad | 2027-01-31
TUE sv | slutet av månaden | 2026-12-31
TUE sv | maj 2027 | 2027-05-31
TUE sv | 2027 | 2027-12-31
TUE sv | i början av 2027 | 2027-01-01
TUE sv | mitten av 2027 | 2027-06-30
TUE sv | I slutet av juni 2027. | 2027-06-30
TUE sv | slutet av februari | 2027-02-28
TUE sv | mitten av nästa månad | 2027-01-15
TUE sv | imorgon | 2026-12-02
TUE sv | i morgon | 2026-12-02
TUE sv | övermorgon | 2026-12-03
TUE sv | idag | 2026-12-01
TUE sv | igår | 2026-11-30
TUE sv | ikväll | 2026-12-01
TUE sv | fredag | 2026-12-04
TUE sv | på fredag | 2026-12-04
TUE sv | tisdag | 2026-12-08
TUE sv | nästa fredag | 2026-12-11
TUE sv | fredag nästa vecka | 2026-12-11
TUE sv | nästa vecka | 2026-12-13
TUE sv | slutet av veckan | 2026-12-06
TUE sv | slutet av nästa vecka | 2026-12-13
TUE sv | början av nästa vecka | 2026-12-07
TUE sv | om en vecka | 2026-12-08
TUE sv | om två veckor | 2026-12-15
TUE sv | om 10 dagar | 2026-12-11
TUE sv | om tre dagar | 2026-12-04
TUE sv | om en månad | 2027-01-01
TUE sv | om två månader | 2027-02-01
TUE sv | om sex månader | 2027-06-01
TUE sv | om ett år | 2027-12-01
TUE sv | om ett halvår | 2027-06-01
TUE sv | inom tre veckor | 2026-12-22
TUE sv | vecka 12 | 2027-03-28
TUE sv | v. 12 | 2027-03-28
TUE sv | fredag vecka 12 | 2027-03-26
TUE sv | onsdag 9 december | 2026-12-09
TUE sv | tisdag 9 december | weekday_mismatch
TUE sv | fredag den 11 december | 2026-12-11
TUE sv | den 15:e | 2026-12-15
TUE sv | för två veckor sedan | 2026-11-17
TUE sv | förra fredagen | 2026-11-27
TUE sv | 15/3/2025 | 2025-03-15
TUE sv | 3/15 | bad_date
TUE sv | 31/2 | bad_date
TUE sv | 30 februari | bad_date
TUE sv | vet inte | unclear
TUE sv | när jag är klar | unclear
TUE sv |  | unclear
# Tuesday 1 December 2026 — English
TUE en | 15 March | 2027-03-15
TUE en | March 15 | 2027-03-15
TUE en | March 15th, 2027 | 2027-03-15
TUE en | the 15th of March | 2027-03-15
TUE en | 15th March 2027 | 2027-03-15
TUE en | Mar. 15, 2027 | 2027-03-15
TUE en | by 15 March | 2027-03-15
TUE en | end of June | 2027-06-30
TUE en | the end of June | 2027-06-30
TUE en | by the end of June | 2027-06-30
TUE en | in June | 2027-06-30
TUE en | June | 2027-06-30
TUE en | mid-March | 2027-03-15
TUE en | beginning of May | 2027-05-01
TUE en | start of April | 2027-04-01
TUE en | end of 2027 | 2027-12-31
TUE en | end of next month | 2027-01-31
TUE en | next month | 2027-01-31
TUE en | end of the month | 2026-12-31
TUE en | end of this month | 2026-12-31
TUE en | end of the year | 2026-12-31
TUE en | next year | 2027-12-31
TUE en | end of February | 2027-02-28
TUE en | middle of next month | 2027-01-15
TUE en | tomorrow | 2026-12-02
TUE en | today | 2026-12-01
TUE en | yesterday | 2026-11-30
TUE en | day after tomorrow | 2026-12-03
TUE en | friday | 2026-12-04
TUE en | on Friday | 2026-12-04
TUE en | this Friday | 2026-12-04
TUE en | next Friday | 2026-12-11
TUE en | Friday next week | 2026-12-11
TUE en | tuesday | 2026-12-08
TUE en | next week | 2026-12-13
TUE en | end of next week | 2026-12-13
TUE en | in a week | 2026-12-08
TUE en | in two weeks | 2026-12-15
TUE en | in 3 months | 2027-03-01
TUE en | in six months | 2027-06-01
TUE en | within two weeks | 2026-12-15
TUE en | a month from now | 2027-01-01
TUE en | in 10 days | 2026-12-11
TUE en | two weeks ago | 2026-11-17
TUE en | last friday | 2026-11-27
TUE en | week 12 | 2027-03-28
TUE en | wednesday 9 december | 2026-12-09
TUE en | Wednesday, December 9th | 2026-12-09
TUE en | Tuesday 9 December | weekday_mismatch
TUE en | the 15th | 2026-12-15
TUE en | 3/15 | bad_date
TUE en | whenever I'm ready | unclear
TUE en | no idea | unclear
# Friday 4 December 2026
FRI sv | fredag | 2026-12-11
FRI sv | nästa fredag | 2026-12-11
FRI sv | idag | 2026-12-04
FRI sv | måndag | 2026-12-07
FRI sv | nästa måndag | 2026-12-07
FRI sv | slutet av veckan | 2026-12-06
FRI sv | nästa vecka | 2026-12-13
FRI sv | om en vecka | 2026-12-11
FRI en | friday | 2026-12-11
FRI en | next monday | 2026-12-07
FRI en | in two days | 2026-12-06
FRI en | end of the week | 2026-12-06
# The 31st: Sunday 31 January 2027
END sv | om en månad | 2027-02-28
END en | in a month | 2027-02-28
END sv | om två månader | 2027-03-31
END sv | nästa månad | 2027-02-28
END sv | slutet av februari | 2027-02-28
END sv | januari | 2028-01-31
END sv | slutet av månaden | 2027-01-31
END en | end of next month | 2027-02-28
END sv | söndag | 2027-02-07
END sv | nästa söndag | 2027-02-07
END sv | måndag | 2027-02-01
END sv | 31/1 | 2027-01-31
END sv | 30/1 | 2028-01-30
END sv | 29 februari | 2028-02-29
END en | in a week | 2027-02-07
END sv | nästa vecka | 2027-02-07
END sv | slutet av veckan | 2027-01-31
END sv | mitten av februari | 2027-02-15
END sv | imorgon | 2027-02-01
END sv | om ett år | 2028-01-31
# The 31st: Wednesday 31 March 2027
MAR sv | om en månad | 2027-04-30
MAR sv | nästa månad | 2027-04-30
MAR en | in a month | 2027-04-30
MAR sv | onsdag | 2027-04-07
MAR sv | idag | 2027-03-31
MAR sv | slutet av mars | 2028-03-31
MAR sv | i slutet av april | 2027-04-30
MAR sv | om tre månader | 2027-06-30
MAR sv | slutet av nästa månad | 2027-04-30
MAR en | wednesday 31 march | 2027-03-31
"""


def _lines(table: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        when, typed, expected = (part.strip() for part in line.split("|"))
        now, language = when.split()
        rows.append((now, language, typed, expected))
    return rows


def _shown(moment: datetime, expected: str) -> str:
    if "+" in expected:
        return moment.isoformat(sep=" ", timespec="minutes")
    return moment.strftime("%Y-%m-%d %H:%M")


def _moment_or_reason(now: str, typed: str, expected: str) -> str:
    try:
        moment = parse_when(typed, now=NOW[now], zone=STOCKHOLM)
    except Unreadable as problem:
        return problem.reason
    assert moment.tzinfo == STOCKHOLM
    return _shown(moment, expected)


def _day_or_reason(now: str, language: str, typed: str) -> str:
    try:
        day = parse_date(
            typed, today=NOW[now].date(), timezone="Europe/Stockholm", language=language
        )
    except Unreadable as problem:
        return problem.reason
    return day.isoformat()


def test_the_corpus_is_large_and_in_both_languages() -> None:
    rows = _lines(MOMENTS) + _lines(DAYS)
    assert len(rows) >= 200
    for table in (MOMENTS, DAYS):
        languages = [language for _, language, _, _ in _lines(table)]
        assert languages.count("sv") >= 60 and languages.count("en") >= 60
    for table in (MOMENTS, DAYS):
        rows = _lines(table)
        assert len({(now, language, typed) for now, language, typed, _ in rows}) == len(rows)


def test_meeting_times_read_as_the_corpus_says() -> None:
    wrong = [
        (now, typed, expected, got)
        for now, _, typed, expected in _lines(MOMENTS)
        if (got := _moment_or_reason(now, typed, expected)) != expected
    ]
    assert not wrong, "\n".join(f"{n} {t!r}: expected {e}, got {g}" for n, t, e, g in wrong)


def test_deadlines_read_as_the_corpus_says() -> None:
    wrong = [
        (now, typed, expected, got)
        for now, language, typed, expected in _lines(DAYS)
        if (got := _day_or_reason(now, language, typed)) != expected
    ]
    assert not wrong, "\n".join(f"{n} {t!r}: expected {e}, got {g}" for n, t, e, g in wrong)


# -- a sample end to end ----------------------------------------------------------------------

People = Callable[..., Person]
SV_ANSWERS = (
    "Leda teamets veckoplanering själv och utan manus",
    "Svårt att mäta, men jag märker det när teamet frågar mig först.",
    "Min chef stöttar det och jag har en timme i veckan att förbereda.",
)
EN_ANSWERS = (
    "Give a technical talk at our company's spring conference.",
    "The talk is held and at least ten colleagues ask follow-up questions.",
    "My manager has booked the slot; preparing takes evenings I do have.",
)


@pytest.fixture
def clock() -> TravellingClock:
    """Tuesday 1 December 2026, 10:00 in Stockholm, then flowing."""
    return TravellingClock(datetime(2026, 12, 1, 10, 0, tzinfo=STOCKHOLM))


async def _sent_so_far(db: Database) -> tuple[list[tuple[str, datetime]], list[str], int]:
    """Meetings (state, start), goals' states and queued messages: what a typed day may not
    have set in motion before it was shown back."""
    async with db.session() as session:
        meetings = [(m.state, m.starts_at) for m in (await session.exec(select(Meeting))).all()]
        goals = [g.state for g in (await session.exec(select(Goal))).all()]
        queued = (await session.exec(select(func.count()).select_from(Notification))).one()
    return meetings, goals, queued


async def _typed_time(person: Person, typed: str, shown: str) -> None:
    await person.ask("/book")
    assert shown in (await person.ask(typed)).text


async def _to_the_deadline(person: Person, answers: tuple[str, ...], asked: str) -> None:
    await person.ask("/goal")
    for answer in answers:
        await person.send(answer)
        await person.reply()
    await person.expect(asked)


async def test_swedish_days_and_times_are_shown_in_full_before_anything_is_sent(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)

    await anna.ask("/book")
    passed = await anna.ask("igår kl 10")
    assert "måndag 30 november 2026 kl. 10:00 har redan passerat" in passed.text
    mismatch = await anna.ask("tisdag 9 december kl 10")
    assert "9 december 2026 är en onsdag" in mismatch.text
    understood = await anna.ask("onsdag 9 december kl 10")
    assert "Uppfattat: onsdag 9 december 2026 kl. 10:00" in understood.text
    meetings, _, queued = await _sent_so_far(db)
    wanted = datetime(2026, 12, 9, 10, 0, tzinfo=STOCKHOLM)
    assert [(state, start.astimezone(STOCKHOLM)) for state, start in meetings] == [
        ("draft", wanted)
    ]
    assert queued == 0, "nothing reaches Bertil before Anna has seen the time"
    await _typed_time(anna, "kl 14 på fredag", "Uppfattat: fredag 4 december 2026 kl. 14:00")
    await _typed_time(anna, "tisdag nästa vecka kl 14", "tisdag 8 december 2026 kl. 14:00")
    await _typed_time(anna, "om en vecka kl 14", "tisdag 8 december 2026 kl. 14:00")
    await _typed_time(anna, "ikväll 19", "tisdag 1 december 2026 kl. 19:00")

    await _to_the_deadline(anna, SV_ANSWERS, "4/4 · T – Tidsatt")
    assert "30 november 2026 ligger inte längre framför oss" in (await anna.ask("igår")).text
    mismatch = await anna.ask("tisdag 9 december")
    assert "9 december 2026 är en onsdag" in mismatch.text
    await anna.send("fredag nästa vecka")
    review = await anna.expect("Mål · Anna · version 1")
    assert "Jag tolkar det som fredag 11 december 2026" in review.text
    _, goals, queued = await _sent_so_far(db)
    assert goals == ["draft"] and queued == 0
    await anna.press("✏️ T – Datum", message_id=review.message_id)
    await anna.expect("4/4 · T – Tidsatt")
    await anna.send("slutet av mars")
    assert "Jag tolkar det som onsdag 31 mars 2027" in (await anna.expect("version 1")).text


async def test_english_days_and_times_are_shown_in_full_before_anything_is_sent(
    people: People, db: Database, clock: TravellingClock
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await active_pair(db, clock, sam, maria)

    await sam.ask("/book")
    passed = await sam.ask("yesterday at 10")
    assert "Monday 30 November 2026, 10:00 has already passed" in passed.text
    mismatch = await sam.ask("tuesday 9 december 10:00")
    assert "9 December 2026 is a Wednesday" in mismatch.text
    understood = await sam.ask("tonight at 7")
    assert "Got it: Tuesday 1 December 2026, 19:00" in understood.text
    meetings, _, queued = await _sent_so_far(db)
    assert [state for state, _ in meetings] == ["draft"] and queued == 0
    await _typed_time(sam, "monday 3 may 2pm", "Got it: Monday 3 May 2027, 14:00")
    await _typed_time(sam, "in two weeks at 10", "Tuesday 15 December 2026, 10:00")
    await _typed_time(sam, "next Thursday at 10am", "Thursday 10 December 2026, 10:00")
    await _typed_time(sam, "tomorrow at noon", "Wednesday 2 December 2026, 12:00")

    await _to_the_deadline(sam, EN_ANSWERS, "4/4 · T – Time-bound")
    assert "30 November 2026 isn't ahead of us" in (await sam.ask("yesterday")).text
    assert "9 December 2026 is a Wednesday" in (await sam.ask("Tuesday 9 December")).text
    await sam.send("end of next month")
    review = await sam.expect("Goal · Sam · version 1")
    assert "I read that as Sunday, 31 January 2027" in review.text
    _, goals, queued = await _sent_so_far(db)
    assert goals == ["draft"] and queued == 0
    await sam.press("✏️ T – Date", message_id=review.message_id)
    await sam.expect("4/4 · T – Time-bound")
    await sam.send("in two weeks")
    assert "I read that as Tuesday, 15 December 2026" in (await sam.expect("version 1")).text

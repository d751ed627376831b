/* engine_day: the local calendar day for the engine's daily cap. Not pure: it
 * reads TZ through localtime_r, which is why it lives outside engine.c. */
#include <math.h>
#include <time.h>

#include "rm/engine.h"

int32_t engine_days_from_civil(int year, unsigned month, unsigned mday)
{
	/* Howard Hinnant's days_from_civil. */
	int y = year - (month <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned mp = month > 2 ? month - 3 : month + 9;
	unsigned doy = (153 * mp + 2) / 5 + mday - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + (int)doe - 719468);
}

int32_t engine_local_day(double now)
{
	struct tm tm;
	/* Beyond about year 33,000 (or NaN) the day arithmetic would overflow:
	 * day 0, as for no time. No real clock gets there. */
	time_t t = isfinite(now) && fabs(now) < 1e12 ? (time_t)floor(now) : 0;
	if (!localtime_r(&t, &tm))
		return 0;
	return engine_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
	                              (unsigned)tm.tm_mday);
}

"""Times and ids as the server writes and reads them.

RFC 3339 with millisecond precision (`2026-11-27T22:04:05.123Z`), parsed by
the same rules as the server's domain/time.cpp (`T` or `t`, a fraction of any
length of which three digits count, `Z`/`z` or `+HH:MM`/`-HH:MM`, impossible
dates and second 60 refused), and UUIDv7 ids (RFC 9562) made in log(), so
that every resend of an event carries the same id.
"""

import calendar
import datetime
import random
import time

# 10000-01-01T00:00:00Z in Unix milliseconds: times must lie in [0, this).
RFC3339_MS_LIMIT = 253402300800000

_DIGITS = frozenset("0123456789")


def _digits(text, pos, width):
    part = text[pos:pos + width]
    if len(part) != width or not all(c in _DIGITS for c in part):
        return None
    return int(part)


def parse_rfc3339_ms(text):
    """Unix milliseconds of an RFC 3339 date-time, or None when the server
    would refuse the text as one."""
    if len(text) < 20:
        return None
    if text[4] != "-" or text[7] != "-" or text[10] not in "Tt" or text[13] != ":" or text[16] != ":":
        return None
    fields = [_digits(text, p, w) for p, w in ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))]
    if None in fields:
        return None
    y, mo, d, h, mi, s = fields
    if h > 23 or mi > 59 or s > 59:
        return None
    if y < 1 or not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(y, mo)[1]:
        if y == 0 and 1 <= mo <= 12 and 1 <= d <= (29 if mo == 2 else calendar.monthrange(2000, mo)[1]):
            pass  # year 0 is a (proleptic) leap year the server accepts
        else:
            return None
    pos = 19
    fraction_ms = 0
    if text[pos] == ".":
        pos += 1
        first = pos
        while pos < len(text) and text[pos] in _DIGITS:
            if pos - first < 3:
                fraction_ms = fraction_ms * 10 + ord(text[pos]) - 48
            pos += 1
        if pos == first:
            return None
        for _ in range(pos - first, 3):
            fraction_ms *= 10
    if pos >= len(text):
        return None
    offset_ms = 0
    if text[pos] in "Zz":
        pos += 1
    elif text[pos] in "+-":
        oh, om = _digits(text, pos + 1, 2), _digits(text, pos + 4, 2)
        if oh is None or om is None or text[pos + 3] != ":" or oh > 23 or om > 59:
            return None
        offset_ms = (oh * 60 + om) * 60000
        if text[pos] == "-":
            offset_ms = -offset_ms
        pos += 6
    else:
        return None
    if pos != len(text):
        return None
    days = _days_from_civil(y, mo, d)
    return days * 86400000 + ((h * 60 + mi) * 60 + s) * 1000 + fraction_ms - offset_ms


def _days_from_civil(y, m, d):
    # Days since 1970-01-01 of a proleptic Gregorian date (any year >= 0).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_second_cache = [None, ""]  # [Unix second, its "YYYY-MM-DDTHH:MM:SS" text]


def format_ms(ms):
    """`YYYY-MM-DDTHH:MM:SS.mmmZ` of Unix milliseconds (0 <= ms < the limit)."""
    second, milli = divmod(ms, 1000)
    cache = _second_cache
    if cache[0] != second:
        t = time.gmtime(second)
        text = "%04d-%02d-%02dT%02d:%02d:%02d" % t[:6]
        cache[1] = text
        cache[0] = second
        return "%s.%03dZ" % (text, milli)
    return "%s.%03dZ" % (cache[1], milli)


def datetime_ms(dt):
    """Unix milliseconds of an aware datetime; ValueError for a naive one."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError("ts: a datetime must carry its time zone (datetime.now(timezone.utc))")
    delta = dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


_getrandbits = random.getrandbits
_time_ns = time.time_ns


def uuid7(now_ns=None):
    """A UUIDv7: 48 bits of Unix milliseconds, then 12 bits of the time's
    sub-millisecond fraction (so ids of one process increase with time, RFC
    9562 method 3), the variant, then 62 random bits."""
    ms, sub = divmod(_time_ns() if now_ns is None else now_ns, 1000000)
    r = _getrandbits(62)
    return "%08x-%04x-7%03x-%04x-%012x" % (ms >> 16, ms & 0xFFFF, (sub * 4096) // 1000000, 0x8000 | r >> 48,
                                           r & 0xFFFFFFFFFFFF)

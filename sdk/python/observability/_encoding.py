"""Events as the JSON text the server reads: compact, UTF-8, no NaN.

encode() turns a validated value into JSON text; unencodable() finds, after
encode() refused a value, which part of it JSON cannot carry, as a
violation with a path like the server's.
"""

import json

from observability._rules import Violation


def _make_encoder():
    """Compact JSON of a value, non-ASCII kept as UTF-8, NaN refused.

    CPython's C encoder is built once and reused (json.JSONEncoder.encode
    builds it anew on every call, a third of an encoding's cost for a small
    payload). It runs without the circular-reference check: values reach it
    only after validation, which refuses any free-form value nested deeper
    than 64 levels, so a cycle never gets here. Elsewhere than CPython, the
    public encoder."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

    def refuse(o):
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

    iterencode = make(None, refuse, json.encoder.encode_basestring, None, ":", ",", False, False, False)
    join = "".join

    def encode(o):
        if type(o) is str:
            return json.encoder.encode_basestring(o)
        return join(iterencode(o, 0))
    return encode


encode = _make_encoder()


def unencodable(value, path):
    """The first value below `value` that JSON cannot carry, as a Violation
    (slow: only called after the encoder refused)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return Violation(path, "must be valid UTF-8 (it holds a lone surrogate)", "not_utf8")
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return Violation(path, "must be a finite number (JSON has no NaN or infinity)", "not_finite")
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return Violation(path, "keys must be strings", "not_json")
            found = unencodable(key, path) if isinstance(key, (str, float)) else None
            found = found or unencodable(item, "%s.%s" % (path, key))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = unencodable(item, "%s[%d]" % (path, i))
            if found:
                return found
        return None
    return Violation(path, "is not JSON (a %s)" % type(value).__name__, "not_json")

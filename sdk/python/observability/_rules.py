"""The server's event rules, applied in the agent's thread.

Everything about the rules (event types, their fields and kinds, the limits,
the id characters and every message) comes from rules.json, which
sdk/rules/obs_dump_rules generates from the server's domain/ code; a test
fails when the committed copy is stale. What is written here is only how
each kind of check is carried out, in the order the server applies them, so
that an event refused here is refused with the same field path and message
the server would have answered with a 422.

check_event(envelope) is the whole rule set on a wire-shaped dict;
ObservabilityProvider.log() calls it on the fields the caller gave.
"""

import json
import math
import os
import re

from observability._time import RFC3339_MS_LIMIT, parse_rfc3339_ms

_HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(_HERE, "rules.json"), encoding="utf-8") as _f:
    RULES = json.load(_f)

LIMITS = RULES["limits"]
MAX_TEXT_BYTES = LIMITS["max_text_bytes"]
MAX_DEPTH = LIMITS["max_json_depth"]
MAX_NODE = LIMITS["max_node_length"]
MAX_TAGS = LIMITS["max_tags"]
MAX_METADATA_KEYS = LIMITS["max_metadata_keys"]
MAX_BATCH_EVENTS = LIMITS["max_batch_events"]
CLIENT_TYPES = tuple(RULES["client_event_types"])
ENVELOPE = RULES["envelope"]
KINDS = RULES["kinds"]

_ID_RE = re.compile("[%s]{1,%d}" % (re.escape(RULES["id_characters"]), LIMITS["max_id_length"]))
_id_match = _ID_RE.fullmatch

# Messages that say the value has the wrong JSON type: log() raises
# TypeError when every violation is one of these.
TYPE_RULES = frozenset({"not_string", "not_integer", "not_number", "not_boolean", "not_array",
                        "not_object", "not_string_or_array", "not_json"})


class Violation(tuple):
    """(path, message, rule): one broken rule, `path` as the server writes it."""

    __slots__ = ()

    def __new__(cls, path, message, rule):
        return tuple.__new__(cls, (path, message, rule))

    path = property(lambda self: self[0])
    message = property(lambda self: self[1])
    rule = property(lambda self: self[2])

    def __str__(self):
        return "%s: %s" % (self[0], self[1]) if self[0] else self[1]


def _msg(kind, rule):
    return KINDS[kind]["messages"][rule]


# ----------------------------------------------------------------- kinds
# Each check appends to `out` and returns nothing; the hot path (a valid
# value) builds no string.

def _text_too_long(s):
    # A str of n code points is at most 4n UTF-8 bytes: most strings are
    # decided without encoding them. Lone surrogates are refused later, when
    # the event is encoded.
    n = len(s)
    if n * 4 <= MAX_TEXT_BYTES:
        return False
    if n > MAX_TEXT_BYTES:
        return True
    return len(s.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES


def _check_text(v, path, out, kind="text"):
    if not isinstance(v, str):
        out.append(Violation(path, _msg(kind, "not_string"), "not_string"))
    elif _text_too_long(v):
        out.append(Violation(path, _msg(kind, "too_long"), "too_long"))


def _check_id(v, path, out, messages):
    if not isinstance(v, str):
        out.append(Violation(path, messages["not_string"], "not_string"))
    elif not _id_match(v):
        out.append(Violation(path, messages["bad_id"], "bad_id"))


def _check_count(v, path, out, kind="count"):
    if isinstance(v, bool) or not isinstance(v, int):
        out.append(Violation(path, _msg(kind, "not_integer"), "not_integer"))
    elif v < 0:
        # Below int64 the server's parser makes the number a double.
        if v < -(1 << 63):
            out.append(Violation(path, _msg(kind, "not_integer"), "not_integer"))
        else:
            out.append(Violation(path, _msg(kind, "negative"), "negative"))
    elif v >= (1 << 63):
        # uint64 numbers are out of range; beyond that they parse as doubles.
        rule = "out_of_range" if v < (1 << 64) else "not_integer"
        out.append(Violation(path, _msg(kind, rule), rule))


def _check_cost(v, path, out, kind="cost"):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        out.append(Violation(path, _msg(kind, "not_number"), "not_number"))
        return
    try:
        finite = math.isfinite(v)
    except OverflowError:  # an int too large for a double: the server reads infinity
        finite = False
    if not finite:
        out.append(Violation(path, _msg(kind, "not_finite"), "not_finite"))
    elif v < 0:
        out.append(Violation(path, _msg(kind, "negative"), "negative"))


def _check_boolean(v, path, out, kind="boolean"):
    if not isinstance(v, bool):
        out.append(Violation(path, _msg(kind, "not_boolean"), "not_boolean"))


def _check_tags(v, path, out, kind="tags"):
    if not isinstance(v, (list, tuple)):
        out.append(Violation(path, _msg(kind, "not_array"), "not_array"))
        return
    if len(v) > MAX_TAGS:
        out.append(Violation(path, _msg(kind, "too_many"), "too_many"))
        return
    for i, item in enumerate(v):
        if not isinstance(item, str):
            out.append(Violation("%s[%d]" % (path, i), _msg(kind, "item_not_string"), "not_string"))
        elif _text_too_long(item):
            out.append(Violation("%s[%d]" % (path, i), _msg(kind, "item_too_long"), "too_long"))


def _check_metadata(v, path, out, kind="metadata"):
    if not isinstance(v, dict):
        out.append(Violation(path, _msg(kind, "not_object"), "not_object"))
        return
    if len(v) > MAX_METADATA_KEYS:
        out.append(Violation(path, _msg(kind, "too_many_keys"), "too_many_keys"))
        return
    for key, value in v.items():
        if not isinstance(key, str):
            out.append(Violation(path, "keys must be strings", "not_json"))
        elif _text_too_long(key):
            out.append(Violation(path, _msg(kind, "key_too_long"), "too_long"))
        elif not isinstance(value, str):
            out.append(Violation(path + "." + key, _msg(kind, "value_not_string"), "not_string"))
        elif _text_too_long(value):
            out.append(Violation(path + "." + key, _msg(kind, "value_too_long"), "too_long"))


def nests_deeper_than(v, limit):
    """True when `v` nests more than `limit` levels of lists and dicts (the
    value itself counting as the first); stops descending past the limit."""
    if isinstance(v, dict):
        items = v.values()
    elif isinstance(v, (list, tuple)):
        items = v
    else:
        return False
    if limit == 0:
        return True
    for x in items:
        if isinstance(x, (dict, list, tuple)) and nests_deeper_than(x, limit - 1):
            return True
    return False


def _is_container(v):
    return isinstance(v, (dict, list, tuple))


def _check_deep(v, path, out, kind):
    if _is_container(v) and nests_deeper_than(v, MAX_DEPTH):
        out.append(Violation(path, _msg(kind, "too_deep"), "too_deep"))


def _check_prompt(v, path, out, kind="prompt"):
    if isinstance(v, str):
        if _text_too_long(v):
            out.append(Violation(path, _msg(kind, "too_long"), "too_long"))
    elif isinstance(v, (list, tuple)):
        _check_deep(v, path, out, kind)
    else:
        out.append(Violation(path, _msg(kind, "not_string_or_array"), "not_string_or_array"))


def _check_object(v, path, out, kind="object"):
    if not isinstance(v, dict):
        out.append(Violation(path, _msg(kind, "not_object"), "not_object"))
    else:
        _check_deep(v, path, out, kind)


def _check_any(v, path, out, kind="any"):
    _check_deep(v, path, out, kind)


def _one_of_check(kind):
    values = frozenset(KINDS[kind]["values"])
    not_string = _msg(kind, "not_string")
    not_one_of = _msg(kind, "not_one_of")

    def check(v, path, out):
        if not isinstance(v, str):
            out.append(Violation(path, not_string, "not_string"))
        elif v not in values:
            out.append(Violation(path, not_one_of, "not_one_of"))
    return check


def _kind_check(kind):
    check = KINDS[kind]["check"]
    if check == "one_of":
        return _one_of_check(kind)
    if check == "id":
        messages = KINDS[kind]["messages"]
        return lambda v, path, out: _check_id(v, path, out, messages)
    plain = {"text": _check_text, "count": _check_count, "cost": _check_cost, "boolean": _check_boolean,
             "tags": _check_tags, "metadata": _check_metadata, "prompt": _check_prompt,
             "object": _check_object, "any": _check_any}
    if check not in plain:
        raise RuntimeError("rules.json names a check this SDK does not know: %r (update the SDK)" % check)
    fn = plain[check]
    return lambda v, path, out: fn(v, path, out, kind)


class TypeRules:
    """The payload rules of one event type: field name -> (check, path), and
    the required fields."""

    __slots__ = ("name", "fields", "required")

    def __init__(self, name, fields):
        self.name = name
        self.fields = {f["name"]: (_kind_check(f["kind"]), "payload." + f["name"]) for f in fields}
        self.required = tuple(f["name"] for f in fields if f["required"])


TYPES = {name: TypeRules(name, fields) for name, fields in RULES["types"].items()}
_SERVER_ONLY = RULES["server_only_event_types"]
_PAYLOAD_MESSAGES = ENVELOPE["payload_fields"]


def check_payload(rules, payload, out):
    """Appends the violations of `payload` (a dict) against `rules`."""
    fields = rules.fields
    for key, value in payload.items():
        rule = fields.get(key)
        if rule is None:
            out.append(Violation("payload." + str(key), _PAYLOAD_MESSAGES["unknown_field"], "unknown_field"))
        else:
            rule[0](value, rule[1], out)
    for name in rules.required:
        if name not in payload:
            out.append(Violation("payload." + name, _PAYLOAD_MESSAGES["required"], "required"))


# --------------------------------------------------------------- envelope

def _check_type(v, out):
    m = ENVELOPE["type"]
    if not isinstance(v, str):
        out.append(Violation("type", m["not_string"], "not_string"))
        return None
    rules = TYPES.get(v)
    if rules is None:
        if v in _SERVER_ONLY:
            out.append(Violation("type", _SERVER_ONLY[v], "server_only"))
        else:
            out.append(Violation("type", m["unknown"], "unknown_type"))
    return rules


def _check_ts(v, out):
    m = ENVELOPE["ts"]
    if not isinstance(v, str):
        out.append(Violation("ts", m["not_string"], "not_string"))
        return
    ms = parse_rfc3339_ms(v)
    if ms is None:
        out.append(Violation("ts", m["not_rfc3339"], "not_rfc3339"))
    elif ms < 0 or ms >= RFC3339_MS_LIMIT:
        out.append(Violation("ts", m["out_of_range"], "out_of_range"))


def _check_node(v, out):
    m = ENVELOPE["node"]
    if not isinstance(v, str):
        out.append(Violation("node", m["not_string"], "not_string"))
    elif len(v) > MAX_NODE or len(v.encode("utf-8", "surrogatepass")) > MAX_NODE:
        out.append(Violation("node", m["too_long"], "too_long"))


def check_event(event):
    """Every violation of one wire-shaped event (a dict with run_id, type,
    payload, ...), in the server's order. Empty when the server would take it."""
    out = []
    if not isinstance(event, dict):
        out.append(Violation("", ENVELOPE["not_object"], "not_object"))
        return out
    rules = None
    type_ok = False
    for key, value in event.items():
        if key == "id" or key == "parent_id" or key == "run_id":
            _check_id(value, key, out, ENVELOPE[key])
        elif key == "type":
            rules = _check_type(value, out)
            type_ok = rules is not None
        elif key == "ts":
            _check_ts(value, out)
        elif key == "node":
            _check_node(value, out)
        elif key != "payload":
            out.append(Violation(str(key), ENVELOPE["unknown_field"], "unknown_field"))
    if "run_id" not in event:
        out.append(Violation("run_id", ENVELOPE["required"], "required"))
    if "type" not in event:
        out.append(Violation("type", ENVELOPE["required"], "required"))
    if "payload" not in event:
        out.append(Violation("payload", ENVELOPE["required"], "required"))
    elif not isinstance(event["payload"], dict):
        out.append(Violation("payload", ENVELOPE["payload"]["not_object"], "not_object"))
    elif type_ok:
        check_payload(rules, event["payload"], out)
    return out


def check_id_value(v, path):
    """The violations of `v` as an id at `path` (artifact step ids, run ids)."""
    out = []
    _check_id(v, path, out, ENVELOPE["run_id"])
    return out


_ARTIFACT_NAME = RULES["artifact_name"]


def artifact_name_problem(name):
    """Why `name` cannot name an artifact (the server's words), or None."""
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        return _ARTIFACT_NAME["not_utf8"]
    if not raw:
        return _ARTIFACT_NAME["empty"]
    if len(raw) > LIMITS["max_artifact_name_bytes"]:
        return _ARTIFACT_NAME["too_long"]
    if name in (".", ".."):
        return _ARTIFACT_NAME["dot"]
    for c in name:
        if c == "/":
            return _ARTIFACT_NAME["slash"]
        if c == "\\":
            return _ARTIFACT_NAME["backslash"]
        if c < " " or c == "\x7f":
            return _ARTIFACT_NAME["control"]
    return None

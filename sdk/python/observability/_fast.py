"""The fast path of log()'s validation.

log() first asks these predicates, which only say "valid" (True) or "look
closer" (False) and build nothing; on False, _rules.check_event decides and
names the violations with the server's paths and messages. A predicate must
never pass a value its check in _rules would refuse (a test feeds thousands
of mutated events to both); it may send a valid value to the full checks,
which then let log() go on.
"""

from observability._rules import (KINDS, MAX_DEPTH, MAX_METADATA_KEYS, MAX_NODE, MAX_TAGS, MAX_TEXT_BYTES, RULES,
                                  _id_match, nests_deeper_than)

_QUICK_TEXT = MAX_TEXT_BYTES // 4  # code points that are within the byte limit in any encoding


def _fast_text(v):
    return type(v) is str and len(v) <= _QUICK_TEXT


def _fast_id(v):
    return type(v) is str and _id_match(v) is not None


def _fast_count(v):
    return type(v) is int and 0 <= v < (1 << 63)


def _fast_cost(v):
    return (type(v) is float and 0.0 <= v <= 1.7e308) or (type(v) is int and 0 <= v < (1 << 63))


def _fast_boolean(v):
    return type(v) is bool


def _fast_shallow(v):
    # Containers whose members are all scalars: one level, far from the limit.
    for x in (v.values() if type(v) is dict else v):
        if isinstance(x, (dict, list, tuple)):
            return not nests_deeper_than(v, MAX_DEPTH)
    return True


def _fast_object(v):
    return type(v) is dict and _fast_shallow(v)


def _fast_any(v):
    t = type(v)
    if t is dict or t is list:
        return _fast_shallow(v)
    return t is str or t is int or t is float or t is bool or v is None


def _fast_prompt(v):
    return _fast_text(v) or (type(v) is list and _fast_shallow(v))


def _fast_tags(v):
    return type(v) is list and len(v) <= MAX_TAGS and all(_fast_text(x) for x in v)


def _fast_metadata(v):
    return type(v) is dict and len(v) <= MAX_METADATA_KEYS and all(
        _fast_text(k) and _fast_text(x) for k, x in v.items())


def _fast_predicate(kind):
    check = KINDS[kind]["check"]
    if check == "one_of":
        values = frozenset(KINDS[kind]["values"])
        return lambda v: type(v) is str and v in values
    return {"text": _fast_text, "id": _fast_id, "count": _fast_count, "cost": _fast_cost,
            "boolean": _fast_boolean, "tags": _fast_tags, "metadata": _fast_metadata, "prompt": _fast_prompt,
            "object": _fast_object, "any": _fast_any}.get(check, lambda v: False)


class FastRules:
    """One event type's fields -> predicate, and its required fields."""

    __slots__ = ("fast", "required")

    def __init__(self, fields):
        self.fast = {f["name"]: _fast_predicate(f["kind"]) for f in fields}
        self.required = tuple(f["name"] for f in fields if f["required"])

    def fast_valid(self, payload):
        """True when `payload` (a dict) surely passes check_payload."""
        fast = self.fast
        for key, value in payload.items():
            predicate = fast.get(key)
            if predicate is None or not predicate(value):
                return False
        for name in self.required:
            if name not in payload:
                return False
        return True


TYPES = {name: FastRules(fields) for name, fields in RULES["types"].items()}


def fast_valid_id(v):
    return type(v) is str and _id_match(v) is not None


def fast_valid_node(v):
    return type(v) is str and len(v) * 4 <= MAX_NODE

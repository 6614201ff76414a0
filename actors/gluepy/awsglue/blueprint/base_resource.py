"""Typed attribute holders shared by Workflow, Job and Crawler."""

__all__ = ["ensure_type", "BaseResource"]


def ensure_type(key, value, types):
    """Return value if it is None or of the given type(s), else raise TypeError."""
    if value is None or isinstance(value, types):
        return value
    raise TypeError("Value {!r} for key {} should be of type {}!".format(value, key, types))


class BaseResource(object):
    """A resource whose known fields are checked against a validator table.

    The table maps field name -> (type or tuple of types, required). Unknown fields are
    dropped silently; None values are not stored (so they do not appear in to_json).
    """

    _fields = {}

    def __init__(self, **kwargs):
        for key in self._fields:
            setattr(self, key, kwargs.get(key))

    def __setattr__(self, key, value):
        if key not in self._fields:
            return
        if value is None:
            self.__dict__.pop(key, None)
            return
        self._check(key, ensure_type(key, value, self._fields[key][0]))
        object.__setattr__(self, key, value)

    def __getattr__(self, key):
        if key in type(self)._fields:
            return None
        raise AttributeError(key)

    def _check(self, key, value):
        """Extra per-field checks of subclasses."""

    def _missing(self):
        return sorted(k for k, (_, required) in self._fields.items() if required and k not in self.__dict__)

    def validate(self):
        missing = self._missing()
        if missing:
            raise TypeError("Required Fields for {} were missing: {}".format(type(self).__name__, missing))
        return True

    def to_json(self):
        self.validate()
        return {k: v for k, v in self.__dict__.items() if k in self._fields}

    # Resources are dict keys in DependsOn: identity hashing.
    __hash__ = object.__hash__

"""Thread-local autocast state per device type: what ``ember.autocast`` sets and the op wrappers read."""
import threading

from ._dtype import bfloat16, float16

DEVICE_TYPES = ("cpu", "cuda")          # where ember can autocast


class _State(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": bfloat16, "cuda": float16}
        self.cache_enabled = True
        self.nesting = 0
        self.excluded = False           # inside an autocast op: the ops it calls do not autocast again
        self.cache = {}                 # id(weight) -> (weight, its lower-precision copy)


state = _State()

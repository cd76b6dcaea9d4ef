"""Thread-local autograd mode flags read by every op (``no_grad`` and friends set them)."""
import threading


class _State(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False
        self.anomaly = False              # autograd.detect_anomaly: check backward outputs for NaN
        self.anomaly_check_nan = True


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled

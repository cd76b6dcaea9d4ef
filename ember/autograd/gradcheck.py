"""Finite-difference checks of analytic gradients (``gradcheck``) and of their gradients."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make


class GradcheckError(RuntimeError):
    pass


def _flat_outputs(out):
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def _differentiable(outs):
    """Indices of the outputs autograd differentiates (floating point, requiring grad)."""
    return [k for k, o in enumerate(outs) if o._requires_grad]


def _numerical_jacobian(fn, inputs, i, eps, keep, n_out):
    """d outputs[keep] / d inputs[i] by central differences, one column per input element."""
    x = inputs[i]
    data = x._data
    flat = data.reshape(-1) if data.flags.c_contiguous else None
    if flat is None:
        raise GradcheckError("gradcheck expects contiguous inputs")
    cols = []
    for k in range(flat.size):
        orig = flat[k].item()
        flat[k] = orig + eps
        plus = _selected(fn(*inputs), keep)
        flat[k] = orig - eps
        minus = _selected(fn(*inputs), keep)
        flat[k] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]) if plus else np.zeros(0))
    return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))


def _selected(out, keep):
    outs = _flat_outputs(out)
    return [outs[k]._data.astype(np.float64).reshape(-1) for k in keep]


def _analytical_jacobian(fn, inputs, diff_idx):
    from . import grad as _grad
    from .grad_mode import enable_grad
    with enable_grad():
        all_outs = _flat_outputs(fn(*inputs))
    keep = _differentiable(all_outs)
    outs = [all_outs[k] for k in keep]
    n_out = sum(o._data.size for o in outs)
    jac = {i: np.zeros((n_out, inputs[i]._data.size)) for i in diff_idx}
    row = 0
    for o in outs:
        for k in range(o._data.size):
            go = np.zeros(o._data.size, dtype=o._data.dtype)
            go[k] = 1
            gs = _grad(o, [inputs[i] for i in diff_idx], grad_outputs=make(go.reshape(o._data.shape), o._device),
                       retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, gs):
                if g is not None:
                    jac[i][row] = g._data.astype(np.float64).reshape(-1)
            row += 1
    return jac, keep, n_out


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **_ignored) -> bool:
    """Compare analytic gradients of ``func`` at ``inputs`` with central finite differences."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i]._data.dtype != np.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point.", UserWarning, stacklevel=2)
    analytic, keep, n_out = _analytical_jacobian(func, inputs, diff_idx)
    for i in diff_idx:
        num = _numerical_jacobian(func, inputs, i, eps, keep, n_out)
        ana = analytic[i]
        if num.shape != ana.shape or not np.allclose(ana, num, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for output 0 with respect to input {i},\n"
                    f"numerical:{num}\nanalytical:{ana}\n")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **_ignored) -> bool:
    """Check second derivatives: gradcheck of the (create_graph) vector-Jacobian product."""
    from . import grad as _grad
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = [o for o in _flat_outputs(func(*inputs)) if o._requires_grad]
    rng = np.random.default_rng(0)
    if grad_outputs is None:
        grad_outputs = tuple(make(rng.standard_normal(o._data.shape).astype(o._data.dtype), o._device)
                             .requires_grad_() for o in outs)
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]

    def vjp(*args):
        ins, gos = args[:n], args[n:]
        o = [x for x in _flat_outputs(func(*ins)) if x._requires_grad]
        gs = _grad(o, [ins[i] for i in diff_idx], grad_outputs=gos[:len(o)], create_graph=True,
                   allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

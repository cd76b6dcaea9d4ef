"""``ember.autograd.functional``: Jacobians, Hessians and vector products of whole functions.

Everything here is built on :func:`ember.autograd.grad`: a vector-Jacobian product is one
backward pass; a Jacobian is one backward pass per output element; a Jacobian-vector product
uses the double-backward trick (the vjp is linear in its vector, so differentiating it again
with respect to that vector gives the jvp).  Argument handling and output nesting follow
``torch.autograd.functional``.
"""
from __future__ import annotations

import contextlib

from .._grad_state import state as _grad_state
from .._tensor import Tensor
from . import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, arg_name, fn_name):
    """``(was_tuple, tuple_of_tensors)``, with torch's TypeError for anything but Tensors."""
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                                f"but the value at index {i} has type {type(t)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"the given {arg_name} has type {type(t)}.")
    return is_tuple, xs


def _grad_preprocess(inputs, create_graph, need_graph):
    """Inputs the function is traced from: fresh leaves, or (``create_graph``) views that keep history."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _grad_postprocess(outputs, create_graph):
    if create_graph:
        return outputs
    if isinstance(outputs, Tensor):
        return outputs.detach()
    return tuple(_grad_postprocess(o, create_graph) for o in outputs)


def _tuple_postprocess(res, to_unpack):
    """Undo the tuple wrapping of inputs/outputs (one flag, or (outer, inner) for nested results)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(r[0] for r in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prepend = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.shape} but got {el_v.shape}.")


def _prepare_v(v, other, is_other_tuple, create_graph, name):
    """The vector of a vector product, checked against ``other`` (what it multiplies); None only
    where ``other`` is one single-element tensor."""
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph, False)
        _validate_v(v, other, is_other_tuple)
    elif len(other) != 1 or other[0].numel() != 1:
        what = ("the user-provided function returns" if name == "vjp"
                else "the input to the user-provided function is")
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")
    return v


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` over the outputs that require grad; None for inputs they don't reach."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=retain_graph,
                 create_graph=create_graph, allow_unused=True)


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                if stage == "back":
                    raise RuntimeError("The output of the user-provided function is independent of input "
                                       f"{i}. This is not allowed in strict mode.")
                if stage == "back_trick":
                    raise RuntimeError(f"The gradient with respect to the input is independent of entry {i} in "
                                       "the grad_outputs when using the double backward trick to compute "
                                       "forward mode gradients. This is not allowed in strict mode.")
                if stage == "double_back":
                    raise RuntimeError("The jacobian of the user-provided function is independent of input "
                                       f"{i}. This is not allowed in strict mode.")
                raise RuntimeError("The hessian of the user-provided function is independent of entry "
                                   f"{i} in the grad_jacobian. This is not allowed in strict mode as it prevents "
                                   "from using the double backward trick to replace forward mode AD.")
            g = ref.new_zeros(ref.shape)
        res.append(g)
    return tuple(res)


def _check_requires_grad(outputs, what, strict):
    if not strict:
        return
    for i, o in enumerate(outputs):
        if o is None:
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. "
                               "This is not allowed in strict mode.")
        if not o.requires_grad:
            if what == "hessian":
                raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is "
                                   "independent of the input. This is not allowed in strict mode. You should "
                                   "ensure that your function is thrice differentiable and that the hessian "
                                   "depends on the inputs.")
            if what == "jacobian":
                raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided "
                                   f"function with respect to input {i} is independent of the input. This is not "
                                   "allowed in strict mode. You should ensure that your function is twice "
                                   "differentiable and that the jacobian depends on the inputs (this would be "
                                   "violated by a linear function for example).")
            raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                               "outputs must be computed in a differentiable manner from the input when running "
                               "in strict mode.")


def _trace(func, inputs, create_graph, strict, name):
    """Run ``func`` on preprocessed inputs: ``(inputs were a tuple, inputs, outputs were a tuple, outputs)``."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph, True)
    is_out_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_in_tuple, inputs, is_out_tuple, outputs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs = _trace(func, inputs, create_graph, strict, "vjp")
        v = _prepare_v(v, outputs, is_out_tuple, create_graph, "vjp")
        enable = create_graph or _grad_state.enabled
        with enable_grad() if enable else _no_grad():
            grads = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
            vjp_ = _fill_in_zeros(grads, inputs, strict, create_graph, "back")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_out_tuple),
            _tuple_postprocess(_grad_postprocess(vjp_, create_graph), is_in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph, True)
        v = _prepare_v(v, inputs, is_in_tuple, create_graph, "jvp")
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # u is a dummy vector: grad_inputs = u^T J is linear in u, so d(grad_inputs . v)/du = J v
        us = tuple(o.new_zeros(o.shape).requires_grad_(True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, us, create_graph=True)
        _fill_in_zeros(grad_inputs, inputs, strict, create_graph, "back")
    with enable_grad() if create_graph else contextlib.nullcontext():
        grad_res = _autograd_grad(grad_inputs, us, v, create_graph=create_graph)
        jvp_ = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    return (_tuple_postprocess(_grad_postprocess(outputs, create_graph), is_out_tuple),
            _tuple_postprocess(_grad_postprocess(jvp_, create_graph), is_out_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: per (output, input), a tensor of shape ``out.shape + in.shape``.

    Reverse mode, one backward pass per output element (``vectorize`` is accepted and changes nothing).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      "`strategy=\"forward-mode\"` are not supported together (yet). Please either "
                                      "set `create_graph=False` or `strategy=\"reverse-mode\"`.")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs = _trace(func, inputs, create_graph, strict, "jacobian")
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                gs = _autograd_grad((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
                for k, (g, inp) in enumerate(zip(gs, inputs)):
                    if g is not None and strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is independent of "
                                           f"input {i}. This is not allowed in strict mode when create_graph=True.")
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of "
                                               f"input {k}. This is not allowed in strict mode.")
                        g = inp.new_zeros(inp.shape)
                    rows[k].append(g)
            jac.append(tuple(_stack_rows(r, out, inp) for r, inp in zip(rows, inputs)))
    return _tuple_postprocess(_grad_postprocess(tuple(jac), create_graph), (is_out_tuple, is_in_tuple))


def _stack_rows(rows, out, inp):
    from .._ops.shape import stack
    if not rows:
        return inp.new_zeros(tuple(out.shape) + tuple(inp.shape))
    return stack(rows).reshape(tuple(out.shape) + tuple(inp.shape))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs`` (the Jacobian of its gradient)."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output(*inp):
        out = func(*inp)
        is_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                               "element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(ensure_single_output, inp, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_in_tuple, is_in_tuple))


def _second_order_setup(func, inputs, v, create_graph, strict, name):
    """Shared start of vhp/hvp: inputs, vector, the scalar output and its gradient (with graph)."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph, True)
    v = _prepare_v(v, inputs, is_in_tuple, create_graph, name)
    outputs = _scalar_output(func(*inputs), name)
    _check_requires_grad((outputs,), "outputs", strict)
    jac = _autograd_grad((outputs,), inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_in_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar function: one double-backward pass."""
    with enable_grad():
        is_in_tuple, inputs, v, outputs, jac = _second_order_setup(func, inputs, v, create_graph, strict, "vhp")
    enable = create_graph or _grad_state.enabled
    with enable_grad() if enable else _no_grad():
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        vhp_ = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    return (_grad_postprocess(outputs, create_graph),
            _tuple_postprocess(_grad_postprocess(vhp_, create_graph), is_in_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar function (by the double-backward trick, as torch)."""
    with enable_grad():
        is_in_tuple, inputs, v, outputs, jac = _second_order_setup(func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(inp.new_zeros(inp.shape).requires_grad_(True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    enable = create_graph or _grad_state.enabled
    with enable_grad() if enable else _no_grad():
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        hvp_ = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    return (_grad_postprocess(outputs, create_graph),
            _tuple_postprocess(_grad_postprocess(hvp_, create_graph), is_in_tuple))


def _scalar_output(out, name):
    is_tuple, t = _as_tuple(out, "outputs of the user-provided function", name)
    if is_tuple or not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    return out


def _no_grad():
    from .grad_mode import no_grad
    return no_grad()

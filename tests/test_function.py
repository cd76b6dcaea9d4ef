"""Custom ``autograd.Function``s, incl. the seed's XNOR binarize, and gradcheck."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import Function


def make_binarize(lib):
    class BinActive(lib.autograd.Function):
        """XNOR-net binarize: forward sign(x); backward passes the gradient only where |x| <= 1."""

        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.sign()

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input.ge(1)] = 0
            grad_input[input.le(-1)] = 0
            return grad_input
    return BinActive


def test_xnor_binarize_as_in_seed():
    x = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 1.5], dtype=np.float32)
    outs = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = make_binarize(lib).apply(t)
        (y * lib.arange(6.0)).sum().backward()
        outs.append((y.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0])
    np.testing.assert_allclose(outs[0][1], outs[1][1])


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class MulConst(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        assert ctx.needs_input_grad == (True, False)
        return g * ctx.k, None


def test_function_basics_and_gradcheck():
    x = ember.tensor(np.linspace(-1, 1, 5), dtype=ember.float64, requires_grad=True)
    y = Exp.apply(x)
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert ember.autograd.gradcheck(Exp.apply, (x,))
    assert ember.autograd.gradgradcheck(Exp.apply, (x,))
    assert ember.autograd.gradcheck(lambda t: MulConst.apply(t, 3.0), (x,))


def test_function_no_grad_inputs_gives_no_graph():
    y = Exp.apply(ember.tensor([1.0]))
    assert y.grad_fn is None and not y.requires_grad


def test_mark_non_differentiable_and_materialize():
    class SortF(Function):
        @staticmethod
        def forward(ctx, x):
            v, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            ctx.set_materialize_grads(False)
            return v, i

        @staticmethod
        def backward(ctx, gv, gi):
            assert gi is None
            (i,) = ctx.saved_tensors
            out = ember.zeros_like(gv)
            out[i] = gv
            return out

    x = ember.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = SortF.apply(x)
    assert not i.requires_grad
    (v * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_mark_dirty_inplace_function():
    class AddOneInplace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    c = AddOneInplace.apply(b)
    assert c is b
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_once_differentiable_and_setup_context():
    class Sq(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        @ember.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.tensor([3.0], requires_grad=True)
    Sq.apply(x).sum().backward()
    assert x.grad.item() == 6.0


def test_gradcheck_detects_wrong_gradient():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = ember.tensor([1.0, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Bad.apply, (x,))
    assert not ember.autograd.gradcheck(Bad.apply, (x,), raise_exception=False)


def test_gradcheck_skips_integer_outputs_and_handles_empty_inputs():
    x = ember.tensor([[1.0, 3.0], [2.0, 0.5]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.max(t, 0), (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.max(t * t, 1), (x,))
    e = ember.zeros(0, 3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: (t * 2, t.sum()), (e,))


def _outcome(fn, lib):
    try:
        return fn(lib)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)


def _saves_none(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(None, x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * 2 if a is None else g

    x = lib.ones(2, requires_grad=True)
    F.apply(x).sum().backward()
    return x.grad.tolist()


def _returns_a_number(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 5

    x = lib.ones(2, requires_grad=True)
    F.apply(x).sum().backward()


@pytest.mark.parametrize("fn", [_saves_none, _returns_a_number])
def test_custom_function_edge_cases_as_torch(fn):
    assert _outcome(fn, ember) == _outcome(fn, torch)


def test_saved_variables_warns_as_deprecated():
    class F(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_variables
            return g * 2

    x = ember.ones(2, requires_grad=True)
    with pytest.warns(DeprecationWarning, match="saved_variables"):
        F.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]

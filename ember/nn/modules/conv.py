"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d."""
from __future__ import annotations

import math

from ... import _ops
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import _pair, _reverse_repeat_tuple, _single, _triple

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


class _ConvNd(Module):
    _ntuple = staticmethod(_pair)
    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {valid_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in {"zeros", "reflect", "replicate", "circular"}:
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        empty = _ops.PUBLIC["empty"]
        if transposed:
            shape = (in_channels, out_channels // groups) + tuple(kernel_size)
        else:
            shape = (out_channels, in_channels // groups) + tuple(kernel_size)
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"

    def _conv_forward(self, input, weight, bias):
        if self.padding_mode != "zeros":
            return F._conv.convolution(F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                                       weight, bias, self.stride, 0, self.dilation, False, 0, self.groups,
                                       f"conv{self._nd}d")
        return F._conv.convolution(input, weight, bias, self.stride, self.padding, self.dilation, False, 0,
                                   self.groups, f"conv{self._nd}d")

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


def _conv_init(cls, ntuple, nd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        padding_ = padding if isinstance(padding, str) else ntuple(padding)
        _ConvNd.__init__(self, in_channels, out_channels, ntuple(kernel_size), ntuple(stride), padding_,
                         ntuple(dilation), False, ntuple(0), groups, bias, padding_mode, device, dtype)
    cls.__init__ = __init__
    cls._nd = nd
    return cls


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) input."""


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) input."""


class Conv3d(_ConvNd):
    """3-d convolution over (N, C_in, D, H, W) input."""


_conv_init(Conv1d, _single, 1)
_conv_init(Conv2d, _pair, 2)
_conv_init(Conv3d, _triple, 3)


class _ConvTransposeNd(_ConvNd):
    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        nd = self._nd
        if len(output_size) not in (nd, nd + 2):
            raise ValueError(f"ConvTranspose{nd}D: for {input.ndim}D input, output_size must have {nd} or {nd + 2} "
                             f"elements (got {len(output_size)})")
        output_size = output_size[-nd:]
        spatial = input.shape[input.ndim - nd:]
        min_sizes = [(spatial[d] - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(nd)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        if not all(lo <= o <= hi for lo, o, hi in zip(min_sizes, output_size, max_sizes)):
            raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to "
                             f"{max_sizes} (for an input of {input.shape[2:]})")
        return tuple(o - lo for o, lo in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError(f"Only \"zeros\" padding mode is supported for {type(self).__name__}")
        op = self._output_padding(input, output_size)
        return F._conv.convolution(input, self.weight, self.bias, self.stride, self.padding, self.dilation, True,
                                   op, self.groups, f"conv_transpose{self._nd}d")


def _convt_init(cls, ntuple, nd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {cls.__name__}')
        _ConvNd.__init__(self, in_channels, out_channels, ntuple(kernel_size), ntuple(stride), ntuple(padding),
                         ntuple(dilation), True, ntuple(output_padding), groups, bias, padding_mode, device, dtype)
    cls.__init__ = __init__
    cls._nd = nd
    return cls


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution."""


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution."""


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution."""


_convt_init(ConvTranspose1d, _single, 1)
_convt_init(ConvTranspose2d, _pair, 2)
_convt_init(ConvTranspose3d, _triple, 3)

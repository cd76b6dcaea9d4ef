"""Neural network building blocks: Module, Parameter, layers, functional, init, utils."""
from .parameter import Buffer, Parameter
from .modules.module import Module
from .modules.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from . import init
from . import utils
from .modules import Identity, Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm, Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, ReLU, ReLU6, LeakyReLU, PReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardtanh, Hardsigmoid, Hardswish, Softplus, Softsign, Softmax, LogSoftmax, Softmin, Threshold, GLU, LogSigmoid, Tanhshrink, Softshrink, Hardshrink, Softmax2d, L1Loss, MSELoss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss, CosineEmbeddingLoss, MarginRankingLoss, HingeEmbeddingLoss, TripletMarginLoss, PoissonNLLLoss, GaussianNLLLoss, MultiLabelSoftMarginLoss, SoftMarginLoss, Embedding, Flatten, Unflatten, ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d, PixelShuffle, PixelUnshuffle, PairwiseDistance, CosineSimilarity  # noqa: F401
from . import functional  # noqa: F401
from .modules import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: F401
from .modules import Bilinear, ChannelShuffle  # noqa: F401
from .modules import MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer  # noqa: F401
from .modules import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401
from .modules import CTCLoss, EmbeddingBag, RReLU  # noqa: F401
from .modules import Fold, Unfold, LPPool1d, LPPool2d, LPPool3d, MultiMarginLoss, MultiLabelMarginLoss  # noqa: F401
from .modules import TripletMarginWithDistanceLoss, RMSNorm, FeatureAlphaDropout  # noqa: F401
from .modules import (LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,  # noqa: F401
                      LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyInstanceNorm1d,
                      LazyInstanceNorm2d, LazyInstanceNorm3d)
from .parameter import UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules import FractionalMaxPool2d, FractionalMaxPool3d, AdaptiveLogSoftmaxWithLoss, NLLLoss2d, Container  # noqa: F401
from .modules import SyncBatchNorm  # noqa: F401
from . import parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401

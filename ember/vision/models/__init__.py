"""``torchvision.models``: classification architectures with torchvision's state_dict layout."""
from .alexnet import *
from .mobilenetv2 import *
from .resnet import *
from .squeezenet import *
from .vgg import *

"""``torchvision.datasets``: folder datasets, FakeData, and MNIST/FashionMNIST/CIFAR read from disk."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import VisionDataset

__all__ = [
           "CIFAR10",
           "CIFAR100",
           "MNIST",
           "DatasetFolder",
           "FakeData",
           "FashionMNIST",
           "ImageFolder",
           "VisionDataset",
]

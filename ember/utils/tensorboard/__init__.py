"""``torch.utils.tensorboard``: ``SummaryWriter`` writes TensorBoard event files with only NumPy and the
standard library (protobuf encoding, CRC32C and PNG are done here); viewing needs ``ember[tensorboard]``."""
from .writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]

"""Generic networks (no physics here): multilayer perceptrons and U-Nets."""

from physdl.nn.mlp import MLP, FieldMLP, count_parameters
from physdl.nn.unet import UNet

__all__ = ["MLP", "FieldMLP", "UNet", "count_parameters"]

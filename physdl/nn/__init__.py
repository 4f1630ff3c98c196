"""Generic networks (no physics here): multilayer perceptrons, U-Nets and ConvGRUs."""

from physdl.nn.convgru import ConvGRU, ConvGRUCell
from physdl.nn.mlp import MLP, FieldMLP, count_parameters
from physdl.nn.unet import UNet

__all__ = ["ConvGRU", "ConvGRUCell", "MLP", "FieldMLP", "UNet", "count_parameters"]

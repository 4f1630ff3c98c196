"""Generic networks (no physics here): multilayer perceptrons, U-Nets, ConvGRUs, the
convolutions they share (plain, and symmetric under the grid's reflections and axis swaps),
positive parameters and batched inference."""

from physdl.nn.conv import CONVOLUTIONS, convolution
from physdl.nn.convgru import ConvGRU, ConvGRUCell
from physdl.nn.inference import batched, model_device
from physdl.nn.mlp import MLP, FieldMLP, count_parameters
from physdl.nn.positive import PositiveParameters
from physdl.nn.symmetric import SymmetricConv, apply_symmetry, grid_symmetries, kernel_orbits
from physdl.nn.unet import UNet

__all__ = ["CONVOLUTIONS", "convolution", "batched", "model_device", "ConvGRU", "ConvGRUCell", "MLP", "FieldMLP", "UNet", "PositiveParameters", "count_parameters",
           "SymmetricConv", "apply_symmetry", "grid_symmetries", "kernel_orbits"]

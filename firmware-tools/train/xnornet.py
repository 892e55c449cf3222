"""XNOR-Net building blocks for PyTorch.

After Rastegari, Ordonez, Redmon and Farhadi, "XNOR-Net: ImageNet Classification Using Binary
Convolutional Neural Networks", ECCV 2016 (binary weights scaled by alpha = mean |W| per filter,
binary activations, the input scaling map K, the block order), and the binarised-network training of
Courbariaux, Hubara, Soudry, El-Yaniv and Bengio, "Binarized Neural Networks: Training Deep Neural
Networks with Weights and Activations Constrained to +1 or -1", arXiv:1602.02830, 2016 (Hubara et al.,
NeurIPS 2016): the straight-through estimator and clipped real-valued latent weights.

Binarisation convention of the whole project: sign(0) = +1, and in packed form bit 1 = -1.
Forward passes use binary weights (B = sign(W), alpha = mean |W| per output filter) and binary
activations; the backward pass uses the straight-through estimator (gradient 1 where |x| <= 1)
and updates the real-valued latent weights, which are clipped to [-1, 1] after every step.

In export mode the weight path is written as Mul(Sign(W_latent), alpha) with alpha a constant,
and activations as Sign(x): the ONNX importer of XnorEdge recognises exactly these patterns.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SignSTE(torch.autograd.Function):
    """sign with sign(0) = +1 and the straight-through estimator clipped at |x| <= 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x.abs() <= 1).to(grad.dtype)

    @staticmethod
    def symbolic(g, x):
        # ONNX Sign maps 0 to 0; XnorEdge reads Sign as a binariser with sign(0) = +1.
        return g.op("Sign", x)


def binary_sign(x):
    return SignSTE.apply(x)


class BinaryWeight(nn.Module):
    """Mixin logic: alpha * sign(W), one alpha per output filter."""

    export_mode = False

    @staticmethod
    def binarise(weight, export_mode):
        dims = tuple(range(1, weight.dim()))
        alpha = weight.abs().mean(dim=dims, keepdim=True)
        if export_mode:
            # A constant alpha keeps the exported graph to Mul(Sign(W), alpha).
            return binary_sign(weight) * alpha.detach().clone()
        return binary_sign(weight) * alpha


class BinaryConv2d(nn.Conv2d):
    """Convolution with binary weights (alpha per filter). Inputs are whatever arrives:
    real values for a BWN layer, +-1 values (after Sign) for an XNOR layer."""

    def __init__(self, *args, binary=True, **kwargs):
        kwargs.setdefault("bias", False)
        super().__init__(*args, **kwargs)
        self.binary = binary
        self.export_mode = False

    def forward(self, x):
        w = BinaryWeight.binarise(self.weight, self.export_mode) if self.binary else self.weight
        return F.conv2d(x, w, None, self.stride, self.padding, self.dilation, self.groups)


class BinaryLinear(nn.Linear):
    def __init__(self, *args, binary=True, **kwargs):
        kwargs.setdefault("bias", False)
        super().__init__(*args, **kwargs)
        self.binary = binary
        self.export_mode = False

    def forward(self, x):
        w = BinaryWeight.binarise(self.weight, self.export_mode) if self.binary else self.weight
        return F.linear(x, w, None)


class Activation(nn.Module):
    """Sign for the binary network, ReLU for the float baseline of the same architecture."""

    def __init__(self, binary):
        super().__init__()
        self.binary = binary

    def forward(self, x):
        return binary_sign(x) if self.binary else F.relu(x)


def clip_latent_weights(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (BinaryConv2d, BinaryLinear)) and m.binary:
                m.weight.clamp_(-1.0, 1.0)


def set_export_mode(model, on):
    for m in model.modules():
        if isinstance(m, (BinaryConv2d, BinaryLinear)):
            m.export_mode = on

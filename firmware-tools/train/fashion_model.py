"""The Fashion-MNIST network shipped in models/fashion-mnist/ and its float baseline.

XNOR-Net block order (Rastegari et al., "XNOR-Net: ImageNet Classification Using Binary Convolutional
Neural Networks", ECCV 2016, section 3.2, "Network Structure"): BatchNorm -> Sign -> binary conv -> pool.
  input 1x28x28 (normalised)
  conv1  BWN 3x3 1->C1, pad 1          (binary weights, real input: the first layer)
  block  BN, Sign, XNOR 3x3 C1->C2, pad 1, MaxPool 2   -> 14x14
  block  BN, Sign, XNOR 3x3 C2->C3, pad 1, MaxPool 2   -> 7x7
  block  BN, Sign, XNOR 3x3 C3->C4, pad 1, MaxPool 3/2 -> 3x3
  BN, Sign, flatten, XNOR dense C4*9 -> H
  BN, real dense H -> 10                 (the last layer stays real-valued)
Every hidden layer is binary in weights and activations. Padding is PyTorch's zero padding,
which the runtime reproduces exactly with its border correction. The batch-norm before the
dense layer is per channel (before the flatten), so the exporter folds it into conv4's
integer thresholds instead of storing 1,152 per-feature thresholds.
The float baseline is the same graph with real weights and ReLU in place of Sign.
With real_weights=True the activations are binary but the weights stay real: the first stage of
two-stage training (binarise activations first, then weights from those weights); it is not exportable.
"""
import torch.nn as nn

from xnornet import Activation, BinaryConv2d, BinaryLinear


class FashionXnorNet(nn.Module):
    def __init__(self, binary=True, channels=(64, 64, 128, 128), hidden=128, classes=10, real_weights=False, real_first=False):
        super().__init__()
        c1, c2, c3, c4 = channels
        self.binary = binary
        bw = binary and not real_weights  # binary weights
        # real_first: the first conv keeps real weights (a real Conv2D in the file) while the rest stays binary.
        self.conv1 = BinaryConv2d(1, c1, 3, padding=1, binary=bw and not real_first)
        self.bn1 = nn.BatchNorm2d(c1)
        self.act1 = Activation(binary)
        self.conv2 = BinaryConv2d(c1, c2, 3, padding=1, binary=bw)
        self.pool2 = nn.MaxPool2d(2)
        self.bn2 = nn.BatchNorm2d(c2)
        self.act2 = Activation(binary)
        self.conv3 = BinaryConv2d(c2, c3, 3, padding=1, binary=bw)
        self.pool3 = nn.MaxPool2d(2)
        self.bn3 = nn.BatchNorm2d(c3)
        self.act3 = Activation(binary)
        self.conv4 = BinaryConv2d(c3, c4, 3, padding=1, binary=bw)
        self.pool4 = nn.MaxPool2d(3, 2)
        self.bn5 = nn.BatchNorm2d(c4)
        self.act5 = Activation(binary)
        self.flatten = nn.Flatten(1)
        self.fc5 = BinaryLinear(c4 * 9, hidden, binary=bw)
        self.bn6 = nn.BatchNorm1d(hidden)
        self.fc6 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.conv1(x)
        x = self.pool2(self.conv2(self.act1(self.bn1(x))))
        x = self.pool3(self.conv3(self.act2(self.bn2(x))))
        x = self.pool4(self.conv4(self.act3(self.bn3(x))))
        x = self.fc5(self.flatten(self.act5(self.bn5(x))))
        return self.fc6(self.bn6(x))



class FashionMcuNet(nn.Module):
    """The microcontroller-sized network of models/fashion-mnist-mcu/. On the nanoFramework interpreter a
    BWN tap (one real input times one binary weight) costs about as much as an XNOR-popcount word of 32
    channels, so the first layer runs at stride 2 (14x14 outputs, a quarter of the taps), and every binary
    conv works at 14x14 or 7x7 with channel counts that are multiples of 32 (no wasted bits in a word).
      input 1x28x28 (normalised)
      conv1  BWN 3x3 1->C1, stride 2, pad 1                   -> 14x14   (binary weights, real input)
      block  BN, Sign, XNOR 3x3 C1->C2, pad 1, MaxPool 2      -> 7x7
      block  BN, Sign, XNOR 3x3 C2->C3, pad 1, MaxPool 3/2    -> 3x3
      BN, Sign, flatten, XNOR dense C3*9 -> H
      BN, real dense H -> 10                                   (the last layer stays real-valued)
    Every hidden layer is binary in weights and activations.
    The float baseline (binary=False) is the same graph with real weights and ReLU in place of Sign."""

    def __init__(self, binary=True, channels=(32, 32, 128), hidden=256, classes=10, real_weights=False):
        super().__init__()
        c1, c2, c3 = channels
        self.binary = binary
        bw = binary and not real_weights  # binary weights
        self.conv1 = BinaryConv2d(1, c1, 3, stride=2, padding=1, binary=bw)
        self.bn1 = nn.BatchNorm2d(c1)
        self.act1 = Activation(binary)
        self.conv2 = BinaryConv2d(c1, c2, 3, padding=1, binary=bw)
        self.pool2 = nn.MaxPool2d(2)
        self.bn2 = nn.BatchNorm2d(c2)
        self.act2 = Activation(binary)
        self.conv3 = BinaryConv2d(c2, c3, 3, padding=1, binary=bw)
        self.pool3 = nn.MaxPool2d(3, 2)
        self.bn4 = nn.BatchNorm2d(c3)
        self.act4 = Activation(binary)
        self.flatten = nn.Flatten(1)
        self.fc4 = BinaryLinear(c3 * 9, hidden, binary=bw)
        self.bn5 = nn.BatchNorm1d(hidden)
        self.fc5 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.conv1(x)
        x = self.pool2(self.conv2(self.act1(self.bn1(x))))
        x = self.pool3(self.conv3(self.act2(self.bn2(x))))
        x = self.fc4(self.flatten(self.act4(self.bn4(x))))
        return self.fc5(self.bn5(x))


ARCHITECTURES = {"fashion": (FashionXnorNet, "64,64,128,128"), "mcu": (FashionMcuNet, "32,32,128")}


def build_model(arch, binary=True, channels=None, hidden=128, real_weights=False, real_first=False):
    """The network of architecture `arch` ("fashion": the shipped model's, "mcu": the microcontroller one)."""
    cls, default_channels = ARCHITECTURES[arch]
    chans = tuple(int(c) for c in (channels or default_channels).split(","))
    if real_first:
        if cls is not FashionXnorNet:
            raise ValueError(f"--real-first: only the {ARCHITECTURES['fashion'][0].__name__} architecture has it")
        return cls(binary=binary, channels=chans, hidden=hidden, real_weights=real_weights, real_first=True)
    return cls(binary=binary, channels=chans, hidden=hidden, real_weights=real_weights)

"""VGG (Simonyan & Zisserman, 2014), with and without batch norm, in torchvision's layout."""
from __future__ import annotations

import ember
from ember import nn

from ._weights import legacy_pretrained, load_weights

__all__ = ["VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
           "vgg19_bn"]

# conv widths per stage; "M" is a 2x2 max pool
cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False) -> nn.Sequential:
    layers, in_channels = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return self.classifier(ember.flatten(self.avgpool(self.features(x)), 1))


def _builder(arch, cfg, batch_norm):
    """The public constructor ``arch(*, weights=None, progress=True, **kwargs)`` for one VGG variant."""
    def build(*, weights=None, progress=True, **kwargs) -> VGG:
        if weights is not None:
            kwargs["init_weights"] = False
        return load_weights(VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs), weights, arch)
    build.__name__ = build.__qualname__ = arch
    build.__doc__ = (f"VGG {arch[3:5]}-layer model (configuration {cfg!r})" + (" with batch norm" if batch_norm else "")
                     + "; ``weights`` is None, a state_dict or a local checkpoint path.")
    return legacy_pretrained(build)


vgg11, vgg11_bn = _builder("vgg11", "A", False), _builder("vgg11_bn", "A", True)
vgg13, vgg13_bn = _builder("vgg13", "B", False), _builder("vgg13_bn", "B", True)
vgg16, vgg16_bn = _builder("vgg16", "D", False), _builder("vgg16_bn", "D", True)
vgg19, vgg19_bn = _builder("vgg19", "E", False), _builder("vgg19_bn", "E", True)

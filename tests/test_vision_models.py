"""ember.vision.models: torchvision's parameter counts, state_dict layout, init, and resnet18 == torch."""
import math

import numpy as np
import pytest
import torch
from torch import nn as tnn

import ember
from ember.vision import models
from ember.vision.models.vgg import cfgs, make_layers


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _torch_resnet18(num_classes):
    """resnet18 built here from torch.nn layers, with torchvision's attribute names."""
    class BasicBlock(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            cin = 64
            for i, width in enumerate([64, 128, 256, 512]):
                stride = 1 if i == 0 else 2
                setattr(self, f"layer{i + 1}", tnn.Sequential(BasicBlock(cin, width, stride),
                                                              BasicBlock(width, width, 1)))
                cin = width
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def test_resnet18_equals_torch_model_with_same_weights():
    ember.manual_seed(0)
    model = models.resnet18(num_classes=7)
    rng = np.random.RandomState(0)
    with ember.no_grad():       # non-trivial BN statistics and affine params, so eval mode exercises them
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(ember.from_numpy(rng.randn(*buf.shape).astype(np.float32) * 0.1))
            elif name.endswith("running_var"):
                buf.copy_(ember.from_numpy(rng.uniform(0.5, 1.5, buf.shape).astype(np.float32)))
        for name, p in model.named_parameters():
            if name.split(".")[-2].startswith("bn"):
                p.copy_(ember.from_numpy(rng.uniform(0.5, 1.5, p.shape).astype(np.float32)))
    ref = _torch_resnet18(7)
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    assert list(state) == list(ref.state_dict())
    ref.load_state_dict(state, strict=True)
    assert repr(model) == repr(ref)
    x = rng.randn(2, 3, 40, 40).astype(np.float32)
    model.eval(), ref.eval()
    with ember.no_grad(), torch.no_grad():
        np.testing.assert_allclose(model(ember.from_numpy(x)).numpy(), ref(torch.from_numpy(x)).numpy(),
                                   rtol=1e-4, atol=1e-4)
    model.train(), ref.train()
    with ember.no_grad(), torch.no_grad():
        np.testing.assert_allclose(model(ember.from_numpy(x)).numpy(), ref(torch.from_numpy(x)).numpy(),
                                   rtol=1e-3, atol=1e-3)


def test_resnet_parameter_counts_keys_and_forward():
    r18 = models.resnet18()
    assert _count(r18) == 11_689_512
    sd = r18.state_dict()
    assert sd["layer2.0.downsample.0.weight"].shape == (128, 64, 1, 1)
    assert sd["layer3.1.bn2.num_batches_tracked"].dtype == ember.int64
    assert "layer1.0.downsample.0.weight" not in sd
    r50 = models.resnet50()
    assert _count(r50) == 25_557_032
    sd = r50.state_dict()
    assert len(sd) == 320
    assert sd["layer1.0.downsample.0.weight"].shape == (256, 64, 1, 1)
    assert sd["layer4.2.conv2.weight"].shape == (512, 512, 3, 3)
    assert sd["layer4.2.bn3.running_var"].shape == (2048,)
    assert sd["fc.weight"].shape == (1000, 2048)
    r50.eval()
    with ember.no_grad():
        assert tuple(r50(ember.randn(1, 3, 32, 32)).shape) == (1, 1000)
    assert repr(r50.layer1[0]).startswith("Bottleneck(\n  (conv1): Conv2d(64, 64, kernel_size=(1, 1), stride=(1, 1), "
                                          "bias=False)")
    rx = models.resnext50_32x4d()
    assert _count(rx) == 25_028_904
    assert rx.layer1[0].conv2.groups == 32 and rx.layer1[0].conv2.weight.shape == (128, 4, 3, 3)


def test_resnet_default_init_and_zero_init_residual():
    ember.manual_seed(1)
    m = models.resnet18(zero_init_residual=True)
    w = m.layer3[0].conv1.weight.detach().numpy()
    fan_out = w.shape[0] * w.shape[2] * w.shape[3]
    assert abs(w.std() - math.sqrt(2.0 / fan_out)) < 0.05 * math.sqrt(2.0 / fan_out)     # kaiming fan_out
    assert (m.bn1.weight.detach().numpy() == 1).all() and (m.bn1.bias.detach().numpy() == 0).all()
    assert (m.layer2[1].bn2.weight.detach().numpy() == 0).all() and (m.layer2[1].bn1.weight.detach().numpy() == 1).all()
    fc = m.fc.weight.detach().numpy()                       # Linear keeps PyTorch's default U(-1/sqrt(in), 1/sqrt(in))
    assert fc.max() <= 1 / math.sqrt(512) and fc.min() >= -1 / math.sqrt(512) and fc.std() > 0.02
    assert (models.resnet18().layer2[1].bn2.weight.detach().numpy() == 1).all()


def test_vgg16_count_layout_init_and_forward():
    ember.manual_seed(2)
    m = models.vgg16()
    assert _count(m) == 138_357_544
    sd = m.state_dict()
    assert [k for k in sd if k.startswith("features")][:4] == ["features.0.weight", "features.0.bias",
                                                               "features.2.weight", "features.2.bias"]
    assert sd["features.28.weight"].shape == (512, 512, 3, 3) and sd["classifier.6.weight"].shape == (1000, 4096)
    assert sd["classifier.0.weight"].shape == (4096, 25088)
    lin = m.classifier[3].weight.detach().numpy()
    assert abs(lin.std() - 0.01) < 0.0005 and (m.classifier[0].bias.detach().numpy() == 0).all()
    conv = m.features[0].weight.detach().numpy()
    assert abs(conv.std() - math.sqrt(2.0 / (64 * 9))) < 0.15 * math.sqrt(2.0 / (64 * 9))
    assert (m.features[0].bias.detach().numpy() == 0).all()
    assert repr(m.classifier) == (
        "Sequential(\n  (0): Linear(in_features=25088, out_features=4096, bias=True)\n  (1): ReLU(inplace=True)\n"
        "  (2): Dropout(p=0.5, inplace=False)\n  (3): Linear(in_features=4096, out_features=4096, bias=True)\n"
        "  (4): ReLU(inplace=True)\n  (5): Dropout(p=0.5, inplace=False)\n"
        "  (6): Linear(in_features=4096, out_features=1000, bias=True)\n)")
    m.eval()
    with ember.no_grad():
        assert tuple(m(ember.randn(1, 3, 32, 32)).shape) == (1, 1000)


def test_vgg_feature_configs_match_torchvision_counts():
    classifier = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    known = {("A", False): 132_863_336, ("A", True): 132_868_840, ("B", False): 133_047_848,
             ("D", True): 138_365_992, ("E", False): 143_667_240, ("E", True): 143_678_248}
    for (cfg, bn), total in known.items():
        assert _count(make_layers(cfgs[cfg], batch_norm=bn)) + classifier == total
    bn_keys = list(make_layers(cfgs["A"], batch_norm=True).state_dict())
    assert bn_keys[:7] == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked"]
    assert repr(make_layers([8, "M"])) == (
        "Sequential(\n  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (1): ReLU(inplace=True)\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n)")


def test_alexnet_count_layout_and_forward():
    m = models.alexnet()
    assert _count(m) == 61_100_840
    sd = m.state_dict()
    assert list(sd)[:2] == ["features.0.weight", "features.0.bias"]
    assert sd["features.3.weight"].shape == (192, 64, 5, 5) and sd["classifier.1.weight"].shape == (4096, 9216)
    assert sd["classifier.6.weight"].shape == (1000, 4096)
    m.eval()
    with ember.no_grad():
        assert tuple(m(ember.randn(1, 3, 64, 64)).shape) == (1, 1000)


def test_weights_argument(tmp_path):
    src = models.resnet18(num_classes=3)
    path = tmp_path / "r18.pth"
    ember.save(src.state_dict(), str(path))
    for weights in (src.state_dict(), str(path), path):
        m = models.resnet18(weights=weights, num_classes=3)
        np.testing.assert_array_equal(m.fc.weight.detach().numpy(), src.fc.weight.detach().numpy())
        np.testing.assert_array_equal(m.layer1[0].conv1.weight.detach().numpy(),
                                      src.layer1[0].conv1.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="resnet18: pretrained weights 'IMAGENET1K_V1' cannot be downloaded"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(RuntimeError, match="size mismatch|Missing|Unexpected"):
        models.resnet18(weights=src.state_dict())          # 3-class checkpoint into a 1000-class model


def test_mobilenet_v2_and_squeezenet_counts_layout_forward():
    m = models.mobilenet_v2()
    assert _count(m) == 3_504_872
    sd = m.state_dict()
    assert len(sd) == 314
    assert list(sd)[6:8] == ["features.1.conv.0.0.weight", "features.1.conv.0.1.weight"]
    assert sd["features.2.conv.1.0.weight"].shape == (96, 1, 3, 3)                   # depthwise
    assert sd["features.18.0.weight"].shape == (1280, 320, 1, 1) and sd["classifier.1.weight"].shape == (1000, 1280)
    assert repr(m.features[0]).startswith("Conv2dNormActivation(\n  (0): Conv2d(3, 32, kernel_size=(3, 3), "
                                          "stride=(2, 2), padding=(1, 1), bias=False)")
    assert m.features[2].use_res_connect is False and m.features[3].use_res_connect is True
    for build, count in ((models.squeezenet1_0, 1_248_424), (models.squeezenet1_1, 1_235_496)):
        s = build()
        assert _count(s) == count
        assert s.state_dict()["classifier.1.weight"].shape == (1000, 512, 1, 1)
        assert abs(s.classifier[1].weight.detach().numpy().std() - 0.01) < 0.001
    assert "features.3.expand3x3.weight" in s.state_dict()
    for net in (m.eval(), s.eval()):
        with ember.no_grad():
            assert tuple(net(ember.randn(2, 3, 48, 48)).shape) == (2, 1000)

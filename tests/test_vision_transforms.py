"""ember.vision.transforms against torch (tensor maths, F.interpolate) and Pillow (PIL-image ops)."""
import colorsys

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms as T
from ember.vision.transforms import InterpolationMode
from ember.vision.transforms import functional as F


def _rgb(h=10, w=12, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3), dtype=np.uint8)


def _np(t):
    return t.detach().numpy() if isinstance(t, ember.Tensor) else np.asarray(t)


def _chw(arr):
    """(H, W, C) uint8 array as an ember CHW tensor."""
    return ember.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


# ---- conversions ----------------------------------------------------------------------------------
def test_to_tensor_pil_and_ndarray_match_torch_math():
    arr = _rgb()
    ref = (torch.from_numpy(arr).permute(2, 0, 1).float() / 255).numpy()
    for pic in (Image.fromarray(arr), arr):
        out = T.ToTensor()(pic)
        assert out.dtype == ember.float32 and tuple(out.shape) == (3, 10, 12)
        np.testing.assert_allclose(_np(out), ref, rtol=0, atol=1e-7)
    gray = T.ToTensor()(Image.fromarray(arr[:, :, 0]))
    assert tuple(gray.shape) == (1, 10, 12)
    np.testing.assert_allclose(_np(gray)[0], arr[:, :, 0] / 255, atol=1e-7)
    floats = np.random.RandomState(1).rand(4, 5).astype(np.float32)   # non-uint8 arrays are not rescaled
    np.testing.assert_array_equal(_np(T.ToTensor()(floats))[0], floats)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2, 3])


def test_pil_to_tensor_and_to_pil_image_round_trip():
    arr = _rgb()
    img = Image.fromarray(arr)
    t = T.PILToTensor()(img)
    assert t.dtype == ember.uint8
    np.testing.assert_array_equal(_np(t), arr.transpose(2, 0, 1))
    back = T.ToPILImage()(t)
    assert back.mode == "RGB" and np.array_equal(np.asarray(back), arr)
    # float input is scaled by 255 and truncated, as torch's .mul(255).byte()
    f = ember.tensor([[[0.0, 0.5, 1.0]]])
    expected = torch.tensor([[[0.0, 0.5, 1.0]]]).mul(255).byte().numpy()[0]
    pil = T.ToPILImage()(f)
    assert pil.mode == "L" and np.array_equal(np.asarray(pil), expected)
    assert T.ToPILImage(mode="F")(f).mode == "F"
    assert T.ToPILImage()(ember.zeros(4, 2, 2)).mode == "RGBA"
    with pytest.raises(ValueError, match="> 4 channels"):
        T.ToPILImage()(ember.zeros(5, 2, 2))


def test_convert_image_dtype_matches_torch_formulas():
    x = np.linspace(0, 1, 11, dtype=np.float32).reshape(1, 1, 11)
    out = T.ConvertImageDtype(ember.uint8)(ember.from_numpy(x))
    ref = (torch.from_numpy(x) * (255 + 1 - 1e-3)).to(torch.uint8).numpy()
    np.testing.assert_array_equal(_np(out), ref)
    u = ember.tensor([[[0, 128, 255]]], dtype=ember.uint8)
    np.testing.assert_allclose(_np(F.convert_image_dtype(u, ember.float32)), [[[0, 128 / 255, 1.0]]], atol=1e-7)
    np.testing.assert_array_equal(_np(F.convert_image_dtype(u, ember.int16)), [[[0, 128 * 128, 255 * 128]]])
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ember.zeros(1, 1, 1), ember.int32)


def test_normalize_matches_torch_and_inplace():
    x = np.random.RandomState(2).rand(3, 4, 5).astype(np.float32)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    ref = ((torch.from_numpy(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]).numpy()
    t = ember.from_numpy(x.copy())
    out = T.Normalize(mean, std)(t)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(_np(t), x)                 # not in place by default
    out2 = T.Normalize(mean, std, inplace=True)(t)
    assert out2 is t
    np.testing.assert_allclose(_np(t), ref, rtol=1e-6, atol=1e-6)
    batch = F.normalize(ember.from_numpy(np.stack([x, x])), mean, std)
    np.testing.assert_allclose(_np(batch)[1], ref, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(ember.rand(3, 2, 2), [0, 0, 0], [1, 0, 1])
    with pytest.raises(TypeError, match="float tensor"):
        F.normalize(ember.zeros(3, 2, 2, dtype=ember.uint8), [0], [1])
    with pytest.raises(TypeError, match="Tensor Image"):
        F.normalize(x, [0], [1])
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        F.normalize(ember.rand(2, 2), [0], [1])


def test_compose_and_transform_reprs():
    assert repr(T.Compose([T.ToTensor(), T.Normalize(mean=[0.5], std=[0.5])])) == (
        "Compose(\n    ToTensor()\n    Normalize(mean=[0.5], std=[0.5])\n)")
    assert repr(T.Resize(256)) == "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"
    assert repr(T.CenterCrop(224)) == "CenterCrop(size=(224, 224))"
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomResizedCrop(224)) == (
        "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), interpolation=bilinear, "
        "antialias=True)")
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.ColorJitter(0.4, 0.4, 0.4, 0.1)) == (
        "ColorJitter(brightness=[0.6, 1.4], contrast=[0.6, 1.4], saturation=[0.6, 1.4], hue=[-0.1, 0.1])")
    assert repr(T.ColorJitter()) == "ColorJitter(brightness=None, contrast=None, saturation=None, hue=None)"
    assert repr(T.GaussianBlur(3)) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"
    assert repr(T.RandomApply([T.Grayscale()], p=0.3)) == (
        "RandomApply(\n    p=0.3\n    Grayscale(num_output_channels=1)\n)")
    assert repr(T.ToPILImage(mode="RGB")) == "ToPILImage(mode=RGB)"
    assert repr(T.RandomErasing()) == (
        "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False)")
    assert repr(T.Lambda(lambda x: x)) == "Lambda()"
    with pytest.raises(TypeError, match="should be callable, got 'int'"):
        T.Lambda(3)


# ---- resize ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("size", [(5, 7), (23, 17)])
def test_resize_tensor_matches_torch_interpolate(mode, antialias, size):
    x = np.random.RandomState(3).rand(2, 3, 12, 10).astype(np.float32)
    out = T.Resize(size, interpolation=InterpolationMode(mode), antialias=antialias)(ember.from_numpy(x))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=False,
                                          antialias=antialias).numpy()
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-5)


def test_resize_nearest_uint8_and_int_size():
    arr = _rgb(12, 10)
    t = _chw(arr)
    out = F.resize(t, 6, interpolation=InterpolationMode.NEAREST)
    assert tuple(out.shape) == (3, 7, 6) and out.dtype == ember.uint8     # shorter side -> 6, 12*6/10 = 7
    ref = torch.nn.functional.interpolate(torch.from_numpy(arr.transpose(2, 0, 1)[None].astype(np.float32)),
                                          size=(7, 6), mode="nearest").numpy()[0]
    np.testing.assert_array_equal(_np(out), ref)
    # uint8 bilinear: computed in float, rounded back
    out = F.resize(t, [5, 4], antialias=True)
    ref = torch.nn.functional.interpolate(torch.from_numpy(arr.transpose(2, 0, 1)[None].astype(np.float32)),
                                          size=(5, 4), mode="bilinear", antialias=True).round().numpy()[0]
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(_np(out), ref)
    tall = _chw(_rgb(20, 10))          # 6 on the short side would make the long side 12 > max_size
    assert tuple(F.resize(tall, 6, max_size=10).shape) == (3, 10, 5)
    with pytest.raises(ValueError, match="max_size = 6 must be strictly greater"):
        F.resize(t, 6, max_size=6)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize([1, 2, 3])


@pytest.mark.parametrize("mode,pil", [(InterpolationMode.BILINEAR, Image.BILINEAR),
                                      (InterpolationMode.BICUBIC, Image.BICUBIC),
                                      (InterpolationMode.NEAREST, Image.NEAREST), (2, Image.BILINEAR)])
def test_resize_pil_is_pillow_resize(mode, pil):
    img = Image.fromarray(_rgb(12, 10))
    out = T.Resize(6, interpolation=mode)(img)
    assert out.size == (6, 7)
    assert np.array_equal(np.asarray(out), np.asarray(img.resize((6, 7), pil)))
    # tensor antialiased bilinear agrees with Pillow's to within rounding on upscaling-free sizes
    if mode == InterpolationMode.BILINEAR:
        t = F.resize(_chw(np.asarray(img)), [7, 6], mode)
        assert np.abs(_np(t).astype(int) - np.asarray(out).transpose(2, 0, 1).astype(int)).max() <= 1


# ---- crops, flips, pad ----------------------------------------------------------------------------
def test_center_crop_tensor_pil_and_padding():
    arr = _rgb(10, 12)
    out = T.CenterCrop((4, 6))(_chw(arr))
    np.testing.assert_array_equal(_np(out), arr[3:7, 3:9].transpose(2, 0, 1))
    pil = T.CenterCrop((4, 6))(Image.fromarray(arr))
    np.testing.assert_array_equal(np.asarray(pil), arr[3:7, 3:9])
    big = F.center_crop(_chw(arr), [13, 15])        # larger than the image: zero-padded around it
    expected = np.pad(arr, ((1, 2), (1, 2), (0, 0))).transpose(2, 0, 1)
    np.testing.assert_array_equal(_np(big), expected)
    np.testing.assert_array_equal(np.asarray(F.center_crop(Image.fromarray(arr), [13, 15])),
                                  expected.transpose(1, 2, 0))


def test_crop_out_of_bounds_zero_fills_like_pil():
    arr = _rgb(6, 6)
    t = F.crop(_chw(arr), -2, 3, 5, 6)
    p = F.crop(Image.fromarray(arr), -2, 3, 5, 6)
    np.testing.assert_array_equal(_np(t).transpose(1, 2, 0), np.asarray(p))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes_match_numpy_and_pil(mode):
    arr = _rgb(5, 6)
    np_mode = {"constant": "constant"}.get(mode, mode)
    out = T.Pad([1, 2, 3, 4], fill=0, padding_mode=mode)(_chw(arr))   # left, top, right, bottom
    expected = np.pad(arr, ((2, 4), (1, 3), (0, 0)), mode=np_mode)
    np.testing.assert_array_equal(_np(out).transpose(1, 2, 0), expected)
    np.testing.assert_array_equal(np.asarray(T.Pad([1, 2, 3, 4], padding_mode=mode)(Image.fromarray(arr))),
                                  expected)
    assert tuple(F.pad(_chw(arr), [2, 1]).shape) == (3, 7, 10)            # [left/right, top/bottom]
    filled = F.pad(Image.fromarray(arr), 1, fill=(9, 8, 7))
    assert np.asarray(filled)[0, 0].tolist() == [9, 8, 7]


def test_random_crop_reproducible_and_padded():
    t = _chw(_rgb(8, 8))
    ember.manual_seed(0)
    a = T.RandomCrop(6, padding=2)(t)
    ember.manual_seed(0)
    b = T.RandomCrop(6, padding=2)(t)
    assert np.array_equal(_np(a), _np(b)) and tuple(a.shape) == (3, 6, 6)
    padded = _np(F.pad(t, 2))
    # the crop is some 6x6 window of the padded image
    assert any(np.array_equal(padded[:, i:i + 6, j:j + 6], _np(a)) for i in range(7) for j in range(7))
    grown = T.RandomCrop((10, 12), pad_if_needed=True, fill=255)(t)
    assert tuple(grown.shape) == (3, 10, 12) and (_np(grown) == 255).sum() == 3 * (10 * 12 - 8 * 8)
    with pytest.raises(ValueError, match=r"Required crop size \(9, 9\) is larger than input image size \(8, 8\)"):
        T.RandomCrop(9)(t)


def test_random_resized_crop_params_and_output():
    img = _chw(_rgb(20, 30))
    ember.manual_seed(3)
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 20 - h and 0 <= j <= 30 - w and 0 < h <= 20 and 0 < w <= 30
        assert 0.08 * 600 * 0.7 <= h * w <= 600
    ember.manual_seed(5)
    a = T.RandomResizedCrop(8)(img)
    ember.manual_seed(5)
    i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
    np.testing.assert_array_equal(_np(a), _np(F.resize(F.crop(img, i, j, h, w), [8, 8])))
    assert T.RandomResizedCrop((4, 5))(Image.fromarray(_rgb(20, 30))).size == (5, 4)
    # no valid draw for an impossible ratio: fall back to a centred crop at the nearest ratio
    assert T.RandomResizedCrop.get_params(img, (1.0, 1.0), (5.0, 6.0)) == (7, 0, 6, 30)


def test_flips_match_torch_and_pil():
    arr = _rgb(4, 5)
    t = _chw(arr)
    ref = torch.from_numpy(arr.transpose(2, 0, 1))
    np.testing.assert_array_equal(_np(T.RandomHorizontalFlip(p=1.0)(t)), ref.flip(-1).numpy())
    np.testing.assert_array_equal(_np(T.RandomVerticalFlip(p=1.0)(t)), ref.flip(-2).numpy())
    np.testing.assert_array_equal(_np(T.RandomHorizontalFlip(p=0.0)(t)), arr.transpose(2, 0, 1))
    np.testing.assert_array_equal(np.asarray(F.hflip(Image.fromarray(arr))), arr[:, ::-1])
    np.testing.assert_array_equal(np.asarray(F.vflip(Image.fromarray(arr))), arr[::-1])
    ember.manual_seed(0)
    flips = [bool(np.array_equal(_np(T.RandomHorizontalFlip()(t)), arr.transpose(2, 0, 1))) for _ in range(200)]
    assert 60 < sum(flips) < 140


# ---- colour ---------------------------------------------------------------------------------------
def test_grayscale_tensor_formula_and_pil():
    x = np.random.RandomState(4).rand(3, 4, 5).astype(np.float32)
    out = T.Grayscale()(ember.from_numpy(x))
    tx = torch.from_numpy(x)
    ref = (0.2989 * tx[0] + 0.587 * tx[1] + 0.114 * tx[2]).numpy()[None]
    np.testing.assert_allclose(_np(out), ref, rtol=1e-6, atol=1e-6)
    three = T.Grayscale(3)(ember.from_numpy(x))
    assert tuple(three.shape) == (3, 4, 5) and np.allclose(_np(three)[2], ref[0])
    arr = _rgb()
    pil = T.Grayscale(3)(Image.fromarray(arr))
    assert pil.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(pil)[:, :, 1], np.asarray(Image.fromarray(arr).convert("L")))
    tens = _np(F.rgb_to_grayscale(_chw(arr)))[0].astype(int)
    assert np.abs(tens - np.asarray(Image.fromarray(arr).convert("L")).astype(int)).max() <= 1
    ember.manual_seed(0)
    assert tuple(T.RandomGrayscale(p=1.0)(ember.from_numpy(x)).shape) == (3, 4, 5)


def test_color_adjustments_match_torch_math():
    x = np.random.RandomState(5).rand(3, 4, 5).astype(np.float32)
    t, tx = ember.from_numpy(x), torch.from_numpy(x)
    gray = 0.2989 * tx[0] + 0.587 * tx[1] + 0.114 * tx[2]
    np.testing.assert_allclose(_np(F.adjust_brightness(t, 1.7)), (1.7 * tx).clamp(0, 1).numpy(), atol=1e-6)
    ref_c = (0.6 * tx + 0.4 * gray.mean()).clamp(0, 1).numpy()
    np.testing.assert_allclose(_np(F.adjust_contrast(t, 0.6)), ref_c, atol=1e-6)
    ref_s = (1.5 * tx + -0.5 * gray[None]).clamp(0, 1).numpy()
    np.testing.assert_allclose(_np(F.adjust_saturation(t, 1.5)), ref_s, atol=1e-6)
    with pytest.raises(ValueError, match="brightness_factor .* is not non-negative"):
        F.adjust_brightness(t, -1)


def test_adjust_hue_matches_colorsys():
    x = np.random.RandomState(6).rand(3, 4, 5).astype(np.float32)
    x[:, 0, 0] = 0.5                          # a grey pixel (no hue) stays put
    out = _np(F.adjust_hue(ember.from_numpy(x), 0.23))
    for r in range(4):
        for c in range(5):
            h, s, v = colorsys.rgb_to_hsv(*x[:, r, c])
            np.testing.assert_allclose(out[:, r, c], colorsys.hsv_to_rgb((h + 0.23) % 1.0, s, v), atol=1e-5)
    arr = _rgb()
    pil = np.asarray(F.adjust_hue(Image.fromarray(arr), -0.2)).astype(int)
    tens = _np(F.adjust_hue(_chw(arr), -0.2)).transpose(1, 2, 0).astype(int)
    assert np.median(np.abs(pil - tens)) <= 3          # Pillow's 8-bit HSV is coarser than the float path
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        F.adjust_hue(ember.from_numpy(x), 0.7)


def test_color_jitter_reproducible_and_pil():
    x = ember.from_numpy(np.random.RandomState(7).rand(3, 6, 6).astype(np.float32))
    jitter = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    ember.manual_seed(11)
    a = jitter(x)
    ember.manual_seed(11)
    b = jitter(x)
    np.testing.assert_array_equal(_np(a), _np(b))
    assert not np.allclose(_np(a), _np(x))
    ember.manual_seed(11)
    order, bf, _cf, _sf, hf = T.ColorJitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation,
                                                     jitter.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and 0.6 <= bf <= 1.4 and -0.1 <= hf <= 0.1
    img = Image.fromarray(_rgb())
    ref = np.asarray(__import__("PIL.ImageEnhance", fromlist=["x"]).Brightness(img).enhance(1.3))
    np.testing.assert_array_equal(np.asarray(F.adjust_brightness(img, 1.3)), ref)
    assert jitter(img).size == img.size
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.6)


# ---- rotation, blur, erasing, containers ----------------------------------------------------------
def test_rotate_right_angles_match_torch_rot90_and_pil():
    arr = _rgb(6, 6)
    t = _chw(arr)
    ref = torch.rot90(torch.from_numpy(arr.transpose(2, 0, 1)), 1, dims=(1, 2)).numpy()   # counter-clockwise
    np.testing.assert_array_equal(_np(F.rotate(t, 90.0)), ref)
    np.testing.assert_array_equal(np.asarray(F.rotate(Image.fromarray(arr), 90.0)), ref.transpose(1, 2, 0))
    np.testing.assert_array_equal(_np(F.rotate(t, 180.0)), arr[::-1, ::-1].transpose(2, 0, 1))
    # corners uncovered by a 45 degree turn take the fill value
    out = _np(F.rotate(ember.ones(1, 9, 9), 45.0, fill=[0.25]))
    assert out[0, 0, 0] == 0.25 and out[0, 4, 4] == 1.0
    ember.manual_seed(1)
    a = T.RandomRotation(30)(t)
    ember.manual_seed(1)
    assert np.array_equal(_np(a), _np(F.rotate(t, T.RandomRotation.get_params([-30.0, 30.0]))))


def test_gaussian_blur_matches_torch_conv():
    x = np.random.RandomState(8).rand(3, 9, 10).astype(np.float32)
    out = F.gaussian_blur(ember.from_numpy(x), [5, 3], [1.2, 0.7])
    def k1(n, s):
        v = torch.exp(-0.5 * (torch.linspace(-(n // 2), n // 2, n) / s) ** 2)
        return v / v.sum()
    kernel = torch.outer(k1(3, 0.7), k1(5, 1.2)).expand(3, 1, 3, 5)
    padded = torch.nn.functional.pad(torch.from_numpy(x)[None], [2, 2, 1, 1], mode="reflect")
    ref = torch.nn.functional.conv2d(padded, kernel, groups=3)[0].numpy()
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-6)
    img = Image.fromarray(_rgb())
    blurred = F.gaussian_blur(img, 3, 1.0)
    tens = _np(F.gaussian_blur(_chw(np.asarray(img)), 3, 1.0))
    assert blurred.mode == "RGB" and np.array_equal(np.asarray(blurred), tens.transpose(1, 2, 0))
    ember.manual_seed(0)
    assert tuple(T.GaussianBlur(3, sigma=(0.5, 1.0))(ember.from_numpy(x)).shape) == (3, 9, 10)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)


def test_random_erasing_box_and_reproducible():
    x = ember.ones(3, 20, 20)
    ember.manual_seed(2)
    out = T.RandomErasing(p=1.0, value=0.5)(x)
    erased = _np(out) == 0.5
    assert erased.any() and (_np(out)[~erased] == 1.0).all()
    rows, cols = np.nonzero(erased[0])
    assert erased[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()     # one rectangle, all channels
    ember.manual_seed(2)
    assert np.array_equal(_np(T.RandomErasing(p=1.0, value=0.5)(x)), _np(out))
    assert (_np(x) == 1.0).all()                                                     # not in place
    ember.manual_seed(2)
    noisy = _np(T.RandomErasing(p=1.0, value="random")(x))
    assert (noisy != 1.0).sum() > 0
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value="noise")


def test_random_apply_choice_order():
    add1, double = T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 2)
    assert T.RandomApply([add1, double], p=1.0)(1) == 4
    assert T.RandomApply([add1, double], p=0.0)(1) == 1
    ember.manual_seed(0)
    picks = [T.RandomChoice([add1, double], p=[0.9, 0.1])(10) for _ in range(100)]
    assert picks.count(11) > 70 and set(picks) <= {11, 20}
    ember.manual_seed(0)
    orders = {T.RandomOrder([add1, double])(1) for _ in range(40)}
    assert orders == {3, 4}                # (1 + 1) * 2 and 1 * 2 + 1
    assert repr(T.RandomChoice([add1])) == "RandomChoice(\n    Lambda()\n)(p=None)"


def test_dimension_helpers_and_type_errors():
    t = ember.zeros(3, 4, 5)
    img = Image.fromarray(_rgb(4, 5))
    assert F.get_dimensions(t) == F.get_dimensions(img) == [3, 4, 5]
    assert F.get_image_size(img) == [5, 4] and F.get_image_num_channels(t) == 3
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        F.hflip([[1, 2]])

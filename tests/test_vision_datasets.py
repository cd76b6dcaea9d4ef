"""ember.vision.datasets read torchvision's on-disk formats (made here in tmp dirs); vision.utils grids."""
import gzip
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ember
from ember.utils.data import DataLoader, Dataset
from ember.vision import datasets, transforms, utils


def _write_idx(path, arr, opener=open):
    codes = {np.uint8: 0x08, np.int32: 0x0C}
    with opener(path, "wb") as f:
        f.write(bytes([0, 0, codes[arr.dtype.type], arr.ndim]))
        f.write(struct.pack(f">{arr.ndim}i", *arr.shape))
        f.write(arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def _mnist_root(tmp_path, name="MNIST", n=5, gz=False):
    raw = tmp_path / name / "raw"
    raw.mkdir(parents=True)
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, n).astype(np.uint8)
    suffix, opener = (".gz", gzip.open) if gz else ("", open)
    _write_idx(raw / f"train-images-idx3-ubyte{suffix}", images, opener)
    _write_idx(raw / f"train-labels-idx1-ubyte{suffix}", labels, opener)
    _write_idx(raw / f"t10k-images-idx3-ubyte{suffix}", images[:2], opener)
    _write_idx(raw / f"t10k-labels-idx1-ubyte{suffix}", labels[:2], opener)
    return images, labels


def test_mnist_reads_idx_files(tmp_path):
    images, labels = _mnist_root(tmp_path)
    ds = datasets.MNIST(str(tmp_path), train=True)
    assert isinstance(ds, Dataset) and len(ds) == 5
    assert ds.data.dtype == ember.uint8 and tuple(ds.data.shape) == (5, 28, 28)
    assert ds.targets.dtype == ember.int64 and ds.targets.tolist() == labels.tolist()
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and target == int(labels[3])
    np.testing.assert_array_equal(np.asarray(img), images[3])
    assert len(datasets.MNIST(tmp_path, train=False)) == 2
    assert ds.class_to_idx["7 - seven"] == 7
    assert repr(ds) == f"Dataset MNIST\n    Number of datapoints: 5\n    Root location: {tmp_path}\n    Split: Train"
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda y: y + 100,
                        download=True)      # files present: download=True is fine
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and y == int(labels[0]) + 100
    np.testing.assert_allclose(x.numpy()[0], images[0] / 255, atol=1e-7)


def test_fashion_mnist_gzipped_and_dataloader(tmp_path):
    images, labels = _mnist_root(tmp_path, "FashionMNIST", n=6, gz=True)
    ds = datasets.FashionMNIST(tmp_path, transform=transforms.ToTensor())
    assert ds.classes[9] == "Ankle boot" and len(ds) == 6
    batches = list(DataLoader(ds, batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 1, 28, 28), (2, 1, 28, 28)]
    assert batches[0][1].tolist() == labels[:4].tolist()
    np.testing.assert_allclose(batches[1][0].numpy()[1, 0], images[5] / 255, atol=1e-7)


def test_missing_files_and_download_errors(tmp_path):
    with pytest.raises(RuntimeError, match="downloading is not available in ember"):
        datasets.MNIST(tmp_path, download=True)
    with pytest.raises(RuntimeError, match="dataset not found in .*MNIST.raw"):
        datasets.MNIST(tmp_path)
    with pytest.raises(RuntimeError, match="CIFAR10: downloading is not available"):
        datasets.CIFAR10(tmp_path, download=True)
    bad = tmp_path / "MNIST" / "raw"
    bad.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (bad / name).write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an idx file"):
        datasets.MNIST(tmp_path)


def _cifar_root(tmp_path, folder, train_files, test_files, meta, meta_key, label_key, names):
    base = tmp_path / folder
    base.mkdir()
    rng = np.random.RandomState(1)
    all_data, all_labels = [], []
    for name in train_files + test_files:
        data = rng.randint(0, 256, (3, 3072)).astype(np.uint8)
        labels = rng.randint(0, len(names), 3).tolist()
        with open(base / name, "wb") as f:
            pickle.dump({"batch_label": name, label_key: labels, "data": data, "filenames": ["a", "b", "c"]}, f,
                        protocol=2)
        all_data.append(data)
        all_labels.append(labels)
    with open(base / meta, "wb") as f:
        pickle.dump({meta_key: names, "num_cases_per_batch": 3}, f, protocol=2)
    return all_data, all_labels


def test_cifar10_reads_pickled_batches(tmp_path):
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    train = [f"data_batch_{i}" for i in range(1, 6)]
    data, labels = _cifar_root(tmp_path, "cifar-10-batches-py", train, ["test_batch"], "batches.meta",
                               "label_names", "labels", names)
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.classes == names and ds.class_to_idx["cat"] == 3
    assert ds.data.shape == (15, 32, 32, 3)
    assert ds.targets == [t for batch in labels[:5] for t in batch]
    img, target = ds[4]                         # second image of data_batch_2
    assert img.mode == "RGB" and img.size == (32, 32) and target == labels[1][1]
    np.testing.assert_array_equal(np.asarray(img), data[1][1].reshape(3, 32, 32).transpose(1, 2, 0))
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    x, _ = test[2]
    np.testing.assert_allclose(x.numpy(), data[5][2].reshape(3, 32, 32) / 255, atol=1e-7)


def test_cifar100_and_unsafe_pickle_rejected(tmp_path):
    names = [f"c{i}" for i in range(100)]
    _data, labels = _cifar_root(tmp_path, "cifar-100-python", ["train"], ["test"], "meta", "fine_label_names",
                               "fine_labels", names)
    ds = datasets.CIFAR100(tmp_path)
    assert len(ds) == 3 and ds.targets == labels[0] and ds.classes[42] == "c42"
    with open(tmp_path / "cifar-100-python" / "test", "wb") as f:
        pickle.dump({"data": Image.new("L", (1, 1))}, f)        # a pickle that would build arbitrary objects
    with pytest.raises(pickle.UnpicklingError, match="may not reference PIL"):
        datasets.CIFAR100(tmp_path, train=False)


def _image_tree(tmp_path):
    rng = np.random.RandomState(2)
    files = {"cat": ["b.png", "a.png"], "dog": ["c.png"], "empty_but_text": ["notes.txt"]}
    for cls, names in files.items():
        (tmp_path / cls).mkdir()
        for name in names:
            if name.endswith(".png"):
                Image.fromarray(rng.randint(0, 256, (4, 6, 3)).astype(np.uint8)).save(tmp_path / cls / name)
            else:
                (tmp_path / cls / name).write_text("x")
    (tmp_path / "dog" / "sub").mkdir()
    Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / "dog" / "sub" / "d.PNG")


def test_image_folder(tmp_path):
    _image_tree(tmp_path)
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty_but_text"):
        datasets.ImageFolder(tmp_path)
    ds = datasets.ImageFolder(tmp_path, allow_empty=True, transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog", "empty_but_text"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1, "empty_but_text": 2}
    rel = [(p.replace(str(tmp_path) + "/", ""), t) for p, t in ds.samples]
    assert rel == [("cat/a.png", 0), ("cat/b.png", 0), ("dog/c.png", 1), ("dog/sub/d.PNG", 1)]
    assert ds.targets == [0, 0, 1, 1] and ds.imgs is ds.samples
    x, y = ds[3]
    assert tuple(x.shape) == (3, 4, 6) and y == 1 and float(x.sum()) == 0.0          # L image converted to RGB
    raw = np.asarray(Image.open(tmp_path / "cat" / "a.png"))
    np.testing.assert_allclose(ds[0][0].numpy(), raw.transpose(2, 0, 1) / 255, atol=1e-7)
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(batch[0].shape) == (4, 3, 4, 6) and batch[1].tolist() == [0, 0, 1, 1]


def test_dataset_folder_custom_loader_and_validation(tmp_path):
    _image_tree(tmp_path)
    ds = datasets.DatasetFolder(tmp_path, loader=lambda p: p.rsplit("/", 1)[-1], extensions=(".txt",),
                                allow_empty=True)
    assert ds.samples[0][1] == 2 and ds[0] == ("notes.txt", 2)
    ds = datasets.DatasetFolder(tmp_path, loader=len, is_valid_file=lambda p: p.endswith("c.png"),
                                allow_empty=True)
    assert len(ds) == 1 and ds[0][1] == 1
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        datasets.DatasetFolder(tmp_path, loader=len)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path / "cat")


def test_fake_data_is_deterministic_per_index():
    ds = datasets.FakeData(size=4, image_size=(3, 8, 10), num_classes=3, transform=transforms.ToTensor())
    a, ya = ds[1]
    b, yb = ds[1]
    assert tuple(a.shape) == (3, 8, 10) and np.array_equal(a.numpy(), b.numpy()) and ya == yb and 0 <= ya < 3
    assert not np.array_equal(ds[2][0].numpy(), a.numpy())
    assert not np.array_equal(datasets.FakeData(4, (3, 8, 10), random_offset=1, transform=transforms.ToTensor())[1][0]
                              .numpy(), a.numpy())
    with pytest.raises(IndexError):
        ds[4]
    assert "Transform: Compose" not in repr(ds) and "Transform: ToTensor()" in repr(ds)


# ---- vision.utils --------------------------------------------------------------------------------
def test_make_grid_layout_and_normalize():
    imgs = ember.stack([ember.full((3, 2, 3), float(k)) for k in range(5)])
    grid = utils.make_grid(imgs, nrow=2, padding=1, pad_value=-1.0).numpy()
    assert grid.shape == (3, 1 + 3 * 3, 1 + 2 * 4)
    for k in range(5):
        r, c = divmod(k, 2)
        assert (grid[:, 1 + r * 3:3 + r * 3, 1 + c * 4:4 + c * 4] == k).all()
    assert (grid[:, 7:9, 5:8] == -1).all() and (grid[:, 0] == -1).all()        # empty sixth cell, padding
    norm = utils.make_grid(imgs, normalize=True, padding=0).numpy()
    assert norm.min() == 0.0 and norm.max() == 1.0
    each = utils.make_grid(imgs + ember.rand(5, 3, 2, 3), normalize=True, scale_each=True, padding=0).numpy()
    assert np.isclose(each[:, :, :3].max(), 1.0) and np.isclose(each[:, :, 3:6].min(), 0.0)
    single = utils.make_grid(ember.rand(1, 4, 4))
    assert tuple(single.shape) == (3, 4, 4)                     # one grey image -> RGB, no padding
    assert tuple(utils.make_grid([ember.rand(3, 4, 4)] * 3, padding=0).shape) == (3, 4, 12)


def test_save_image_writes_png(tmp_path):
    x = ember.rand(2, 3, 4, 5)
    utils.save_image(x, tmp_path / "grid.png", nrow=2, padding=0)
    saved = np.asarray(Image.open(tmp_path / "grid.png"))
    expected = np.clip(np.concatenate([x.numpy()[0], x.numpy()[1]], axis=2) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(saved, expected.transpose(1, 2, 0))


def test_torchvision_script_runs_unchanged_under_ember_run(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import torch\n"
        "import torchvision\n"
        "import torchvision.transforms as T\n"
        "from torchvision import datasets, models\n"
        "from torchvision.utils import make_grid\n"
        "tf = T.Compose([T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)])\n"
        "ds = datasets.FakeData(4, (3, 32, 32), transform=tf)\n"
        "x = torch.stack([ds[i][0] for i in range(4)])\n"
        "net = models.squeezenet1_1(num_classes=5).eval()\n"
        "with torch.no_grad():\n"
        "    print(tuple(net(x).shape), tuple(make_grid(x, nrow=2).shape), type(x).__module__)\n")
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(4, 5) (3, 70, 70) ember"

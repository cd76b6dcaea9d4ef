# Seed 003, "PyTorch 深度学习实战" reading notes: the torchvision snippets (pretrained networks,
# inference, CIFAR-10 with transforms), stitched in order. Changes: pretrained=True becomes
# pretrained=False and the torch.hub.load snippet is left out (both need the network); the image,
# the ImageNet label file and CIFAR-10's python batches are made locally with random pixels.
import os
import pickle

import numpy as np
from PIL import Image

Image.fromarray(np.random.RandomState(0).randint(0, 256, (300, 400, 3)).astype(np.uint8)).save('bobby.jpg')
with open('imagenet_classes.txt', 'w') as f:
    f.write('\n'.join('%d, class %d' % (i, i) for i in range(1000)))
data_path = '../data-unversioned/p1ch7/'
os.makedirs(os.path.join(data_path, 'cifar-10-batches-py'), exist_ok=True)
for name, n in [('data_batch_%d' % i, 4) for i in range(1, 6)] + [('test_batch', 4)]:
    rng = np.random.RandomState(len(name) + n)
    with open(os.path.join(data_path, 'cifar-10-batches-py', name), 'wb') as f:
        pickle.dump({'data': rng.randint(0, 256, (n, 3072)).astype(np.uint8),
                     'labels': rng.randint(0, 10, n).tolist()}, f)
with open(os.path.join(data_path, 'cifar-10-batches-py', 'batches.meta'), 'wb') as f:
    pickle.dump({'label_names': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                                 'ship', 'truck']}, f)

from torchvision import models
alexnet = models.AlexNet()
print(alexnet)

resnet = models.resnet101(pretrained=False)
print(str(resnet).splitlines()[:3], len(str(resnet).splitlines()))

from torchvision import transforms
preprocess = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(
        mean=[0.485, 0.456, 0.406],
        std=[0.229, 0.224, 0.225]
    )])
img = Image.open("bobby.jpg")
img_t = preprocess(img)
print(img_t.shape, img_t.dtype)

import torch
batch_t = torch.unsqueeze(img_t, 0)
resnet.eval()
out = resnet(batch_t)
print(out.shape, out.requires_grad)
with open('imagenet_classes.txt') as f:
    labels = [line.strip() for line in f.readlines()]
_, index = torch.max(out, 1)
percentage = torch.nn.functional.softmax(out, dim=1)[0] * 100
print(labels[index[0]] in labels, percentage.shape, index.dtype)
_, indices = torch.sort(out, descending=True)
print(len([(labels[idx], percentage[idx].item()) for idx in indices[0][:5]]))

from torchvision import datasets
cifar10 = datasets.CIFAR10(data_path, train=True, download=False)
cifar10_val = datasets.CIFAR10(data_path, train=False, download=False)
print(cifar10)
print(len(cifar10), len(cifar10_val), type(cifar10).__mro__[-2].__name__)
img, label = cifar10[3]
print(type(img).__name__, img.size, img.mode, type(label).__name__, cifar10.classes[label] in cifar10.classes)

tensor_cifar10 = datasets.CIFAR10(
    data_path, train=True, download=False,
    transform=transforms.ToTensor())
img_t, _ = tensor_cifar10[3]
print(img_t.shape, img_t.dtype, img_t.min() >= 0, img_t.max() <= 1)
imgs = torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3)
print(imgs.shape, imgs.view(3, -1).mean(dim=1).shape)

transformed_ciifar10 = datasets.CIFAR10(
    data_path, train=True, download=False,
    transform=transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.4915, 0.4823, 0.4468),
                             (0.2470, 0.2435, 0.2616))
    ]))
print(transformed_ciifar10)
print(transformed_ciifar10[0][0].shape)

# Seed 004, section 4.4 (a two-hidden-layer MLP on MNIST) and 5.2 (ImageFolder, transforms), stitched
# in order. Changes: MNIST is not downloaded but written in its idx format from sklearn's 8x8 digits
# (upscaled to 28x28: 640 train / 320 test images), 3 epochs instead of 20, matplotlib plotting dropped,
# and ImageFolder reads a few random images written to ./data.
import os

import numpy as np


def _write_mnist(root):
    """Local stand-in for download=True: MNIST's raw idx files made from sklearn's digits."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = np.pad(np.kron(digits.images, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2))) * (255 / 16)
    images, labels = images.astype(np.uint8), digits.target.astype(np.uint8)
    raw = os.path.join(root, 'MNIST', 'raw')
    os.makedirs(raw, exist_ok=True)
    for prefix, sl in (('train', slice(0, 640)), ('t10k', slice(640, 960))):
        with open(os.path.join(raw, prefix + '-images-idx3-ubyte'), 'wb') as f:
            f.write(bytes([0, 0, 8, 3]) + np.array([len(images[sl]), 28, 28], '>i4').tobytes())
            f.write(images[sl].tobytes())
        with open(os.path.join(raw, prefix + '-labels-idx1-ubyte'), 'wb') as f:
            f.write(bytes([0, 0, 8, 1]) + np.array([len(labels[sl])], '>i4').tobytes())
            f.write(labels[sl].tobytes())


_write_mnist('./data')

import numpy as np
import torch
# 导入 pytorch 内置的 mnist 数据
from torchvision.datasets import mnist
# 导入预处理模块
import torchvision.transforms as transforms
from torch.utils.data import DataLoader
# 导入nn及优化器
import torch.nn.functional as F
import torch.optim as optim
from torch import nn

# 定义一些超参数
train_batch_size = 64
test_batch_size = 128
learning_rate = 0.01
num_epoches = 3
lr = 0.01
momentum = 0.5

# 定义预处理函数，这些预处理依次放在Compose函数中。
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
# 下载数据，并对数据进行预处理
train_dataset = mnist.MNIST('./data', train=True, transform=transform, download=False)
test_dataset = mnist.MNIST('./data', train=False, transform=transform)
# dataloader是一个可迭代对象，可以使用迭代器一样使用。
train_loader = DataLoader(train_dataset, batch_size=train_batch_size, shuffle=True)
test_loader = DataLoader(test_dataset, batch_size=test_batch_size, shuffle=False)

examples = enumerate(test_loader)
batch_idx, (example_data, example_targets) = next(examples)
print(batch_idx, example_data.shape, example_targets.shape, example_targets[:10])
print(example_data.min().item(), example_data.max().item())
for i in range(6):
    print("Ground Truth: {}".format(example_targets[i]), example_data[i][0].shape)


class Net(nn.Module):
    """
    使用sequential构建网络，Sequential()函数的功能是将网络的层组合到一起
    """
    def __init__(self, in_dim, n_hidden_1, n_hidden_2, out_dim):
        super(Net, self).__init__()
        self.layer1 = nn.Sequential(nn.Linear(in_dim, n_hidden_1), nn.BatchNorm1d(n_hidden_1))
        self.layer2 = nn.Sequential(nn.Linear(n_hidden_1, n_hidden_2), nn.BatchNorm1d(n_hidden_2))
        self.layer3 = nn.Sequential(nn.Linear(n_hidden_2, out_dim))

    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        x = self.layer3(x)
        return x


# 检测是否有可用的GPU，有则使用，否则使用CPU
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
# 实例化网络
model = Net(28 * 28, 300, 100, 10)
model.to(device)
print(model)

# 定义损失函数和优化器
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

# 开始训练
losses = []
acces = []
eval_losses = []
eval_acces = []

for epoch in range(num_epoches):
    train_loss = 0
    train_acc = 0
    model.train()
    # 动态修改参数学习率
    if epoch % 5 == 0:
        optimizer.param_groups[0]['lr'] *= 0.1
    for img, label in train_loader:
        img = img.to(device)
        label = label.to(device)
        img = img.view(img.size(0), -1)
        # 前向传播
        out = model(img)
        loss = criterion(out, label)
        # 反向传播
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # 记录误差
        train_loss += loss.item()
        # 计算分类的准确率
        _, pred = out.max(1)
        num_correct = (pred == label).sum().item()
        acc = num_correct / img.shape[0]
        train_acc += acc

    losses.append(train_loss / len(train_loader))
    acces.append(train_acc / len(train_loader))
    # 在测试集上检验效果
    eval_loss = 0
    eval_acc = 0
    # 将模型改为预测模式
    model.eval()
    for img, label in test_loader:
        img = img.to(device)
        label = label.to(device)
        img = img.view(img.size(0), -1)
        out = model(img)
        loss = criterion(out, label)
        # 记录误差
        eval_loss += loss.item()
        # 记录准确率
        _, pred = out.max(1)
        num_correct = (pred == label).sum().item()
        acc = num_correct / img.shape[0]
        eval_acc += acc

    eval_losses.append(eval_loss / len(test_loader))
    eval_acces.append(eval_acc / len(test_loader))
    print('~ epoch: {}, Train Loss: {:.4f}, Train Acc: {:.4f}, Test Loss: {:.4f}, Test Acc: {:.4f}'
          .format(epoch, train_loss / len(train_loader), train_acc / len(train_loader),
                  eval_loss / len(test_loader), eval_acc / len(test_loader)))
print("train loss decreased:", losses[-1] < losses[0])

# 5.2 ImageFolder and transforms
from PIL import Image
from torchvision import datasets
for person in ('zhangliu', 'wuhua'):
    os.makedirs(os.path.join('data', 'faces', person), exist_ok=True)
    for k in (1, 2):
        Image.fromarray(np.random.RandomState(k).randint(0, 256, (40, 30, 3)).astype(np.uint8)).save(
            os.path.join('data', 'faces', person, '%03d.jpg' % k))
path = 'data/faces'
loader = datasets.ImageFolder(path, transform=None)
print(loader.classes, loader.class_to_idx, [(os.path.basename(p), c) for p, c in loader.imgs])
print(type(loader[0][0]).__name__, loader[0][1])

transform = transforms.Compose([
    transforms.CenterCrop(10),
    transforms.RandomCrop(20, padding=0, pad_if_needed=True),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
])
print(transform)
try:
    transforms.RandomCrop(20, padding=0)(transforms.CenterCrop(10)(Image.open('data/faces/wuhua/001.jpg')))
except ValueError as e:
    print(e)
loader = datasets.ImageFolder(path, transform=transform)
print(loader[0][0].shape)
pil = transforms.ToPILImage()(loader[0][0] * 0.5 + 0.5)
print(type(pil).__name__, pil.size, pil.mode)
from torchvision import utils
grid = utils.make_grid(torch.stack([loader[i][0] for i in range(4)]), nrow=2)
print(grid.shape)
utils.save_image(grid, 'grid.png')
print(Image.open('grid.png').size)

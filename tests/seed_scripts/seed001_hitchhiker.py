# Seed 001, "手把手教你学会深度学习框架 — PyTorch" (The Hitchhiker's Guide to PyTorch, after the official
# MNIST example). The seed text kept only the hashes of its code blocks; these are the guide's blocks in
# order, stitched as a reader would. Changes: MNIST is not downloaded but written in its on-disk idx
# format from sklearn's 8x8 digits (upscaled to 28x28, 320 train / 160 test images), one epoch,
# num_workers=2, and the data path is ./datasets.
import argparse
import os

import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


def _write_mnist(root):
    """Local stand-in for download=True: MNIST's raw idx files made from sklearn's digits."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = np.kron(digits.images, np.ones((3, 3)))            # 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2))) * (255 / 16)
    images, labels = images.astype(np.uint8), digits.target.astype(np.uint8)
    raw = os.path.join(root, 'MNIST', 'raw')
    os.makedirs(raw, exist_ok=True)
    for prefix, sl in (('train', slice(0, 320)), ('t10k', slice(320, 480))):
        with open(os.path.join(raw, prefix + '-images-idx3-ubyte'), 'wb') as f:
            f.write(bytes([0, 0, 8, 3]) + np.array([len(images[sl]), 28, 28], '>i4').tobytes())
            f.write(images[sl].tobytes())
        with open(os.path.join(raw, prefix + '-labels-idx1-ubyte'), 'wb') as f:
            f.write(bytes([0, 0, 8, 1]) + np.array([len(labels[sl])], '>i4').tobytes())
            f.write(labels[sl].tobytes())


parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                    help='input batch size for training (default: 64)')
parser.add_argument('--epochs', type=int, default=1, metavar='N',
                    help='number of epochs to train (default: 1)')
parser.add_argument('--lr', type=float, default=0.01, metavar='LR',
                    help='learning rate (default: 0.01)')
parser.add_argument('--momentum', type=float, default=0.5, metavar='M',
                    help='SGD momentum (default: 0.5)')
parser.add_argument('--no-cuda', action='store_true', default=False,
                    help='disables CUDA training')
parser.add_argument('--seed', type=int, default=1, metavar='S',
                    help='random seed (default: 1)')
parser.add_argument('--save-interval', type=int, default=10, metavar='N',
                    help='how many batches to wait before checkpointing')
parser.add_argument('--resume', action='store_true', default=False,
                    help='resume training from checkpoint')
args = parser.parse_args()

use_cuda = torch.cuda.is_available() and not args.no_cuda
device = torch.device('cuda' if use_cuda else 'cpu')
torch.manual_seed(args.seed)
if use_cuda:
    torch.cuda.manual_seed(args.seed)
print(device, use_cuda)

data_path = os.path.join('.', 'datasets')
_write_mnist(data_path)
train_data = datasets.MNIST(data_path, train=True, download=False,
                            transform=transforms.Compose([
                                transforms.ToTensor(),
                                transforms.Normalize((0.1307,), (0.3081,))]))
test_data = datasets.MNIST(data_path, train=False, transform=transforms.Compose([
                               transforms.ToTensor(),
                               transforms.Normalize((0.1307,), (0.3081,))]))
print(len(train_data), len(test_data))
print(train_data)

train_loader = DataLoader(train_data, batch_size=args.batch_size,
                          shuffle=True, num_workers=2, pin_memory=True)
test_loader = DataLoader(test_data, batch_size=args.batch_size,
                         num_workers=2, pin_memory=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


model = Net().to(device)
optimiser = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
print(model)

if args.resume:
    model.load_state_dict(torch.load('model.pth'))
    optimiser.load_state_dict(torch.load('optimiser.pth'))


# the forward pass can use control flow and take several arguments
class Net2(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, y, debug=False):
        h = self.fc(x)
        if debug:
            print(h.shape)
        if y.sum() > 0:
            h = h + y
        return h


print(Net2()(torch.zeros(3, 4), torch.ones(3, 2), debug=True).shape)

model.train()
train_losses = []
for epoch in range(args.epochs):
    for i, (data, target) in enumerate(train_loader):
        data = data.to(device=device, non_blocking=True)
        target = target.to(device=device, non_blocking=True)
        optimiser.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        train_losses.append(loss.item())
        optimiser.step()

        if i % args.save_interval == 0:
            print(i, type(loss.item()).__name__)
            torch.save(model.state_dict(), 'model.pth')
            torch.save(optimiser.state_dict(), 'optimiser.pth')
            torch.save(train_losses, 'train_losses.pth')

model.eval()
test_loss, correct = 0, 0
with torch.no_grad():
    for data, target in test_loader:
        data = data.to(device=device, non_blocking=True)
        target = target.to(device=device, non_blocking=True)
        output = model(data)
        test_loss += F.nll_loss(output, target, reduction='sum').item()
        pred = output.argmax(1, keepdim=True)
        correct += pred.eq(target.view_as(pred)).sum().item()

test_loss /= len(test_data)
acc = correct / len(test_data)
print(type(acc).__name__, type(test_loss).__name__, 0 <= acc <= 1)

# resume from the checkpoint
model.load_state_dict(torch.load('model.pth'))
optimiser.load_state_dict(torch.load('optimiser.pth'))
print(len(torch.load('train_losses.pth')), sorted(optimiser.state_dict()['param_groups'][0]))
for param in model.conv1.parameters():
    param.requires_grad = False
print([name for name, p in model.named_parameters() if p.requires_grad])

# Seed 004, PyTorch basics (Numpy 与 Tensor, autograd linear regression, optimizers, utils.data).
# The seed keeps only the first line of each code block ("1 | import torch |"); the blocks are those of
# the book it quotes (吴茂贵《Python深度学习：基于PyTorch》ch. 2), stitched in order. Changes:
# matplotlib plotting is dropped (not installed), notebook expressions are printed.
# Lines starting with "~" print values that depend on the random stream (differs from torch's).
import numpy as np
import torch

# 2.1 creating tensors
print(torch.Tensor([1, 2, 3, 4, 5, 6]))
print(torch.Tensor(2, 3).shape)
t = torch.Tensor([[1, 2, 3], [4, 5, 6]])
print(t.size(), t.shape)
print(torch.Tensor(t.size()).shape)
# 生成一个单位矩阵
print(torch.eye(2, 2))
print(torch.zeros(2, 3))
print(torch.linspace(1, 10, 4))
print("~", torch.rand(2, 3))
print("~", torch.randn(2, 3))
print(torch.zeros_like(torch.rand(2, 3)))

# 2.2 shapes
# 生成一个形状为2x3的矩阵
x = torch.randn(2, 3)
print(x.size(), x.dim())
print(x.view(3, 2).shape)
y = x.view(-1)
print(y.shape)
z = torch.unsqueeze(y, 0)
print(z.size(), z.numel())
a = torch.arange(6.).view(2, 3)
print(a.t().is_contiguous(), a.t().contiguous().view(6), a.t().reshape(6))
try:
    a.t().view(6)
except RuntimeError as e:
    print("view of a transposed tensor:", type(e).__name__)

# 2.3 indexing
torch.manual_seed(100)
x = torch.randn(2, 3)
x = torch.tensor([[0.3607, -0.2859, -0.3938], [0.2429, -1.3833, -2.3134]])
print(x[0, :])
print(x[:, -1])
mask = x > 0
print(mask)
print(torch.masked_select(x, mask))
print(torch.nonzero(mask))
index = torch.LongTensor([[0, 1, 1]])
print(torch.gather(x, 0, index))
index = torch.LongTensor([[0, 1, 1], [1, 1, 1]])
a = torch.gather(x, 1, index)
print(a)
z = torch.zeros(2, 3)
print(z.scatter_(1, index, a))

# 2.4 broadcasting
A = np.arange(0, 40, 10).reshape(4, 1)
B = np.arange(0, 3)
A1 = torch.from_numpy(A)
B1 = torch.from_numpy(B)
C = A1 + B1
print(C)
B2 = B1.unsqueeze(0)
A2 = A1.expand(4, 3)
B3 = B2.expand(4, 3)
C1 = A2 + B3
print(C1, torch.equal(C, C1))

# 2.5 element-wise
t = torch.randn(1, 3)
t1 = torch.randn(3, 1)
t2 = torch.randn(1, 3)
t = torch.tensor([[-0.5, 0.25, 1.5]])
t1 = torch.tensor([[1.0], [2.0], [-3.0]])
t2 = torch.tensor([[2.0, -4.0, 0.5]])
print(torch.addcdiv(t, 0.1, t1, t2))
print(torch.addcdiv(t, t1, t2, value=0.1))
print(torch.sigmoid(t))
print(torch.clamp(t, 0, 1))
print(t.add_(2))
print(t.abs_(), t)

# 2.6 reductions
a = torch.linspace(0, 10, 6)
a = a.view((2, 3))
b = a.sum(dim=0)
print(b, b.shape)
b = a.sum(dim=0, keepdim=True)
print(b, b.shape)

# 2.7 comparisons
x = torch.linspace(0, 10, 6).view(2, 3)
print(torch.max(x))
print(torch.max(x, dim=0))
print(torch.topk(x, 1, dim=0))
print(torch.eq(x, x.t().reshape(2, 3)), torch.equal(x, x.clone()), torch.ge(x, 4), torch.gt(x, 4))

# 2.8 matrices
a = torch.tensor([2, 3])
b = torch.tensor([3, 4])
print(torch.dot(a, b))
x = torch.randint(10, (2, 3))
y = torch.randint(6, (3, 4))
print(torch.mm(x, y).shape, torch.mm(x, y).dtype)
x = torch.randint(10, (2, 2, 3))
y = torch.randint(6, (2, 3, 4))
print(torch.bmm(x, y).shape)
x = torch.arange(6).view(2, 3)
y = torch.arange(12).view(3, 4)
print(torch.mm(x, y), torch.bmm(x.unsqueeze(0), y.unsqueeze(0)))
print(x.t(), x.t().is_contiguous())

# 3. linear regression with tensors and autograd
import torch as t

t.manual_seed(100)
dtype = t.float
x = t.unsqueeze(torch.linspace(-1, 1, 100), dim=1)
y = 3 * x.pow(2) + 2 + 0.2 * torch.rand(x.size())
print(x.shape, y.shape)
# 随机初始化参数，参数w、b为需要学习的，故需requires_grad=True
w = t.randn(1, 1, dtype=dtype, requires_grad=True)
b = t.zeros(1, 1, dtype=dtype, requires_grad=True)
lr = 0.001  # 学习率
for ii in range(800):
    y_pred = x.pow(2).mm(w) + b
    loss = 0.5 * (y_pred - y) ** 2
    loss = loss.sum()
    loss.backward()
    with t.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
print("~", w, b)
print("fit", round(w.item()), round(b.item()), y_pred.detach().numpy().shape)

# 4.3 optimizers
import torch.nn as nn
import torch.optim as optim

model = nn.Sequential(nn.Linear(4, 3))
criterion = nn.CrossEntropyLoss()
img, label = torch.randn(8, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
out = model(img)
loss = criterion(out, label)
optimizer.zero_grad()
loss.backward()
optimizer.step()
print(len(optimizer.param_groups), len(optimizer.param_groups[0]))
print(sorted(optimizer.param_groups[0]))
num_epoches = 12
for epoch in range(num_epoches):
    # 动态修改参数学习率
    if epoch % 5 == 0:
        optimizer.param_groups[0]['lr'] *= 0.1
        print(optimizer.param_groups[0]['lr'])

# 5.1 utils.data
import torch
from torch.utils import data
import numpy as np


class TestDataset(data.Dataset):  # 继承Dataset
    def __init__(self):
        self.Data = np.asarray([[1, 2], [3, 4], [2, 1], [3, 4], [4, 5]])  # 一些由2维向量表示的数据集
        self.Label = np.asarray([0, 1, 0, 1, 2])  # 这是数据集对应的标签

    def __getitem__(self, index):
        # 把numpy转换为Tensor
        txt = torch.from_numpy(self.Data[index])
        label = torch.tensor(self.Label[index])
        return txt, label

    def __len__(self):
        return len(self.Data)


Test = TestDataset()
print(Test[2])  # 相当于调用__getitem__(2)
print(Test.__len__())

test_loader = data.DataLoader(Test, batch_size=2, shuffle=False, num_workers=2)
for i, traindata in enumerate(test_loader):
    print('i:', i)
    Data, Label = traindata
    print('data:', Data)
    print('Label:', Label)

dataiter = iter(test_loader)
imgs, labels = next(dataiter)
print(imgs)
print(data.random_split(Test, [3, 2])[0].__class__.__name__, [len(s) for s in data.random_split(Test, [3, 2])])

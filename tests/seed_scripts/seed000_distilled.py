# Seed 000, "PyTorch 教程精华" (PyTorch tutorial distilled). The seed text lost the article's code
# (it was in embedded gists); these are the article's snippets in order, stitched as a reader would.
# Changes: GPU-only lines are skipped or shown failing (no CUDA), torchvision's pretrained resnet18 is built with
# random weights, pandas' DataFrame is replaced by a list of rows, images are written to ./images.
# Printed values are either deterministic or shapes/dtypes/reprs, so torch and ember agree.
import math
import os
from collections import OrderedDict

import numpy as np
import torch

# --- PyTorch as NumPy
numpy_tensor = np.random.randn(10, 20)
pytorch_tensor = torch.Tensor(numpy_tensor)
print(pytorch_tensor.dtype, pytorch_tensor.shape)
pytorch_tensor = torch.from_numpy(numpy_tensor)
print(pytorch_tensor.dtype, pytorch_tensor.shape)
print(type(pytorch_tensor.numpy()).__name__, np.array_equal(pytorch_tensor.numpy(), numpy_tensor))
cpu_tensor = pytorch_tensor.cpu()

x = torch.randn(10, 20)
y = torch.ones(20, 5)
res = x @ y
print(res.shape)  # torch.Size([10, 5])

# --- from tensors to variables
from torch.autograd import Variable

x_tensor = torch.randn(10, 20)
y_tensor = torch.randn(10, 5)
x = Variable(x_tensor, requires_grad=False)
y = Variable(y_tensor, requires_grad=False)
w = Variable(torch.randn(20, 5), requires_grad=True)
print(type(w.data))
print(w.grad)  # None
loss = torch.mean((y - x @ w) ** 2)
loss.backward()
print(w.grad.shape, w.grad.dtype)
w.data -= 0.01 * w.grad.data
w.grad.data.zero_()
print(w.grad.abs().sum().item())

# --- optimizers
import torch.nn.functional as F

x = Variable(torch.randn(10, 20), requires_grad=False)
y = Variable(torch.randn(10, 3), requires_grad=False)
w1 = Variable(torch.randn(20, 5), requires_grad=True)
w2 = Variable(torch.randn(5, 3), requires_grad=True)
learning_rate = 0.1
loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.SGD([w1, w2], lr=learning_rate)
for step in range(5):
    pred = F.sigmoid(x @ w1)
    pred = F.sigmoid(pred @ w2)
    loss = loss_fn(pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(loss.shape, loss.requires_grad, loss.grad_fn.name())

# --- dynamic graph: the while loop
first_counter = torch.Tensor([0])
second_counter = torch.Tensor([10])
some_value = torch.Tensor(15)
while (first_counter < second_counter)[0]:
    first_counter += 2
    second_counter += 1
print(first_counter, second_counter, some_value.shape)

# --- model definition
import torch.nn as nn

x = Variable(torch.randn(10, 20), requires_grad=False)
y = Variable(torch.randn(10, 3), requires_grad=False)
model = torch.nn.Sequential(
    torch.nn.Linear(20, 5),
    torch.nn.ReLU(),
    torch.nn.Linear(5, 3)
)
loss_fn = torch.nn.MSELoss(size_average=False)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
first = None
for t in range(500):
    y_pred = model(x)
    loss = loss_fn(y_pred, y)
    first = loss.item() if first is None else first
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(model)
print("loss decreased", loss.item() < first)


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 20, 5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        return F.relu(self.conv2(x))


model = MyModel()
print(model)
print(model(torch.randn(2, 1, 16, 16)).shape)


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.block1 = nn.Sequential(
            nn.Conv2d(1, 20, 5),
            nn.ReLU(),
            nn.Conv2d(20, 64, 5),
            nn.ReLU()
        )
        self.block2 = nn.Sequential(
            nn.Conv2d(64, 20, 5),
            nn.ReLU()
        )

    def forward(self, x):
        x = self.block1(x)
        x = self.block2(x)
        return x


model = MyModel()
print(model)
print(model(torch.randn(2, 1, 20, 20)).shape)


# --- custom layers: XNOR-style sign with a clipped straight-through gradient
class MyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        output = torch.sign(input)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_output[input.ge(1)] = 0
        grad_output[input.le(-1)] = 0
        return grad_output


x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
y = MyFunction.apply(x)
my_func = MyFunction.apply
y = my_func(x)
y.sum().backward()
print(y, x.grad)


class MyFunctionModule(torch.nn.Module):
    def forward(self, x):
        return MyFunction.apply(x)


print(MyFunctionModule()(torch.tensor([[0.3, -0.7]])))

# --- CUDA: without a GPU the article's GPU lines fail, as they do in torch
print(torch.cuda.is_available())
dtype = torch.cuda.FloatTensor
print(dtype)
try:
    gpu_tensor = torch.randn(10, 20).type(dtype)
except (AssertionError, RuntimeError):
    print("no GPU for .type(torch.cuda.FloatTensor)")
try:
    gpu_tensor = pytorch_tensor.cuda()
except AssertionError as e:
    print("no GPU for .cuda():", str(e).startswith("Torch not compiled with CUDA enabled"))
try:
    a = torch.cuda.FloatTensor(1)
except TypeError as e:
    print(e)


class Trainer:
    def __init__(self, model, use_cuda=False, gpu_idx=0):
        self.use_cuda = use_cuda
        self.gpu_idx = gpu_idx
        self.model = self.to_gpu(model)

    def to_gpu(self, tensor):
        if self.use_cuda:
            return tensor.cuda(self.gpu_idx)
        else:
            return tensor

    def from_gpu(self, tensor):
        if self.use_cuda:
            return tensor.cpu()
        else:
            return tensor

    def train(self, inputs):
        inputs = self.to_gpu(inputs)
        outputs = self.model(inputs)
        outputs = self.from_gpu(outputs)
        return outputs


print(Trainer(nn.Linear(4, 2)).train(torch.randn(3, 4)).shape)

# --- weight initialization
w = torch.Tensor(3, 5)
torch.nn.init.normal(w)
w2 = Variable(w)
torch.nn.init.normal(w2)
w2.data.normal_()
print(w2.shape, w2.dtype)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.bias.data.zero_()


model = MyModel()
model.apply(weights_init)
print(model.bn.bias, model.fc.bias)

# --- excluding subgraphs from backward
regular_input = Variable(torch.randn(1, 8), requires_grad=False)
volatile_input = Variable(torch.randn(1, 8), volatile=True)
print(regular_input.requires_grad, volatile_input.requires_grad)

# --- training process
from torch.optim import lr_scheduler

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
scheduler = lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
for epoch in range(100):
    optimizer.step()
    scheduler.step()
print(scheduler.get_last_lr(), optimizer.param_groups[0]['lr'])
model.train(True)
print(model.training, model[1].training)
model.train(False)
print(model.training, model[1].training)
torch.manual_seed(42)
torch.cuda.manual_seed_all(42)

model = nn.Sequential(OrderedDict([
    ('conv1', nn.Conv2d(1, 20, 5)),
    ('relu1', nn.ReLU()),
    ('conv2', nn.Conv2d(20, 64, 5)),
    ('relu2', nn.ReLU())
]))
print(model)

save_path = 'model_state.pth'
torch.save(model.state_dict(), save_path)
model.load_state_dict(torch.load(save_path))
torch.save(model, 'model_whole.pth')
try:
    model = torch.load('model_whole.pth')
except Exception as e:
    print("whole-model load needs weights_only=False:", type(e).__name__)
model = torch.load('model_whole.pth', weights_only=False)
print(type(model).__name__, list(model.state_dict()))

# --- (torchvision from here on) freezing a pretrained network's layers
import torch.optim as optim
import torchvision

model = torchvision.models.resnet18(pretrained=False)
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(512, 100)
optimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)
print(sum(p.requires_grad for p in model.parameters()), len(optimizer.param_groups[0]['params']))

# --- data loading
import torchvision as tv
from PIL import Image

os.makedirs('images', exist_ok=True)
rows = []
for i in range(12):
    path = os.path.join('images', '%d.png' % i)
    Image.fromarray(np.full((70, 60, 3), i * 20, dtype=np.uint8)).save(path)
    rows.append({'class_': i % 3, 'path': path})


class _Rows:
    """The two DataFrame features the tutorial's dataset uses: .iloc[i] and .shape."""
    def __init__(self, rows):
        self.iloc, self.shape = rows, (len(rows), 2)


class ImagesDataset(torch.utils.data.Dataset):
    def __init__(self, df, transform=None,
                 loader=tv.datasets.folder.default_loader):
        self.df = df
        self.transform = transform
        self.loader = loader

    def __getitem__(self, index):
        row = self.df.iloc[index]
        target = row['class_']
        path = row['path']
        img = self.loader(path)
        if self.transform is not None:
            img = self.transform(img)
        return img, target

    def __len__(self):
        n, _ = self.df.shape
        return n


data_transforms = tv.transforms.Compose([
    tv.transforms.RandomCrop((64, 64), padding=4),
    tv.transforms.RandomHorizontalFlip(),
    tv.transforms.ToTensor(),
])
train_df = _Rows(rows)
train_dataset = ImagesDataset(df=train_df, transform=data_transforms)
train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=10, shuffle=True, num_workers=2)
for img, target in train_loader:
    print(img.shape, img.dtype, target.shape, target.dtype)

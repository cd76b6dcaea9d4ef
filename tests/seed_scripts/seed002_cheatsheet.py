# Seed 002, "初学者和 Udacity 深度学习纳米学位的 PyTorch 备忘单" (PyTorch cheat sheet, with snippets of the
# Kaggle kernel "malaria detection with PyTorch"). Its code blocks in order, stitched as a reader would.
# Changes: pandas/matplotlib imports dropped (not used by the snippets, not installed); the malaria
# images are a few random PNGs written to ./input; "... # omitted" parts are filled in minimally;
# pretrained=True becomes pretrained=False (no network); the two models the training loop runs see
# only 2+1+1 images; the article's typographic quotes and run-together lines are repaired.
# The test suite sets SEED_QUICK=1 to skip its two slowest snippets (building VGG16, exporting AlexNet).
import os
QUICK = os.environ.get("SEED_QUICK") == "1"

import numpy as np
from PIL import Image

_root = '../input/cell_images/cell_images/'
for _i, _cls in enumerate(['Parasitized', 'Uninfected']):
    os.makedirs(os.path.join(_root, _cls), exist_ok=True)
    for _j in range(2):
        _rng = np.random.RandomState(10 * _i + _j)
        Image.fromarray(_rng.randint(0, 256, (40 + _j, 36, 3)).astype(np.uint8)).save(
            os.path.join(_root, _cls, 'C%d_%d.png' % (_i, _j)))

import torchvision

# pretrained models are at torchvision > models
model = torchvision.models.resnet152(pretrained=False)
print(type(model).__name__, sum(p.numel() for p in model.parameters()))

import torch
from torch import nn, optim
from torchvision import transforms, datasets, models
from torch.utils.data.sampler import SubsetRandomSampler

print(sorted(os.listdir("../input/cell_images/cell_images/")))

# Define your transforms for the training, validation, and testing sets
train_transforms = transforms.Compose([transforms.RandomRotation(30),
                                       transforms.RandomResizedCrop(224),
                                       transforms.RandomVerticalFlip(),
                                       transforms.ToTensor(),
                                       transforms.Normalize([0.485, 0.456, 0.406],
                                                            [0.229, 0.224, 0.225])])
test_transforms = transforms.Compose([transforms.Resize(256),
                                      transforms.CenterCrop(224),
                                      transforms.ToTensor(),
                                      transforms.Normalize([0.485, 0.456, 0.406],
                                                           [0.229, 0.224, 0.225])])
validation_transforms = transforms.Compose([transforms.Resize(256),
                                            transforms.CenterCrop(224),
                                            transforms.ToTensor(),
                                            transforms.Normalize([0.485, 0.456, 0.406],
                                                                 [0.229, 0.224, 0.225])])
print(train_transforms)
normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])  # Source 4
print(normalize)

num_workers = 0
img_dir = '../input/cell_images/cell_images/'
train_data = datasets.ImageFolder(img_dir, transform=train_transforms)
print(train_data.classes, train_data.class_to_idx, len(train_data))
# convert data to a normalized torch.FloatTensor
img, label = datasets.ImageFolder(img_dir, transform=test_transforms)[0]
print(img.shape, img.dtype, label)
# obtain training indices that will be used for validation
num_train = len(train_data)
indices = list(range(num_train))
np.random.shuffle(indices)
train_idx, valid_idx, test_idx = indices[:2], indices[2:3], indices[3:]
print(len(valid_idx), len(test_idx), len(train_idx))

# define samplers for obtaining training and validation batches
train_sampler = SubsetRandomSampler(train_idx)
valid_sampler = SubsetRandomSampler(valid_idx)
test_sampler = SubsetRandomSampler(test_idx)

# prepare data loaders (combine dataset and sampler)
train_loader = torch.utils.data.DataLoader(train_data, batch_size=64, sampler=train_sampler, num_workers=num_workers)
valid_loader = torch.utils.data.DataLoader(train_data, batch_size=32, sampler=valid_sampler, num_workers=num_workers)
test_loader = torch.utils.data.DataLoader(train_data, batch_size=20, sampler=test_sampler, num_workers=num_workers)

from collections import OrderedDict
classifier = nn.Sequential(OrderedDict([
    ('fc1', nn.Linear(2048, 1024)),
    ('relu', nn.ReLU()),
    ('dropout', nn.Dropout(0.2)),
    ('fc2', nn.Linear(1024, 512)),
    ('relu', nn.ReLU()),
    ('dropout', nn.Dropout(0.2)),
    ('fc3', nn.Linear(512, 256)),
    ('relu', nn.ReLU()),
    ('dropout', nn.Dropout(0.2)),
    ('fc4', nn.Linear(256, 102)),
    ('output', nn.LogSoftmax(dim=1))
]))
model.classifier = classifier
print(classifier)

model = models.resnet50(pretrained=False)
for param in model.parameters():
    param.requires_grad = False  # turn all gradient off
model.fc = nn.Linear(2048, 2, bias=True)
# add new fully connected layer
fc_parameters = model.fc.parameters()
for param in fc_parameters:
    param.requires_grad = True  # turning last layer gradient to true
print(model)

use_cuda = torch.cuda.is_available()
if use_cuda:
    model = model.cuda()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.fc.parameters(), lr=0.001, momentum=0.9)


def train(n_epochs, model, optimizer, criterion, use_cuda, save_path):
    """returns trained model"""
    # initialize tracker for minimum validation loss
    valid_loss_min = np.inf   # the article's np.Inf was removed in NumPy 2
    for epoch in range(1, n_epochs + 1):
        # initialize variables to monitor training and validation loss
        train_loss = 0.0
        valid_loss = 0.0
        ###################
        # train the model #
        ###################
        model.train()
        for batch_idx, (data, target) in enumerate(train_loader):
            # move to GPU
            if use_cuda:
                data, target = data.cuda(), target.cuda()
            # initialize weights to zero
            optimizer.zero_grad()
            output = model(data)
            # calculate loss
            loss = criterion(output, target)
            # back prop
            loss.backward()
            # grad
            optimizer.step()
            train_loss = train_loss + ((1 / (batch_idx + 1)) * (loss.data - train_loss))
            if batch_idx % 100 == 0:
                print('Epoch %d, Batch %d loss: %.6f' %
                      (epoch, batch_idx + 1, train_loss) != '', type(train_loss).__name__)
        ######################
        # validate the model #
        ######################
        model.eval()
        for batch_idx, (data, target) in enumerate(valid_loader):
            # move to GPU
            if use_cuda:
                data, target = data.cuda(), target.cuda()
            ## update the average validation loss
            output = model(data)
            loss = criterion(output, target)
            valid_loss = valid_loss + ((1 / (batch_idx + 1)) * (loss.data - valid_loss))
        # print training/validation statistics
        line = 'Epoch: {} \tTraining Loss: {:.6f} \tValidation Loss: {:.6f}'.format(epoch, train_loss, valid_loss)
        print(line.split('\t')[0], len(line.split('\t')))
        ## TODO: save the model if validation loss has decreased
        if valid_loss < valid_loss_min:
            torch.save(model.state_dict(), save_path)
            print('Validation loss decreased ({:.6f} --> {:.6f}).  Saving model ...'.format(
                valid_loss_min,
                valid_loss).startswith('Validation loss decreased (inf --> '))
            valid_loss_min = valid_loss
    # return trained model
    return model


model = train(1, model, optimizer, criterion, use_cuda, 'malaria_detection.pt')

import torch
import torchvision
from torchvision import datasets, transforms, models
import torch.nn.functional as F
from collections import OrderedDict
from torch import nn
from torch import optim

import torch
import numpy as np
from torchvision import datasets
import torchvision.transforms as transforms

if not QUICK:
    vgg16 = models.vgg16(pretrained=False)
    print(vgg16)

gpu_is_avail = torch.cuda.is_available()
if not gpu_is_avail:
    print('CUDA is NOT available.')
else:
    print('CUDA is available. ')
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print(device)

probs = torch.tensor([[0.1, 0.6, 0.3], [0.7, 0.2, 0.1]])
print(torch.topk(probs, 2, dim=1))
print(torch.topk(probs, 1))

import torch.onnx
import torchvision

dummy_input = torch.randn(1, 3, 224, 224)
model = torchvision.models.alexnet(pretrained=False)
if not QUICK:
    torch.onnx.export(model, dummy_input, "alexnet.onnx")
    print(os.path.getsize("alexnet.onnx") > 200_000_000)

for param in model.parameters():
    param.requires_grad = False
print(any(p.requires_grad for p in model.parameters()))

from torch.optim import lr_scheduler
optimizer = optim.SGD(model.classifier.parameters(), lr=0.1)
# define scheduler
scheduler = lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.1)
for epoch in range(7):
    optimizer.step()
    scheduler.step()
print(scheduler.get_last_lr())


def load_checkpoint(path):
    checkpoint = torch.load(path)
    model = getattr(models, checkpoint['arch'])()
    model.fc = nn.Linear(model.fc.in_features, 2)
    model.load_state_dict(checkpoint['state_dict'])
    model.class_to_idx = checkpoint['class_to_idx']
    return model


model = models.resnet18()
model.fc = nn.Linear(model.fc.in_features, 2)
torch.save({'arch': 'resnet18', 'state_dict': model.state_dict(), 'class_to_idx': train_data.class_to_idx},
           'checkpoint_resnet18.pth')
# write and then use your custom load_checkpoint function
model = load_checkpoint('checkpoint_resnet18.pth')
print(model.fc, model.class_to_idx)
# use pytorch torch.load and load_state_dict(state_dict)
checkpt = torch.load('checkpoint_resnet18.pth')
model.load_state_dict(checkpt['state_dict'])
# save locally, map the new class_to_idx, move to cpu
image_datasets = {'train': train_data}
model.class_to_idx = image_datasets['train'].class_to_idx
model.cpu()
torch.save({'arch': 'resnet18',
            'state_dict': model.state_dict(),
            'class_to_idx': model.class_to_idx},
           'classifier.pth')
print(sorted(torch.load('classifier.pth')))

model = models.resnet50()
model.fc = nn.Linear(2048, 2, bias=True)
model.load_state_dict(torch.load('malaria_detection.pt'))
print(model.fc.weight.requires_grad)


def test(model, criterion, use_cuda):
    # monitor test loss and accuracy
    test_loss = 0.
    correct = 0.
    total = 0.
    model.eval()
    for batch_idx, (data, target) in enumerate(test_loader):
        if use_cuda:
            data, target = data.cuda(), target.cuda()
        output = model(data)
        loss = criterion(output, target)
        test_loss = test_loss + ((1 / (batch_idx + 1)) * (loss.data - test_loss))
        # convert output probabilities to predicted class
        pred = output.data.max(1, keepdim=True)[1]
        # compare predictions to true label
        correct += np.sum(np.squeeze(pred.eq(target.data.view_as(pred))).cpu().numpy())
        total += data.size(0)
    print(type(correct).__name__, total, 0 <= correct <= total, test_loss.shape)


test(model, criterion, use_cuda)


def load_input_image(img_path):
    image = Image.open(img_path)
    prediction_transform = transforms.Compose([transforms.Resize(size=(224, 224)),
                                               transforms.ToTensor(),
                                               transforms.Normalize([0.485, 0.456, 0.406],
                                                                    [0.229, 0.224, 0.225])])
    # discard the transparent, alpha channel (that's the :3) and add the batch dimension
    image = prediction_transform(image)[:3, :, :].unsqueeze(0)
    return image


def predict_malaria(model, class_names, img_path):
    # load the image and return the predicted breed
    img = load_input_image(img_path)
    model = model.cpu()
    model.eval()
    idx = torch.argmax(model(img))
    return class_names[idx]


print(load_input_image(img_dir + 'Uninfected/C1_0.png').shape)
print(predict_malaria(model, train_data.classes, img_dir + 'Uninfected/C1_0.png') in train_data.classes)

import torch
import numpy as np
test = torch.tensor([[1, 2, 3]])
print(np.squeeze(test))
print(torch.tensor([1]).unsqueeze(0))

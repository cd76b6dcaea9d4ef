# Seed 003, "PyTorch 深度学习实战" reading notes (Deep Learning with PyTorch): the tensor, linear-model,
# optimizer, validation and torch.nn snippets, stitched in order with the book's thermometer data
# (t_c, t_u) and its normalised input t_un = 0.1 * t_u. GPU snippets are skipped (no CUDA).
# Lines starting with "~" print values that depend on the random stream (differs from torch's).
import torch

t_c = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
t_u = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]
t_c = torch.tensor(t_c)
t_u = torch.tensor(t_u)
t_un = 0.1 * t_u

# --- interop with NumPy
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
points_cpu = points.cpu()
points_np = points.numpy()
points = torch.from_numpy(points_np)
points_np[0, 0] = 7.0
print(points_np.dtype, points[0, 0], points.dtype)


# --- the linear model
def model(t_u, w, b):
    return w * t_u + b


def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c)**2
    return squared_diffs.mean()


params = torch.tensor([1.0, 0.0], requires_grad=True)
loss = loss_fn(model(t_u, *params), t_c)
loss.backward()
print(params.grad)


def training_loop(n_epochs, learning_rate, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        if params.grad is not None:
            params.grad.zero_()
        t_p = model(t_u, *params)
        loss = loss_fn(t_p, t_c)
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
        if epoch % 500 == 0:
            print('Epoch %d, Loss %f' % (epoch, float(loss)))
    return params


print(training_loop(
    n_epochs=5000,
    learning_rate=1e-2,
    params=torch.tensor([1.0, 0.0], requires_grad=True),
    t_u=t_un,
    t_c=t_c))
# as the notes write it, with the unnormalised t_u: the loss blows up
print(training_loop(
    n_epochs=1000,
    learning_rate=1e-2,
    params=torch.tensor([1.0, 0.0], requires_grad=True),
    t_u=t_u,
    t_c=t_c))

# --- optimizers
import torch.optim as optim

params = torch.tensor([1.0, 0.0], requires_grad=True)
learning_rate = 1e-2
optimizer = optim.SGD([params], lr=learning_rate)
t_p = model(t_un, *params)
loss = loss_fn(t_p, t_c)
optimizer.zero_grad()
loss.backward()
optimizer.step()
print(params)
print(optimizer)

# --- splitting the data set
n_samples = t_u.shape[0]
n_val = int(0.2 * n_samples)
shuffled_indices = torch.randperm(n_samples)
train_indices = shuffled_indices[:-n_val]
val_indices = shuffled_indices[:n_val]
print(train_indices.shape, val_indices.shape, sorted(shuffled_indices.tolist()) == list(range(n_samples)))
t_u_val, t_c_val = t_un[val_indices], t_c[val_indices]
with torch.no_grad():
    val_loss = loss_fn(model(t_u_val, *params), t_c_val)
    assert val_loss.requires_grad == False
print(val_loss.requires_grad, val_loss.shape)

# --- torch.nn
import torch.nn as nn
import torch.optim as optim

linear_model = nn.Linear(1, 1)
x = torch.tensor([1.0])
y = linear_model(x)
print("~", y)
print(y.shape, y.grad_fn.name())

optimizer = optim.SGD(linear_model.parameters(), lr=0.01)


def training_loop(n_epochs, optimizer, model, loss_fn, x, y):
    for epoch in range(1, n_epochs + 1):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0:
            print('~ Epoch %d, Loss %f' % (epoch, float(loss)))
    return y_pred


y_pred = training_loop(30, optimizer, linear_model, nn.MSELoss(), t_un.unsqueeze(1), t_c.unsqueeze(1))
print(y_pred.shape)

seq_model = nn.Sequential(
            nn.Linear(1, 13),
            nn.Tanh(),
            nn.Linear(13, 1))
print(seq_model)
print([param.shape for param in seq_model.parameters()])
for name, param in seq_model.named_parameters():
    print(name, param.shape)

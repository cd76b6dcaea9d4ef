"""Checkpoints in practice: resume = uninterrupted run; torch state_dicts into ember models."""
import numpy as np
import torch

import ember


def make_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10))


def batches(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 8)) for _ in range(n)]


def train(model, opt, sched, data):
    loss_fn = ember.nn.CrossEntropyLoss()
    for x, y in data:
        opt.zero_grad()
        loss = loss_fn(model(ember.tensor(x)), ember.tensor(y))
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


def setup(seed=0):
    ember.manual_seed(seed)
    model = make_model(ember)
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def test_resume_matches_uninterrupted_run(tmp_path):
    data = batches(6)
    model, opt, sched = setup()
    train(model, opt, sched, data)
    straight = [p.detach().numpy().copy() for p in model.parameters()]

    model, opt, sched = setup()
    train(model, opt, sched, data[:3])
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "epoch": 3}, tmp_path / "ck.pt")
    model2, opt2, sched2 = setup(seed=123)  # different init: everything must come from the file
    ck = ember.load(tmp_path / "ck.pt")
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    sched2.load_state_dict(ck["scheduler"])
    assert ck["epoch"] == 3
    train(model2, opt2, sched2, data[3:])
    for a, b in zip(straight, model2.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a, rtol=1e-6, atol=1e-7)


def test_torch_state_dict_into_ember_model_gives_equal_outputs(tmp_path):
    torch.manual_seed(0)
    tm = make_model(torch)
    with torch.no_grad():
        tm[1].running_mean.uniform_(-0.5, 0.5)
        tm[1].running_var.uniform_(0.5, 1.5)
    tm.eval()
    torch.save(tm.state_dict(), tmp_path / "torch_model.pt")
    em = make_model(ember)
    result = em.load_state_dict(ember.load(tmp_path / "torch_model.pt"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    em.eval()
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(em(ember.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_ember_state_dict_loads_into_torch_model(tmp_path):
    em = make_model(ember)
    ember.save(em.state_dict(), tmp_path / "ember_model.pt")
    tm = make_model(torch)
    tm.load_state_dict(torch.load(tmp_path / "ember_model.pt", weights_only=True))
    sd = tm.state_dict()
    for k, v in em.state_dict().items():
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    assert sd["1.num_batches_tracked"].dtype == torch.int64


def test_optimizer_state_dict_roundtrips_through_torch(tmp_path):
    em = make_model(ember)
    opt = ember.optim.SGD(em.parameters(), lr=0.1, momentum=0.9)
    train(em, opt, ember.optim.lr_scheduler.StepLR(opt, 1), batches(1))
    ember.save(opt.state_dict(), tmp_path / "opt.pt")
    sd = torch.load(tmp_path / "opt.pt", weights_only=True)
    assert sd["param_groups"][0]["momentum"] == 0.9
    assert set(sd["state"]) == set(range(len(list(em.parameters()))))


def test_torch_optimizer_state_dict_into_ember_adam(tmp_path):
    """Resume from a torch checkpoint (model + Adam state): the next ember step equals torch's."""
    def mlp(lib):   # no conv bias before a BatchNorm here: its gradient is ~0 and Adam amplifies the noise
        return lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(64, 16), lib.nn.Tanh(), lib.nn.Linear(16, 10))
    torch.manual_seed(0)
    tm = mlp(torch)
    topt = torch.optim.Adam(tm.parameters(), lr=1e-2)
    data = batches(3)
    for x, y in data[:2]:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y)).backward()
        topt.step()
    torch.save({"model": tm.state_dict(), "optimizer": topt.state_dict()}, tmp_path / "ck.pt")
    ck = ember.load(tmp_path / "ck.pt")
    assert ck["optimizer"]["state"][0]["step"].dtype == ember.float32
    em = mlp(ember)
    em.load_state_dict(ck["model"])
    eopt = ember.optim.Adam(em.parameters(), lr=1e-2)
    eopt.load_state_dict(ck["optimizer"])
    x, y = data[2]
    topt.zero_grad()
    torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y)).backward()
    topt.step()
    train(em, eopt, ember.optim.lr_scheduler.StepLR(eopt, 10), [data[2]])
    for a, b in zip(tm.parameters(), em.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-6)

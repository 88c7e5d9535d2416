#!/usr/bin/python3
"""PyTorch (Debian python3-torch, CPU) running the workloads of workloads.mjs spec(); prints `RESULT {json}`.
   usage: peer_torch.py --threads N [--workloads W1,W2,W3] [--quick]"""
import argparse
import gzip
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--workloads", default="W1,W2,W3")
ap.add_argument("--quick", action="store_true")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.set_num_interop_threads(1)
torch.manual_seed(1)

# Same numbers as spec() in workloads.mjs.
Q = a.quick
W1 = dict(batch=64, lr=1e-3, samples=6400 if Q else 60000, warmup_steps=5 if Q else 300)
W2 = dict(groups=50 if Q else 250, group=50, batch=256, big_calls=20 if Q else 100, big_warmup=3 if Q else 20, warmup=50 if Q else 300)
W3 = dict(batch=64, lr=1e-3, samples=640 if Q else 10000, warmup_steps=2)

root = os.environ.get("CAIRN_FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def idx(name):
    with gzip.open(os.path.join(root, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


n = 10000 if Q else 60000
X = torch.from_numpy(idx("train-images-idx3-ubyte.gz")[:n].reshape(n, 784).astype(np.float32) / 255)
Y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz")[:n].astype(np.int64))


def glorot(model):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def mlp():
    return glorot(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)))


def cnn():
    return glorot(nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Flatten(), nn.Linear(32 * 7 * 7, 10)))


def train(model, sp, shape, samples):
    opt = torch.optim.Adam(model.parameters(), lr=sp["lr"])
    loss_fn = nn.CrossEntropyLoss()
    for s in range(0, samples, sp["batch"]):
        xb = X[s:s + sp["batch"]].view(-1, *shape)
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), Y[s:s + sp["batch"]]).backward()
        opt.step()


def train_workload(make, sp, shape):
    train(make(), sp, shape, sp["warmup_steps"] * sp["batch"])
    model = make()
    w0, t0 = time.time(), time.perf_counter()
    train(model, sp, shape, sp["samples"])
    sec = time.perf_counter() - t0
    # window_ms: the epoch in Unix ms, for the runner's share of stolen vCPU time (steal.mjs)
    r = dict(samples_per_s=sp["samples"] / sec, seconds=sec, window_ms=[w0 * 1000, (w0 + sec) * 1000])
    if make is mlp:
        with torch.no_grad():
            r["train_accuracy"] = (model(X[:sp["samples"]]).argmax(1) == Y[:sp["samples"]]).float().mean().item()
    return r


def infer():
    model = mlp().eval()

    def run(batch):
        x = X[:batch].clone()

        def call():
            with torch.inference_mode():
                return model(x)
        return call
    one = run(1)
    for _ in range(W2["warmup"]):
        one()
    per = []
    for _ in range(W2["groups"]):
        t0 = time.perf_counter()
        for _ in range(W2["group"]):
            one()
        per.append((time.perf_counter() - t0) * 1e6 / W2["group"])
    big = run(W2["batch"])
    for _ in range(W2["big_warmup"]):
        big()
    t0 = time.perf_counter()
    for _ in range(W2["big_calls"]):
        big()
    return dict(b1_us=statistics.median(per), b256_samples_per_s=W2["batch"] * W2["big_calls"] / (time.perf_counter() - t0))


out = dict(info=dict(version=torch.__version__, threads=torch.get_num_threads()))
for w in a.workloads.split(","):
    if w == "W1":
        out["W1"] = train_workload(mlp, W1, (784,))
    elif w == "W2":
        out["W2"] = infer()
    elif w == "W3":
        out["W3"] = train_workload(cnn, W3, (1, 28, 28))
print("RESULT " + json.dumps(out), flush=True)

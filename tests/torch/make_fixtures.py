#!/usr/bin/python3
"""PyTorch reference runs for tests/core/test_torch.cpp.

Writes, for each model, the initial weights (in Cairn's layouts), the batches and PyTorch's per-step losses of
50 Adam steps into OUTDIR/<case>/. The C++ test builds the same model from the same weights, feeds the same
batches and compares the losses. Layouts: PyTorch is NCHW / OIHW / Linear [out, in]; Cairn is NHWC / HWIO /
Dense [in, out], and Cairn flattens NHWC in (h, w, c) order, so the first Dense after a Flatten is permuted.

Usage: /usr/bin/python3 make_fixtures.py OUTDIR   (exits 0 without writing if torch is not installed, so the
C++ test skips with a message rather than failing the whole suite)
"""
import json
import os
import sys

STEPS = 50


def main(out):
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"make_fixtures: PyTorch not available ({e}); the cross-check will be skipped")
        return 0
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)

    def dense(units, act=None):
        d = {"type": "dense", "units": units}
        if act:
            d["activation"] = act
        return d

    # --- MLP 784-256-128-10 ---------------------------------------------------------------------------------
    mlp = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                              torch.nn.ReLU(), torch.nn.Linear(128, 10))
    mlp_arch = {"input": [784], "layers": [dense(256, "relu"), dense(128, "relu"), dense(10, "softmax")]}

    def mlp_weights(m):
        w = {}
        for i, (cairn_idx, lin) in enumerate([(0, m[0]), (1, m[2]), (2, m[4])]):
            w[f"{cairn_idx}.dense.weight"] = lin.weight.detach().numpy().T  # [in, out]
            w[f"{cairn_idx}.dense.bias"] = lin.bias.detach().numpy()
        return w

    # --- small CNN: 28x28x1 -> Conv3x3(16,same)+ReLU+MaxPool2 -> Conv3x3(32,same)+ReLU+MaxPool2 -> Flatten -> Dense 10
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(7 * 7 * 32, 10))
    conv = lambda f: {"type": "conv2d", "filters": f, "kernel_size": 3, "padding": "same", "activation": "relu"}
    cnn_arch = {"input": [28, 28, 1], "layers": [conv(16), {"type": "maxpool2d"}, conv(32), {"type": "maxpool2d"},
                                                 {"type": "flatten"}, dense(10, "softmax")]}

    def cnn_weights(m):
        hwio = lambda t: t.detach().numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
        lin = m[7].weight.detach().numpy()  # [10, C*H*W] in (c, h, w) order
        return {"0.conv2d.weight": hwio(m[0].weight), "0.conv2d.bias": m[0].bias.detach().numpy(),
                "2.conv2d.weight": hwio(m[3].weight), "2.conv2d.bias": m[3].bias.detach().numpy(),
                "5.dense.weight": lin.reshape(10, 32, 7, 7).transpose(2, 3, 1, 0).reshape(7 * 7 * 32, 10),
                "5.dense.bias": m[7].bias.detach().numpy()}

    for name, model, arch, weights, batch, image in [("mlp", mlp, mlp_arch, mlp_weights, 32, False),
                                                     ("cnn", cnn, cnn_arch, cnn_weights, 8, True)]:
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        files = []
        for wname, value in weights(model).items():
            value = np.ascontiguousarray(value, dtype="<f4")
            fname = wname + ".bin"
            value.tofile(os.path.join(folder, fname))
            files.append({"name": wname, "shape": list(value.shape), "file": fname})
        # Learnable images so the losses move a lot: noise in [0, 0.5) plus a bright band of rows whose
        # position is the label. Cairn layout NHWC ([steps, batch, 28, 28, 1]).
        y = torch.randint(0, 10, (STEPS, batch), dtype=torch.int32)
        x = torch.rand(STEPS, batch, 28, 28, 1) * 0.5
        for s in range(STEPS):
            for b in range(batch):
                k = int(y[s, b])
                x[s, b, 2 * k + 2:2 * k + 6, :, 0] += 0.5
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        losses = []
        for s in range(STEPS):
            xb = x[s].permute(0, 3, 1, 2) if image else x[s].reshape(batch, 784)
            opt.zero_grad()
            loss = loss_fn(model(xb), y[s].long())
            loss.backward()
            opt.step()
            losses.append(float(loss))
        np.ascontiguousarray(x.numpy(), dtype="<f4").tofile(os.path.join(folder, "x.bin"))
        np.ascontiguousarray(y.numpy(), dtype="<i4").tofile(os.path.join(folder, "y.bin"))
        manifest = {"architecture": arch, "weights": files, "steps": STEPS, "batch": batch,
                    "sample_shape": [784] if not image else [28, 28, 1],
                    "optimizer": {"type": "adam", "lr": 1e-3}, "losses": losses, "torch": torch.__version__}
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(f"make_fixtures: {name}: loss {losses[0]:.4f} -> {losses[-1]:.4f} over {STEPS} Adam steps")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))

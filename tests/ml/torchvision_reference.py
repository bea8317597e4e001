#!/usr/bin/python3
"""Writes a randomly initialised torchvision model's tensors and its output on a fixed input,
for tst_MlTorchvisionParity: the Lightbox zoo network of the same architecture, given these
tensors in registration order, must compute the same logits.

usage: torchvision_reference.py ARCH CLASSES SIZE OUT_DIR
Writes OUT_DIR/tensors.bin (float32, parameters then buffers, num_batches_tracked left out),
OUT_DIR/index.json (names and shapes, in the same order), input.bin and logits.bin."""
import json
import os
import sys

import torch
import torchvision

arch, classes, size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
os.makedirs(out, exist_ok=True)
torch.manual_seed(11)
net = getattr(torchvision.models, arch)(num_classes=classes)
with torch.no_grad():
    # Random batch-norm statistics and affine terms, so that every tensor matters.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
net.eval()
params = [(n, t) for n, t in net.named_parameters()]
buffers = [(n, t) for n, t in net.named_buffers() if not n.endswith("num_batches_tracked")]
index = {"parameters": [[n, list(t.shape)] for n, t in params],
         "buffers": [[n, list(t.shape)] for n, t in buffers]}
with open(os.path.join(out, "tensors.bin"), "wb") as f:
    for _, t in params + buffers:
        f.write(t.detach().contiguous().numpy().astype("<f4").tobytes())
json.dump(index, open(os.path.join(out, "index.json"), "w"))
x = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(5))
with torch.no_grad():
    y = net(x)
x.numpy().astype("<f4").tofile(os.path.join(out, "input.bin"))
y.numpy().astype("<f4").tofile(os.path.join(out, "logits.bin"))

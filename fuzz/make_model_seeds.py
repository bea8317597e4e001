#!/usr/bin/env python3
"""Tiny model files for fuzz_model, made with Debian's python3-torch around the cards that
fuzz_make_seeds wrote: archives shaped like Lightbox bundles (a lightbox_card buffer, weights
of the wrong shape or unknown names, the detector's tables) and TorchScript modules with and
without a card.json extra file. A real bundle of the smallest network is megabytes; these are
a few KB, so mutations reach the parts Lightbox checks.

Usage: make_model_seeds.py SEED_DIR   (reads SEED_DIR/*.json, writes SEED_DIR/tiny-*.pt)
"""
import glob
import json
import os
import sys

import torch


def card_tensor(text):
    return torch.tensor(list(text), dtype=torch.uint8)


class Buffers(torch.nn.Module):
    def __init__(self, tensors):
        super().__init__()
        for name, t in tensors.items():
            self.register_buffer(name, t)

    def forward(self, x):
        return x


class Head(torch.nn.Module):
    """A classifier on a 1 x 16 x 16 input with forward_features/forward_head for Grad-CAM."""

    def __init__(self, classes):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1)
        self.fc = torch.nn.Linear(2, classes)

    @torch.jit.export
    def forward_features(self, x):
        return torch.relu(self.conv(x))

    @torch.jit.export
    def forward_head(self, f):
        return self.fc(f.mean(dim=(2, 3)))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def main():
    out = sys.argv[1]
    torch.manual_seed(7)
    cards = sorted(glob.glob(os.path.join(out, "*.json")))
    if not cards:
        sys.exit("no cards in " + out + " (run fuzz_make_seeds first)")
    for path in cards:
        name = os.path.splitext(os.path.basename(path))[0]
        card = open(path, "rb").read()
        tensors = {"lightbox_card": card_tensor(card)}
        torch.jit.script(Buffers(tensors)).save(os.path.join(out, "tiny-%s-card-only.pt" % name))
        tensors["p_features__0__weight"] = torch.zeros(2, 1, 3, 3)
        tensors["b_features__1__running_mean"] = torch.zeros(2)
        tensors["ood_blocks"] = torch.tensor([[0.0, 2.0, 0.0, 1.0]], dtype=torch.float64)
        tensors["ood_means_0"] = torch.zeros(1, 2)
        tensors["ood_precision_0"] = torch.eye(2)
        torch.jit.script(Buffers(tensors)).save(os.path.join(out, "tiny-%s-weights.pt" % name))
        classes = len(json.loads(card)["class_names"])
        if classes >= 2:
            torch.jit.script(Head(classes)).save(os.path.join(out, "tiny-%s-script.pt" % name),
                                                 _extra_files={"card.json": card})
    torch.jit.script(Head(2)).save(os.path.join(out, "tiny-script-no-card.pt"))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Python peer of bench_train: the usual PyTorch way of training from a folder of PNG files
(torchvision ImageFolder + transforms + DataLoader with worker processes), doing the same
work as Lightbox's loader and trainer: decode, augment (rotation, flip, brightness and
contrast), resize, normalise, batch; forward, cross-entropy, backward and an AdamW step.
Prints one JSON object: images per second for data loading alone and for training."""
import argparse
import json
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision import transforms


def loader(root, size, batch, workers, augment, channels):
    t = []
    if augment:
        t += [transforms.RandomRotation(10), transforms.RandomHorizontalFlip(),
              transforms.ColorJitter(brightness=0.1, contrast=0.1)]
    t += [transforms.Grayscale(channels), transforms.Resize((size, size), antialias=True),
          transforms.ToTensor(), transforms.Normalize([0.5] * channels, [0.25] * channels)]
    ds = torchvision.datasets.ImageFolder(root, transform=transforms.Compose(t))
    return torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                                       drop_last=True, persistent_workers=workers > 0)


def images_per_second(it, batches, step, warmup):
    done = 0
    start = None
    for i, (x, y) in enumerate(it):
        if i == warmup:
            start = time.perf_counter()
        step(x, y)
        if i >= warmup:
            done += x.shape[0]
        if i + 1 >= warmup + batches:
            break
    return done / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="folder with one sub-folder per class")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--load-batches", type=int, default=40)
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--bf16", action="store_true", help="also train with bfloat16 autocast (torch.autocast on the CPU)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(),
           "workers": a.workers}
    dl = loader(a.data, a.size, a.batch, a.workers, True, a.channels)
    out["load_images_per_s"] = images_per_second(dl, a.load_batches, lambda x, y: None, 2)

    def train_rate(bf16):
        torch.manual_seed(0)
        net = getattr(torchvision.models, a.arch)(num_classes=len(dl.dataset.classes))
        if a.channels == 1:  # the same 1-channel stem Lightbox's zoo builds for X-rays
            net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        net.train()
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)

        def step(x, y):
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = net(x)
            loss = F.cross_entropy(logits.float(), y)
            loss.backward()
            opt.step()

        return images_per_second(dl, a.batches, step, 2)

    out["train_images_per_s"] = train_rate(False)
    if a.bf16:
        out["train_bf16_images_per_s"] = train_rate(True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

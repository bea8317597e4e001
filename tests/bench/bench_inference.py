#!/usr/bin/python3
"""Python peer of bench_inference: the same work done the usual notebook way with torch and
torchvision. Prints one JSON object with median milliseconds per stage and model."""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
import torchvision


def parts(arch, net):
    if arch.startswith("resnet"):
        def features(x):
            x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
            return net.layer4(net.layer3(net.layer2(net.layer1(x))))
        head = lambda f: net.fc(torch.flatten(F.adaptive_avg_pool2d(f, 1), 1))
    else:
        features = lambda x: F.relu(net.features(x))
        head = lambda f: net.classifier(torch.flatten(F.adaptive_avg_pool2d(f, 1), 1))
    return features, head


def time_ms(fn, iterations, fastest, warmup=2):
    """Median (or the fastest) of `iterations` timed calls, in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times) if fastest else statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--raw", type=int, default=1024)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--archs", default="resnet18,densenet121")
    p.add_argument("--bf16", action="store_true", help="also time bfloat16 autocast (torch.autocast on the CPU)")
    p.add_argument("--stat", choices=["median", "best"], default="median")
    a = p.parse_args()
    ms = lambda fn: time_ms(fn, a.iterations, a.stat == "best")
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    raw = torch.rand(a.raw, a.raw) * 255

    def preprocess():
        x = F.interpolate(raw[None, None], size=(a.size, a.size), mode="area")
        x = (x / 255 - 0.485) / 0.229
        return x.expand(1, 3, a.size, a.size).contiguous()

    out = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "preprocess": ms(preprocess), "models": {}}
    x = preprocess()
    for arch in a.archs.split(","):
        net = getattr(torchvision.models, arch)(num_classes=2).eval()
        for q in net.parameters():
            q.requires_grad_(False)
        features, head = parts(arch, net)

        def forward(bf16=False):
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                return torch.softmax(net(x).float(), 1)

        def gradcam(bf16=False):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                with torch.no_grad():
                    f = features(x)
                f.requires_grad_(True)
                logits = head(f)
                target = int(logits.argmax(1))
                g, = torch.autograd.grad(logits[0, target], f)
            f, g = f.detach().float(), g.float()
            cam = torch.relu((g.mean((2, 3), keepdim=True) * f).sum(1))
            cam = (cam - cam.min()) / (cam.max() - cam.min() + 1e-12)
            return F.interpolate(cam[None], size=(a.size, a.size), mode="bilinear", align_corners=False)

        out["models"][arch] = {"forward": ms(forward), "gradcam": ms(gradcam)}
        if a.bf16:
            out["models"][arch]["forward_bf16"] = ms(lambda: forward(True))
            out["models"][arch]["gradcam_bf16"] = ms(lambda: gradcam(True))
    print(json.dumps(out))


if __name__ == "__main__":
    main()

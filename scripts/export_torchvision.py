#!/usr/bin/python3
"""Export a torchvision classifier as a TorchScript file that Lightbox can open.

The module is wrapped so that it has forward(x) -> logits plus forward_features(x) (output
of the last convolutional block) and forward_head(f) (pooling and classifier), which
Lightbox uses for Grad-CAM; the model card travels as the extra file card.json.

Run it with a Python that has torch and torchvision (on Debian: /usr/bin/python3).

  export_torchvision.py --arch resnet18 --classes 2 --channels 1 --size 224 out.pt
  export_torchvision.py --arch densenet121 --weights my_finetuned_state_dict.pth ... out.pt

--reference DIR also writes a fixed random input and the model's outputs for it (raw
little-endian float32 files plus reference.json), for comparing LibTorch with Python.
"""
import argparse
import datetime
import json
import os

import torch
import torch.nn as nn
import torchvision


class ResNetParts(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.Sequential(net.layer1, net.layer2, net.layer3, net.layer4)
        self.fc = net.fc

    @torch.jit.export
    def forward_features(self, x):
        return self.layers(self.stem(x))

    @torch.jit.export
    def forward_head(self, f):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(f, 1), 1))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


class FeaturesClassifierParts(nn.Module):
    """DenseNet, EfficientNet, VGG, MobileNet: net.features + pooling + net.classifier."""

    def __init__(self, net, relu_after_features):
        super().__init__()
        self.features = net.features
        self.classifier = net.classifier
        self.relu_after_features = relu_after_features

    @torch.jit.export
    def forward_features(self, x):
        f = self.features(x)
        if self.relu_after_features:
            f = nn.functional.relu(f)
        return f

    @torch.jit.export
    def forward_head(self, f):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(f, 1), 1))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))


def first_conv_to_channels(conv, channels):
    if conv.in_channels == channels:
        return conv
    new = nn.Conv2d(channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                    conv.dilation, conv.groups, conv.bias is not None)
    with torch.no_grad():
        # Grey input: sum the RGB filters so pretrained weights keep their response.
        new.weight.copy_(conv.weight.sum(dim=1, keepdim=True) if channels == 1 else conv.weight[:, :channels])
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def build(arch, classes, channels, weights=""):
    """The torchvision model adapted to `channels`, with `weights` (a state_dict of that
    adapted model) loaded strictly, wrapped into forward_features/forward_head parts."""
    net = getattr(torchvision.models, arch)(num_classes=classes)
    if arch.startswith("resnet"):
        net.conv1 = first_conv_to_channels(net.conv1, channels)
    elif arch.startswith("densenet"):
        net.features.conv0 = first_conv_to_channels(net.features.conv0, channels)
    elif arch.startswith("efficientnet") or arch.startswith("mobilenet"):
        net.features[0][0] = first_conv_to_channels(net.features[0][0], channels)
    elif arch.startswith("vgg"):
        net.features[0] = first_conv_to_channels(net.features[0], channels)
        # Drop the last max pool and the 7x7 flattening so the head is pooling + classifier.
        net.features = net.features[:-1]
        net.classifier = nn.Linear(512, classes)
    else:
        raise SystemExit(f"export_torchvision.py: architecture {arch} is not supported "
                         "(resnet*, densenet*, efficientnet*, mobilenet*, vgg*)")
    if weights:
        state = torch.load(weights, map_location="cpu")
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        net.load_state_dict(state, strict=True)  # raises with the mismatching keys
    if arch.startswith("resnet"):
        return ResNetParts(net)
    return FeaturesClassifierParts(net, relu_after_features=arch.startswith("densenet"))


def grad_cam(model, x, target):
    f = model.forward_features(x).detach().requires_grad_(True)
    logits = model.forward_head(f)
    if target < 0:
        target = int(logits.argmax(1))
    grads, = torch.autograd.grad(logits[0, target], f)
    weights = grads[0].mean(dim=(1, 2), keepdim=True)
    cam = torch.relu((weights * f[0]).sum(0)).detach()
    span = cam.max() - cam.min()
    return ((cam - cam.min()) / span if span > 1e-12 else torch.zeros_like(cam)), target


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="output .pt file")
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--classes", type=int, default=2)
    p.add_argument("--class-names", default="", help="comma-separated; default class0, class1, ...")
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--mean", default="", help="comma-separated per channel; default ImageNet (or 0.5 for grey)")
    p.add_argument("--std", default="")
    p.add_argument("--resize", default="area", choices=("area", "bilinear"))
    p.add_argument("--task", default="")
    p.add_argument("--ordinal", action="store_true")
    p.add_argument("--weights", default="", help="state_dict (.pth) of the torchvision model, after its first "
                   "convolution was changed to --channels (VGG: classifier = Linear(512, classes))")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-card", action="store_true", help="omit card.json (to test refusal)")
    p.add_argument("--card-override", default="", help="JSON object merged into the card (tests of refusal)")
    p.add_argument("--reference", default="", help="folder for a reference input and outputs")
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = build(a.arch, a.classes, a.channels, a.weights)
    model.eval()

    names = a.class_names.split(",") if a.class_names else [f"class{i}" for i in range(a.classes)]
    if len(names) != a.classes:
        raise SystemExit("export_torchvision.py: --class-names must list --classes names")
    if a.mean:
        mean = [float(v) for v in a.mean.split(",")]
        std = [float(v) for v in a.std.split(",")]
    elif a.channels == 3:
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    else:
        mean, std = [0.5], [0.25]
    card = {
        "format_version": 1,
        "architecture": "torchscript:" + a.arch,
        "task": a.task,
        "class_names": names,
        "ordinal": a.ordinal,
        "preprocess": {"width": a.size, "height": a.size, "channels": a.channels,
                       "mean": mean, "std": std, "resize": a.resize},
        "training_summary": f"torchvision {a.arch} exported with torch {torch.__version__}"
                            + (f" from {os.path.basename(a.weights)}" if a.weights else " (random init, seed "
                               + str(a.seed) + ")"),
        "metrics": {},
        "created": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if a.card_override:
        for key, value in json.loads(a.card_override).items():
            if isinstance(value, dict) and isinstance(card.get(key), dict):
                card[key].update(value)
            else:
                card[key] = value
    scripted = torch.jit.script(model)
    extra = {} if a.no_card else {"card.json": json.dumps(card, indent=2)}
    torch.jit.save(scripted, a.out, _extra_files=extra)

    if a.reference:
        os.makedirs(a.reference, exist_ok=True)
        g = torch.Generator().manual_seed(a.seed + 1)
        x = torch.randn(1, a.channels, a.size, a.size, generator=g)
        with torch.no_grad():
            logits = model(x)
            features = model.forward_features(x)
        cam, target = grad_cam(model, x, -1)
        cam_other, other = grad_cam(model, x, (target + 1) % a.classes)
        for name, t in (("input", x), ("logits", logits), ("probabilities", torch.softmax(logits, 1)),
                        ("cam", cam), ("cam_other", cam_other)):
            t.contiguous().numpy().astype("<f4").tofile(os.path.join(a.reference, name + ".bin"))
        with open(os.path.join(a.reference, "reference.json"), "w") as f:
            json.dump({"input_shape": list(x.shape), "logits_shape": list(logits.shape),
                       "feature_shape": list(features.shape), "cam_shape": list(cam.shape),
                       "cam_class": target, "cam_other_class": other}, f)
    print(a.out)


if __name__ == "__main__":
    main()

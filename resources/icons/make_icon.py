#!/usr/bin/python3
"""Renders lightbox.png (256 px) from the same geometry as lightbox.svg, with Pillow, so the
icon exists as a bitmap without an SVG renderer. Run: /usr/bin/python3 make_icon.py"""
from PIL import Image, ImageDraw

S = 4  # supersampling
img = Image.new("RGBA", (256 * S, 256 * S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle([8 * S, 8 * S, 248 * S, 248 * S], radius=36 * S, fill=(0x1D, 0x27, 0x33, 255))
# light panel with a radial glow
panel = Image.new("RGBA", (184 * S, 196 * S))
pd = panel.load()
cx, cy, r = 92 * S, 88 * S, 130 * S
for y in range(196 * S):
    for x in range(184 * S):
        t = min(1.0, ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 / r)
        pd[x, y] = tuple(int(a + (b - a) * t) for a, b in zip((0xEA, 0xF4, 0xFF), (0x7F, 0xA6, 0xCF))) + (255,)
mask = Image.new("L", panel.size, 0)
ImageDraw.Draw(mask).rounded_rectangle([0, 0, panel.size[0] - 1, panel.size[1] - 1], radius=14 * S, fill=255)
img.paste(panel, (36 * S, 30 * S), mask)
bone = (0x2B, 0x3A, 0x4C, 220)
d.rectangle([92 * S, 30 * S, 164 * S, 92 * S], fill=bone)
d.ellipse([92 * S, 62 * S, 164 * S, 122 * S], fill=bone)
d.rectangle([88 * S, 164 * S, 168 * S, 226 * S], fill=bone)
d.ellipse([88 * S, 136 * S, 168 * S, 192 * S], fill=bone)
d.rounded_rectangle([90 * S, 91 * S, 166 * S, 167 * S], radius=3 * S, outline=(0xFF, 0xC4, 0x00, 255), width=6 * S)
img.resize((256, 256), Image.LANCZOS).save("lightbox.png", optimize=True)

"""Minimal 24-bit BMP reading/writing (what OpenCV, and so the lerf CLI, reads and writes)
so that the training tools need nothing beyond numpy and torch."""
import struct

import numpy as np


def write_bmp(path, img):
    """img: (H, W, 3) uint8 in BGR order (as OpenCV), or (H, W) grey."""
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    h, w, _ = img.shape
    row = (3 * w + 3) & ~3
    data = np.zeros((h, row), np.uint8)
    data[:, :3 * w] = img[::-1].reshape(h, 3 * w)
    header = struct.pack("<2sIHHI", b"BM", 54 + data.size, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, data.size, 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + data.tobytes())


def read_bmp(path):
    """Reads an uncompressed 24-bit BMP -> (H, W, 3) uint8 BGR."""
    with open(path, "rb") as f:
        raw = f.read()
    off = struct.unpack_from("<I", raw, 10)[0]
    w, h, _, bpp, comp = struct.unpack_from("<iiHHI", raw, 18)
    if bpp != 24 or comp != 0:
        raise ValueError(f"{path}: only 24-bit uncompressed BMP supported (bpp {bpp}, compression {comp})")
    flip = h > 0
    h = abs(h)
    row = (3 * w + 3) & ~3
    data = np.frombuffer(raw, np.uint8, count=row * h, offset=off).reshape(h, row)[:, :3 * w]
    img = data.reshape(h, w, 3)
    return (img[::-1] if flip else img).copy()


def luma(img_bgr):
    """BT.601 studio-range Y of a BGR uint8 image (the papers' PSNR-Y)."""
    b, g, r = [img_bgr[..., k].astype(np.float64) for k in range(3)]
    return 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def psnr_y(out, gt, shave):
    a, b = luma(out), luma(gt)
    if shave:
        a, b = a[shave:-shave, shave:-shave], b[shave:-shave, shave:-shave]
    mse = np.mean((a - b) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))

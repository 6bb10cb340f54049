"""Signal processing: DFT, STFT, the window functions and the mel filter bank. A transform of
length n costs an FFT's 5*n*log2(n) FLOPs (the usual count for a complex radix-2 FFT); none
of them multiplies by learnt weights, so none has MACs."""

from __future__ import annotations

from math import prod

from .base import Cost, NodeView, entry


def fft_flops(n: int) -> int:
    """5*n*log2(n), log2 rounded up (a length that is no power of two pads to one)."""
    return 5 * n * max(0, (n - 1).bit_length()) if n > 1 else 0


def _int_input(v: NodeView, slot: int) -> int | None:
    value = v.value(slot) if v.has(slot) else None
    return int(value.reshape(-1)[0]) if value is not None and value.size else None


def dft(v: NodeView) -> Cost:
    """One FFT of the transform's length per signal along ``axis``: the other axes' product
    (the last, real or complex, excluded) transforms, 5*n*log2(n) FLOPs each."""
    x = v.shape(0)  # [batch, ..., n, 1 or 2]
    axis = _int_input(v, 2) if len(v.inputs) > 2 and v.has(2) else None
    if axis is None:
        axis = int(v.attr("axis", 1 if len(v.inputs) <= 2 else -2))
    axis %= len(x)
    n = _int_input(v, 1) or x[axis]  # dft_length, else the signal's side
    transforms = prod(x[:-1]) // x[axis]
    return Cost(flops=transforms * fft_flops(n))


def stft(v: NodeView) -> Cost:
    """Per frame: the window's product (one FLOP per sample) and an FFT of the frame's length."""
    out = v.out_shape(0)  # [batch, frames, bins, 2]
    batch, frames = out[0], out[1]
    n = _int_input(v, 3) or (v.shape(2)[0] if v.has(2) else 0)  # frame_length, else the window's
    return Cost(flops=batch * frames * (n + fft_flops(n)))


def per_value(flops: int):
    def cost(v: NodeView) -> Cost:
        """``flops`` FLOPs per output value."""
        return Cost(flops=flops * v.out_numel())

    return cost


OPS = {
    # input, dft_length, axis (opset 20; an attribute before)
    ("", "DFT"): entry(dft, reads_values=True),
    # signal, frame_step, window, frame_length
    ("", "STFT"): entry(stft, fixed=(2,), reads_values=True),
    # a cosine and its scaling per value: 0.5 - 0.5*cos(2*pi*n/N) (Hann, Hamming); Blackman
    # adds a second cosine term
    ("", "HannWindow"): entry(per_value(3)),
    ("", "HammingWindow"): entry(per_value(3)),
    ("", "BlackmanWindow"): entry(per_value(5)),
    # each weight is a slope of a triangle between two mel edges: a subtract and a divide
    ("", "MelWeightMatrix"): entry(per_value(2)),
}

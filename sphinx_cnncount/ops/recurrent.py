"""LSTM, GRU and RNN, and onnxruntime's quantized LSTM (com.microsoft): per time step, every gate
of every direction is a dense layer over the input and the hidden state."""

from __future__ import annotations

from ..shapes import Shape
from .base import LINEAR, TRAINABLE, Cost, NodeView, Role, entry
from .rules import in_shape, outs

MS = "com.microsoft"


def recurrent(v: NodeView) -> Cost:
    """MACs = seq * batch * dirs * (gates*H) * (I + H); the bias adds one connection per gate unit."""
    x = v.shape(0)
    seq, batch = (x[1], x[0]) if v.attr("layout", 0) else (x[0], x[1])
    dirs, gate_units, inputs = v.shape(1)  # W is [num_directions, gates*hidden, input]
    hidden = v.shape(2)[2]  # R is [num_directions, gates*hidden, hidden]
    steps = seq * batch * dirs * gate_units
    macs = steps * (inputs + hidden)
    bias = steps if v.has(3) else 0
    # 2 FLOPs per MAC, the bias adds, and a gate nonlinearity and state update per unit.
    return Cost(macs=macs, flops=2 * macs + bias + 2 * steps, connections=macs + bias)


def dynamic_quantize_lstm(v: NodeView) -> Cost:
    """MACs = seq * batch * dirs * 4H * (I + H), as recurrent.py's LSTM (W is [dirs, I, 4H],
    R is [dirs, H, 4H] here); the bias adds one connection per gate unit."""
    seq, batch, _ = v.shape(0)  # X is [seq, batch, input]
    dirs, inputs, gate_units = v.shape(1)  # W is [num_directions, input, 4*hidden]
    hidden = v.shape(2)[1]  # R is [num_directions, hidden, 4*hidden]
    steps = seq * batch * dirs * gate_units
    macs = steps * (inputs + hidden)
    bias = steps if v.has(3) else 0
    # 2 FLOPs per MAC, the bias adds, and a gate nonlinearity and state update per unit.
    return Cost(macs=macs, flops=2 * macs + bias + 2 * steps, connections=macs + bias)


def recurrent_shape(v: NodeView, hidden_axis: int = 2) -> tuple[Shape | None, ...]:
    """Y (seq, dirs, batch, H); Y_h (and LSTM's Y_c) (dirs, batch, H): X is (seq, batch, I)
    (``layout`` 1: batch first), H the ``hidden_size`` or R's ``hidden_axis`` (the standard
    ops' R is [dirs, gates*H, H])."""
    x, r = in_shape(v, 0), in_shape(v, 2)
    if x is None:
        return outs(v, None, None, None)
    hidden = v.attr("hidden_size", None) or (r[hidden_axis] if r is not None else None)
    direction = v.attr("direction", b"forward")
    dirs = 2 if direction in (b"bidirectional", "bidirectional") else 1
    if v.attr("layout", 0):
        return outs(v, (x[0], x[1], dirs, hidden), (x[0], dirs, hidden), (x[0], dirs, hidden))
    state = (dirs, x[1], hidden)
    return outs(v, (x[0], dirs, x[1], hidden), state, state)


def dynamic_quantize_lstm_shape(v: NodeView) -> tuple[Shape | None, ...]:
    """onnxruntime's DynamicQuantizeLSTM: its R is transposed, [dirs, H, 4*H]."""
    return recurrent_shape(v, hidden_axis=1)


def _recurrent(cost, params, fixed, shape=recurrent_shape, keras=None):
    """A recurrent layer: its data (input 0) and its input weights (input 1) are the factors
    of its product, as a backward pass approximates it."""
    return entry(cost, params, fixed, metrics=LINEAR, role=Role.LINEAR, weight=1, shape=shape,
                 keras=keras)


# X, W, R, B, sequence_lens, initial_h, (initial_c, P for LSTM)
OPS = {
    ("", "LSTM"): _recurrent(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE, 7: TRAINABLE},
                             (5, 6), keras="lstm"),
    ("", "GRU"): _recurrent(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE}, (5,),
                            keras="gru"),
    ("", "RNN"): _recurrent(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE}, (5,),
                            keras="simple_rnn"),
    # X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zp, R_scale, R_zp
    (MS, "DynamicQuantizeLSTM"): _recurrent(
        dynamic_quantize_lstm, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE, 7: TRAINABLE},
        (5, 6, 8, 9, 10, 11), shape=dynamic_quantize_lstm_shape),
}

"""LSTM, GRU and RNN: per time step, every gate of every direction is a dense layer over the
input and the hidden state."""

from __future__ import annotations

from .base import LINEAR, TRAINABLE, Cost, NodeView, spec


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


# X, W, R, B, sequence_lens, initial_h, (initial_c, P for LSTM)
OPS = {
    "LSTM": spec(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE, 7: TRAINABLE}, fixed=(5, 6),
                 metrics=LINEAR),
    "GRU": spec(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE}, fixed=(5,), metrics=LINEAR),
    "RNN": spec(recurrent, {1: TRAINABLE, 2: TRAINABLE, 3: TRAINABLE}, fixed=(5,), metrics=LINEAR),
}

"""The words of the figures: what a layer does, read from the ONNX ops of the layer.

The LeNet-5 paper's Figure 2 names the operation between two layers "Convolutions",
"Subsampling", "Full connection" and "Gaussian connections"; the diagrams caption their layers
the same way, and every other layer in the words a framework's documentation uses for it
(*global pooling*, *layer normalization*, *attention*, *embedding*, *activation*), never in ONNX
op types. A layer's kind comes from its ONNX ops (``Layer.op_types``), its output shape and its
parameter count, never from the table's Type column (which may show a framework's class name).

Every text a figure can show besides names and numbers is in one of two tables below:
:data:`PHRASES` (a caption and a noun per :class:`Kind`) and :class:`Word` (the labels' words).
:func:`phrases` lists them all, for a translation catalog to cover.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from ..summary import Layer
from ..shapes import Shape, numel


class Link(str, Enum):
    """How a layer's units connect to the layer before, as the figure draws it."""

    LOCAL = "local"  # a window of the input: a receptive field and its two converging edges
    FULL = "full"  # every input unit: edges from the whole of the input
    ONE_TO_ONE = "one-to-one"  # the same units, re-arranged or rescaled: a plain arrow


class Kind(str, Enum):
    """What a layer does. The value is an identifier; the words are in :data:`PHRASES`."""

    CONVOLUTION = "convolution"
    TRANSPOSED_CONVOLUTION = "transposed-convolution"
    SUBSAMPLING = "subsampling"  # an average pool, as the LeNet paper calls it
    MAX_POOLING = "max-pooling"
    GLOBAL_POOLING = "global-pooling"
    FULL_CONNECTION = "full-connection"
    GAUSSIAN_CONNECTIONS = "gaussian-connections"  # LeNet's Euclidean RBF output
    RECURRENT = "recurrent"
    ATTENTION = "attention"
    TRANSFORMER_BLOCK = "transformer-block"  # attention with its normalization and MLP
    SQUEEZE_AND_EXCITATION = "squeeze-and-excitation"  # channels rescaled by a pooled gate
    EMBEDDING = "embedding"  # rows of a learned table, looked up by index
    POSITION_EMBEDDING = "position-embedding"  # a learned table added, one row per position
    BATCH_NORMALIZATION = "batch-normalization"
    LAYER_NORMALIZATION = "layer-normalization"
    NORMALIZATION = "normalization"  # instance, group, local response, Lp
    SCALE_AND_SHIFT = "scale-and-shift"  # learned element-wise arithmetic (a folded BatchNorm)
    ACTIVATION = "activation"
    SUM = "sum"
    CONCATENATION = "concatenation"
    UPSAMPLING = "upsampling"
    PADDING = "padding"
    REDUCTION = "reduction"
    MASKING = "masking"
    ARITHMETIC = "arithmetic"
    SPLIT = "split"
    SELECTION = "selection"  # gather, slice, top-k: some of the input's elements
    TILING = "tiling"
    QUANTIZATION = "quantization"
    CONTROL_FLOW = "control-flow"
    TOKENIZATION = "tokenization"
    TREES = "trees"
    FOURIER = "fourier"
    RANDOM = "random"
    TEXT = "text"
    ENCODING = "encoding"  # a classic ML pipeline's features and labels (ai.onnx.ml)
    SUPPORT_VECTORS = "support-vectors"  # an SVM's kernel over its support vectors
    GRID_SAMPLING = "grid-sampling"  # values read at computed positions (a spatial transformer)
    DECODING = "decoding"  # encoded bytes to an image
    LOSS = "loss"
    TRAINING = "training"  # gradients and optimizer updates (the training domain)
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    DROPOUT = "dropout"
    IDENTITY = "identity"
    CONVERSION = "conversion"
    SHAPE_COMPUTATION = "shape-computation"
    OTHER = "other"

    @property
    def caption(self) -> str:
        """The words between two layers of a LeNet figure: ``convolutions``."""
        return PHRASES[self].caption

    @property
    def noun(self) -> str:
        """The word for one layer of the kind (a graph box, a legend): ``convolution``."""
        return PHRASES[self].noun

    @property
    def link(self) -> Link:
        return PHRASES[self].link


@dataclass(frozen=True)
class Phrase:
    caption: str  # what happens on the way into the layer, in the paper's plural
    noun: str  # one layer of the kind
    link: Link = Link.ONE_TO_ONE


_LOCAL, _FULL = Link.LOCAL, Link.FULL

# The table of phrases: every word a figure says of a layer.
PHRASES: dict[Kind, Phrase] = {
    Kind.CONVOLUTION: Phrase("convolutions", "convolution", _LOCAL),
    Kind.TRANSPOSED_CONVOLUTION: Phrase("transposed convolutions", "transposed convolution",
                                        _LOCAL),
    Kind.SUBSAMPLING: Phrase("subsampling", "subsampling", _LOCAL),
    Kind.MAX_POOLING: Phrase("max pooling", "max pooling", _LOCAL),
    Kind.GLOBAL_POOLING: Phrase("global pooling", "global pooling", _FULL),
    Kind.FULL_CONNECTION: Phrase("full connection", "full connection", _FULL),
    Kind.GAUSSIAN_CONNECTIONS: Phrase("Gaussian connections", "Gaussian connections", _FULL),
    Kind.RECURRENT: Phrase("recurrent", "recurrent", _FULL),
    Kind.ATTENTION: Phrase("attention", "attention", _FULL),
    Kind.TRANSFORMER_BLOCK: Phrase("transformer block", "transformer block", _FULL),
    Kind.SQUEEZE_AND_EXCITATION: Phrase("squeeze and excitation", "squeeze and excitation"),
    Kind.EMBEDDING: Phrase("embedding", "embedding"),
    Kind.POSITION_EMBEDDING: Phrase("position embedding", "position embedding"),
    Kind.BATCH_NORMALIZATION: Phrase("batch normalization", "batch normalization"),
    Kind.LAYER_NORMALIZATION: Phrase("layer normalization", "layer normalization"),
    Kind.NORMALIZATION: Phrase("normalization", "normalization"),
    Kind.SCALE_AND_SHIFT: Phrase("scale and shift", "scale and shift"),
    Kind.ACTIVATION: Phrase("activation", "activation"),
    Kind.SUM: Phrase("sum", "sum"),
    Kind.CONCATENATION: Phrase("concatenation", "concatenation"),
    Kind.UPSAMPLING: Phrase("upsampling", "upsampling"),
    Kind.PADDING: Phrase("padding", "padding"),
    Kind.REDUCTION: Phrase("reduction", "reduction"),
    Kind.MASKING: Phrase("masking", "masking"),
    Kind.ARITHMETIC: Phrase("arithmetic", "arithmetic"),
    Kind.SPLIT: Phrase("split", "split"),
    Kind.SELECTION: Phrase("selection", "selection"),
    Kind.TILING: Phrase("tiling", "tiling"),
    Kind.QUANTIZATION: Phrase("quantization", "quantization"),
    Kind.CONTROL_FLOW: Phrase("control flow", "control flow"),
    Kind.TOKENIZATION: Phrase("tokenization", "tokenization"),
    Kind.TREES: Phrase("decision trees", "decision trees"),
    Kind.FOURIER: Phrase("Fourier transform", "Fourier transform"),
    Kind.RANDOM: Phrase("random sampling", "random sampling"),
    Kind.TEXT: Phrase("text processing", "text processing"),
    Kind.ENCODING: Phrase("feature encoding", "feature encoding"),
    Kind.SUPPORT_VECTORS: Phrase("support vector machine", "support vector machine", _FULL),
    Kind.GRID_SAMPLING: Phrase("grid sampling", "grid sampling"),
    Kind.DECODING: Phrase("image decoding", "image decoding"),
    Kind.LOSS: Phrase("loss", "loss", _FULL),
    Kind.TRAINING: Phrase("training step", "training step"),
    Kind.FLATTEN: Phrase("flatten", "flatten"),
    Kind.RESHAPE: Phrase("reshape", "reshape"),
    Kind.DROPOUT: Phrase("dropout", "dropout"),
    Kind.IDENTITY: Phrase("identity", "identity"),
    Kind.CONVERSION: Phrase("type conversion", "type conversion"),
    Kind.SHAPE_COMPUTATION: Phrase("shape computation", "shape computation"),
    Kind.OTHER: Phrase("other operations", "other operations"),
}


class Word(str, Enum):
    """The other words of the figures; the value is the English text."""

    INPUT = "INPUT"  # the first drawing, as the paper labels it
    FEATURE_MAPS = "feature maps"  # a layer of maps: "C1: feature maps"
    LAYER = "layer"  # a layer of units: "F6: layer"
    SEQUENCE = "sequence"  # a layer of tokens: "encoder: sequence"
    POOLING = "pooling"  # a legend's word for every kind of pooling
    OTHER = "other"  # a legend's word for every layer of no colour of its own
    LAYER_GRAPH = "layer graph of {n} layers"  # the description of a graph figure
    BLOCKS = "3D blocks of {n} layers"  # the description of a blocks figure


Translate = Callable[[str], str]  # a figure's word -> the page's language (Sphinx's catalog)


def same(text: str) -> str:
    """The figures' words as they are: English."""
    return text


def phrases() -> tuple[str, ...]:
    """Every text of :data:`PHRASES` and :class:`Word`, once each, in table order."""
    texts = [t for p in PHRASES.values() for t in (p.caption, p.noun)]
    texts += [w.value for w in Word]
    return tuple(dict.fromkeys(texts))


# ---------------------------------------------------------------------------------------------
# From ops to a kind. The op families: each set names ONNX (and onnxruntime contrib) op types.

# The op that makes a layer what it is, first match in the layer's op order.
_BY_OP = {
    "Conv": Kind.CONVOLUTION, "ConvInteger": Kind.CONVOLUTION, "QLinearConv": Kind.CONVOLUTION,
    "FusedConv": Kind.CONVOLUTION, "NhwcConv": Kind.CONVOLUTION, "DeformConv": Kind.CONVOLUTION,
    "CausalConvWithState": Kind.CONVOLUTION,
    "ConvTranspose": Kind.TRANSPOSED_CONVOLUTION,
    "AveragePool": Kind.SUBSAMPLING, "LpPool": Kind.SUBSAMPLING,
    "QLinearAveragePool": Kind.SUBSAMPLING,
    "MaxPool": Kind.MAX_POOLING, "MaxRoiPool": Kind.MAX_POOLING,
    "GlobalAveragePool": Kind.GLOBAL_POOLING, "GlobalMaxPool": Kind.GLOBAL_POOLING,
    "GlobalLpPool": Kind.GLOBAL_POOLING, "QLinearGlobalAveragePool": Kind.GLOBAL_POOLING,
    "Gemm": Kind.FULL_CONNECTION, "MatMul": Kind.FULL_CONNECTION,
    "MatMulInteger": Kind.FULL_CONNECTION, "QLinearMatMul": Kind.FULL_CONNECTION,
    "QGemm": Kind.FULL_CONNECTION, "Einsum": Kind.FULL_CONNECTION,
    "FusedGemm": Kind.FULL_CONNECTION, "FusedMatMul": Kind.FULL_CONNECTION,
    "GemmFastGelu": Kind.FULL_CONNECTION, "MatMulNBits": Kind.FULL_CONNECTION,
    "DynamicQuantizeMatMul": Kind.FULL_CONNECTION, "MatMulIntegerToFloat": Kind.FULL_CONNECTION,
    "LinearClassifier": Kind.FULL_CONNECTION, "LinearRegressor": Kind.FULL_CONNECTION,
    "LSTM": Kind.RECURRENT, "GRU": Kind.RECURRENT, "RNN": Kind.RECURRENT,
    "DynamicQuantizeLSTM": Kind.RECURRENT,
    "SVMClassifier": Kind.SUPPORT_VECTORS, "SVMRegressor": Kind.SUPPORT_VECTORS,
    "GridSample": Kind.GRID_SAMPLING, "AffineGrid": Kind.GRID_SAMPLING,
    "ImageDecoder": Kind.DECODING,
    "NegativeLogLikelihoodLoss": Kind.LOSS, "SoftmaxCrossEntropyLoss": Kind.LOSS,
    "Gradient": Kind.TRAINING, "Adagrad": Kind.TRAINING, "Adam": Kind.TRAINING,
    "Momentum": Kind.TRAINING,
    "EmbedLayerNormalization": Kind.EMBEDDING, "QEmbedLayerNormalization": Kind.EMBEDDING,
}
_ATTENTION = frozenset({"Attention", "MultiHeadAttention", "QAttention", "GroupQueryAttention",
                        "PackedAttention", "PackedMultiHeadAttention", "RotaryEmbedding",
                        "LinearAttention", "FlexAttention"})
_PRODUCTS = frozenset({"MatMul", "Einsum", "QLinearMatMul", "FusedMatMul", "MatMulInteger"})
_HEADS = frozenset({"Transpose", "Reshape", "Split", "Slice", "Gather", "Mul", "Div"})
_LAYER_NORMS = frozenset({"LayerNormalization", "SimplifiedLayerNormalization",
                          "SkipLayerNormalization", "SkipSimplifiedLayerNormalization",
                          "RMSNormalization"})
_OTHER_NORMS = frozenset({"InstanceNormalization", "GroupNormalization", "GroupNorm",
                          "SkipGroupNorm", "LRN", "LpNormalization", "Normalizer",
                          "MeanVarianceNormalization"})
_NORMS = _LAYER_NORMS | _OTHER_NORMS | {"BatchNormalization"}
_MOVES = frozenset({"Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity",
                    "Dropout", "Cast", "CastLike", "SpaceToDepth"})
_ACTIVATIONS = frozenset({
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softmax",
    "LogSoftmax", "Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus", "Softsign", "Clip",
    "ThresholdedRelu", "Swish", "Shrink", "Erf", "FastGelu", "BiasGelu", "QuickGelu",
    "BiasSplitGelu", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearSoftmax", "Hardmax",
    "SwiGLU"})
_SUMS = frozenset({"Add", "Sum", "QLinearAdd", "BiasAdd"})
_ARITHMETIC = frozenset({
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal",
    "Floor", "Ceil", "Round", "Max", "Min", "Mod", "Sign", "Sin", "Cos", "Tan", "CumSum",
    "Mean", "Sum", "BitShift", "QLinearMul", "BiasAdd", "Scaler", "Asin", "Acos", "Atan",
    "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "CumProd", "Det", "BitwiseAnd", "BitwiseOr",
    "BitwiseXor", "BitwiseNot"})
_REDUCTIONS = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                         "ReduceSumSquare", "QLinearReduceMean"})
_SQUARED_DISTANCE = frozenset({"Sub", "Mul", "Pow", "ReduceSum", "ReduceSumSquare"})
_GLOBAL_POOLS = frozenset({"GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax"})
_POOLING_REDUCTIONS = frozenset({"ReduceMean", "ReduceMax", "QLinearReduceMean"})
_COMPARISONS = frozenset({"And", "Or", "Not", "Xor", "Equal", "Less", "LessOrEqual", "Greater",
                          "GreaterOrEqual", "Where", "QLinearWhere", "IsNaN", "IsInf"})
_SELECTIONS = frozenset({"Gather", "GatherElements", "GatherND", "Slice", "Compress", "TopK",
                         "ArgMax", "ArgMin", "NonZero", "Unique", "NonMaxSuppression",
                         "RoiAlign", "ReverseSequence", "Scatter", "ScatterElements",
                         "ScatterND", "OneHot", "Trilu", "TensorScatter"})
_SPLITS = frozenset({"Split", "SplitToSequence"})
_TILINGS = frozenset({"Expand", "Tile"})
_CONCATS = frozenset({"Concat", "QLinearConcat", "ConcatFromSequence"})
_UPSAMPLINGS = frozenset({"Resize", "Upsample", "DepthToSpace", "MaxUnpool"})
_QUANTIZATIONS = frozenset({"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
_CONTROL = frozenset({"If", "Loop", "Scan"})
_TOKENIZERS = frozenset({"SentencepieceTokenizer", "BertTokenizer", "WordpieceTokenizer",
                         "BasicTokenizer", "GPT2Tokenizer", "CLIPTokenizer"})
_TREES = frozenset({"TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble"})
_FOURIER = frozenset({"DFT", "STFT", "HannWindow", "HammingWindow", "BlackmanWindow",
                      "MelWeightMatrix"})  # a spectrogram's transform, windows, mel filters
_RANDOM = frozenset({"Bernoulli", "Multinomial", "RandomNormal", "RandomNormalLike",
                     "RandomUniform", "RandomUniformLike"})
_TEXT = frozenset({"StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch"})
_ENCODINGS = frozenset({"LabelEncoder", "OneHotEncoder", "Binarizer", "CastMap",
                        "FeatureVectorizer", "ArrayFeatureExtractor", "ZipMap", "DictVectorizer",
                        "Imputer", "CategoryMapper", "TfIdfVectorizer"})
_SHAPES = frozenset({"Shape", "Size", "Range", "Constant", "ConstantOfShape", "EyeLike"})

# After the rules below, the first family the layer has an op of names it.
_FAMILIES: tuple[tuple[frozenset[str], Kind], ...] = (
    (_NORMS - _LAYER_NORMS - {"BatchNormalization"}, Kind.NORMALIZATION),
    (_CONCATS, Kind.CONCATENATION),
    (_UPSAMPLINGS, Kind.UPSAMPLING),
    (frozenset({"Pad", "CenterCropPad"}), Kind.PADDING),
    (_ACTIVATIONS, Kind.ACTIVATION),
    (_REDUCTIONS, Kind.REDUCTION),
    (_COMPARISONS, Kind.MASKING),
    (_ARITHMETIC, Kind.ARITHMETIC),
    (_SPLITS, Kind.SPLIT),
    (_SELECTIONS, Kind.SELECTION),
    (_TILINGS, Kind.TILING),
    (_QUANTIZATIONS, Kind.QUANTIZATION),
    (_CONTROL, Kind.CONTROL_FLOW),
    (_TOKENIZERS, Kind.TOKENIZATION),
    (_TREES, Kind.TREES),
    (_FOURIER, Kind.FOURIER),
    (_RANDOM, Kind.RANDOM),
    (_TEXT, Kind.TEXT),
    (_ENCODINGS, Kind.ENCODING),
    (frozenset({"Flatten"}), Kind.FLATTEN),
    (frozenset({"Reshape", "Transpose", "Squeeze", "Unsqueeze", "SpaceToDepth", "Col2Im"}),
     Kind.RESHAPE),
    (frozenset({"Dropout"}), Kind.DROPOUT),
    (frozenset({"Cast", "CastLike", "BitCast"}), Kind.CONVERSION),
    (frozenset({"Identity"}), Kind.IDENTITY),
    (_SHAPES, Kind.SHAPE_COMPUTATION),
)


def kind_of(op_types: Iterable[str], output: Shape | None = None,
            params: int | None = 0) -> Kind:
    """What a layer made of ``op_types`` (its ONNX ops, in order) does, given its output shape
    and its parameter count (None: not known)."""
    ops = tuple(op_types)
    present = frozenset(ops)
    learned = bool(params)
    if {"Sub", "ReduceSum"} <= present and present & {"Mul", "Pow"} \
            and present <= _SQUARED_DISTANCE | _MOVES:
        # LeNet's output: y_i = sum_j (x_j - w_ij)^2, a Sub, a square and a ReduceSum.
        return Kind.GAUSSIAN_CONNECTIONS
    if ops and ops[0] in _GLOBAL_POOLS and present & {"Conv", "Gemm", "MatMul"} \
            and present & {"Sigmoid", "HardSigmoid"} and "Mul" in present:
        # pooled, two small layers, a sigmoid that scales the input's channels
        return Kind.SQUEEZE_AND_EXCITATION
    if present & _ATTENTION or _is_attention(present, output):
        rest = present & (_NORMS | {"ReduceMean"})
        return Kind.TRANSFORMER_BLOCK if rest else Kind.ATTENTION
    for op in ops:
        if op in _BY_OP:
            return _BY_OP[op]
    if present & {"Gather", "GatherND"} and learned and not (
            ops and ops[0] in _LAYER_NORMS):  # (a norm, then a row selected: a norm)
        return Kind.EMBEDDING  # rows of a learned table
    if present & _LAYER_NORMS or _is_decomposed_norm(present):
        return Kind.LAYER_NORMALIZATION
    if _is_decomposed_lp_norm(present):
        return Kind.NORMALIZATION
    if "BatchNormalization" in present:
        return Kind.BATCH_NORMALIZATION
    if present & _POOLING_REDUCTIONS and present <= _POOLING_REDUCTIONS | _MOVES \
            and _is_pooled(output):
        return Kind.GLOBAL_POOLING  # a mean or max over the whole map: the dynamo exports'
    if present <= _SUMS | _MOVES and present & _SUMS:
        if learned and output is not None and len(output) >= 3 and numel(output[1:]) == params:
            return Kind.POSITION_EMBEDDING  # a learned value for every position and unit
        return Kind.SUM
    if present <= _SUMS | _ACTIVATIONS | _MOVES and present & _SUMS and not learned:
        return Kind.SUM  # a residual join and its activation
    if _is_mean_pooling(present, output):
        return Kind.GLOBAL_POOLING  # a (masked) mean over the tokens: a sentence's embedding
    if learned and present <= _ARITHMETIC | _ACTIVATIONS | _MOVES and present & {"Mul", "Div"}:
        return Kind.SCALE_AND_SHIFT  # a BatchNorm written as arithmetic, a learned scale
    for family, kind in _FAMILIES:
        if present & family:
            return _flat(kind, present, output)
    return Kind.OTHER


def _flat(kind: Kind, present: frozenset[str], output: Shape | None) -> Kind:
    """A reshape to one dim per sample is a flatten (Keras' Flatten is Transpose+Reshape)."""
    if kind is Kind.RESHAPE and present <= _MOVES and output is not None and len(output) == 2:
        return Kind.FLATTEN
    return kind


def _is_attention(present: frozenset[str], output: Shape | None) -> bool:
    """Scores (a product), their softmax, heads split and merged: scaled dot-product attention.
    A Dense layer with a softmax (a classifier's head) has no heads and a flat output."""
    return ("Softmax" in present and bool(present & _PRODUCTS) and bool(present & _HEADS)
            and output is not None and len(output) >= 3)


def _is_decomposed_norm(present: frozenset[str]) -> bool:
    """LayerNorm (or RMSNorm) written as arithmetic: a mean, a square root of the variance."""
    return ("ReduceMean" in present and bool(present & {"Sqrt", "Reciprocal"})
            and present <= _ARITHMETIC | _REDUCTIONS | _MOVES)


def _is_decomposed_lp_norm(present: frozenset[str]) -> bool:
    """x / ||x||: a sum of squares, its square root (or reciprocal), a division."""
    return (bool(present & {"ReduceSum", "ReduceSumSquare", "ReduceL2"})
            and bool(present & {"Sqrt", "Reciprocal", "Div"})
            and present <= _ARITHMETIC | _REDUCTIONS | _MOVES)


def _is_mean_pooling(present: frozenset[str], output: Shape | None) -> bool:
    """A sum over the tokens divided by their count, to one vector per sample."""
    return (output is not None and len(output) == 2 and "ReduceSum" in present
            and "Div" in present
            and present <= _ARITHMETIC | _REDUCTIONS | _MOVES | _TILINGS | _CONCATS | {"Clip"})


def _is_pooled(output: Shape | None) -> bool:
    """Whether a reduction's output is one value per channel: ``[N, C, 1, 1]``, ``[N, C]``."""
    if output is None:
        return False
    return len(output) == 2 or (len(output) >= 3 and all(d == 1 for d in output[2:]))



def layer_kind(layer: Layer) -> Kind:
    """What a layer of a summary does."""
    return kind_of(layer.op_types, layer.output_shape, layer.params)

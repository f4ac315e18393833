"""param-count: the working, the JSON keys, symbols, Keras biases, shapes, print(model), bad input.

Counts, output shapes and MACs of whole networks against PyTorch are in
tests/golden/param-count.json (tests/oracle/gen_torch.py and gen_param_shapes.py).  Every
expected value here is worked out by hand in the test, never taken from the program.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from dlcalc import registry
from dlcalc.board import unshow
from dlcalc.core import as_sympy

GOLDEN = json.loads((Path(__file__).parent / "golden" / "param-count.json").read_text())["cases"]

LENET = ["--input", "1x32x32", "--layer", "conv2d out=6 k=5", "--layer", "relu", "--layer", "maxpool2d k=2",
         "--layer", "conv2d out=16 k=5", "--layer", "relu", "--layer", "maxpool2d k=2", "--layer", "flatten",
         "--layer", "linear out=120", "--layer", "relu", "--layer", "linear out=84", "--layer", "relu",
         "--layer", "linear out=10"]
# LeNet-5 by hand: 32 -5-> 28 -pool-> 14 -5-> 10 -pool-> 5; flatten 16·5·5 = 400
LENET_TOTAL = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
LENET_MACS = 6 * 25 * 28 * 28 + 16 * 6 * 25 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 10


def pc(*args: str, input: str | None = None):
    r = run_cli("param-count", *args, "--json", input=input)
    assert r.code == 0, r.stdout + r.stderr
    return r.json()["result"]


def test_text_shows_the_per_layer_working_and_the_general_formula():
    r = run_cli("param-count", "784", "256", "10")
    assert r.code == 0
    out = r.stdout
    assert "dense 784→256" in out and "dense 256→10" in out
    assert "N = Σ_{l=1}^{L} (nₗ₋₁ + 1)·nₗ" in out
    assert "(784 + 1)" in out and "(256 + 1)" in out
    # (784 + 1)·256 + (256 + 1)·10, worked by hand
    assert f"total = {785 * 256 + 257 * 10}" in out


def test_json_has_the_contract_keys():
    out = run_cli("param-count", "10", "10", "10", "10", "1", "--json").json()
    assert out["command"] == "param-count"
    assert set(out) >= {"inputs", "conventions", "steps", "result", "exact"}
    res = out["result"]
    assert res["total"] == 3 * 110 + 11 and res["trainable"] == 3 * 110 + 11
    assert res["non_learnable"] == 0
    assert res["output_shape"] == [1] and res["macs"] == 3 * 100 + 10
    assert [layer["total"] for layer in res["layers"]] == [110, 110, 110, 11]
    assert all({"name", "weights", "biases", "total", "output_shape", "macs"} <= set(layer)
               for layer in res["layers"])
    assert out["exact"]["total"] == "341"


def test_no_bias_drops_every_bias():
    out = pc("784", "256", "10", "--no-bias")
    assert out["total"] == 784 * 256 + 256 * 10
    assert all(layer["biases"] == 0 for layer in out["layers"])


def test_no_bias_applies_to_dense_layers_too_and_is_refused_where_nothing_has_one():
    out = pc("--layer", "dense in=5 out=3", "--layer", "conv1d in=3 out=2 k=2", "--no-bias")
    assert out["layers"][0]["biases"] == 0 and out["layers"][1]["biases"] == 2  # conv keeps its own
    r = run_cli("param-count", "--layer", "conv2d in=3 out=4 k=3", "--no-bias")
    assert r.code == 2 and "--no-bias" in r.stderr and "bias=false" in r.stderr
    r = run_cli("param-count", "--layer", "dense in=5 out=3 bias=true", "--no-bias")
    assert r.code == 2 and "conflicts with bias=true" in r.stderr


def test_a_symbolic_size_gives_an_expression():
    out = run_cli("param-count", "n", "10", "1", "--json").json()
    n = sympy.Symbol("n")
    assert sympy.sympify(out["result"]["total"]) - (10 * n + 21) == 0
    assert sympy.sympify(out["exact"]["total"]) == 10 * n + 21


def test_keras_lstm_keeps_one_bias_vector_per_gate():
    # Keras LSTM(units=h) on d inputs: 4·(d·h + h·h + h) parameters
    d, h = 10, 20
    assert pc("--layer", f"lstm in={d} hidden={h} biases=1")["total"] == 4 * (d * h + h * h + h)
    # a GRU with one bias vector is Keras's reset_after=False
    one = pc("--layer", f"gru in={d} hidden={h} reset_after=false layers=2")["total"]
    assert one == 3 * (d * h + h * h + h) + 3 * (h * h + h * h + h)
    # Keras's GRU on TF2 (reset_after=True) keeps two, as PyTorch
    assert pc("--layer", f"gru in={d} hidden={h} reset_after=true")["total"] == 3 * (d * h + h * h + 2 * h)


def test_conventions_say_which_keras_counts_differ():
    conv = run_cli("param-count", "--layer", "gru in=3 hidden=4", "--json").json()["conventions"]
    assert "GRU on TF2" in conv["biases"] and "reset_after=True" in conv["biases"]
    assert "total + non_learnable" in conv["buffers"]


def test_check_does_not_call_the_pytorch_count_of_a_gru_a_keras_mistake():
    d, h = 10, 20
    one_bias = 3 * (d * h + h * h + h)
    r = run_cli("param-count", "--layer", f"gru in={d} hidden={h}", "--check", f"total={one_bias}", "--json")
    verdict = r.json()["check"]["total"]
    assert r.code == 1 and "Keras vs PyTorch" not in (verdict["mistake"] or "")
    assert "reset_after=False" in verdict["mistake"]
    pytorch = 3 * (d * h + h * h + 2 * h)
    r = run_cli("param-count", "--layer", f"gru in={d} hidden={h} biases=1", "--check", f"total={pytorch}",
                "--json")
    assert r.json()["check"]["total"]["mistake"] is None


def test_batch_norm_buffers_are_reported_not_counted():
    out = pc("--layer", "bn c=16")
    assert out["total"] == 32 and out["non_learnable"] == 32
    text = run_cli("param-count", "--layer", "bn c=16").stdout
    assert "buffers" in text


def test_latex_is_an_align_block():
    r = run_cli("param-count", "784", "256", "10", "--latex")
    assert r.code == 0
    assert r.stdout.startswith("\\begin{align*}") and r.stdout.rstrip().endswith("\\end{align*}")
    assert "203530" in r.stdout
    r = run_cli("param-count", *LENET, "--latex")
    assert r.code == 0 and r"\left\lfloor" in r.stdout


# --------------------------------------------------------------------------- shapes


def test_lenet5_with_inferred_sizes():
    out = pc(*LENET)
    assert out["total"] == LENET_TOTAL == 61706
    assert out["output_shape"] == [10] and out["macs"] == LENET_MACS
    shapes = [layer["output_shape"] for layer in out["layers"]]
    assert shapes[:7] == [[6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 10, 10], [16, 5, 5], [400]]
    assert out["layers"][7]["name"] == "dense"  # a convolutional network: the table names the kind
    # receptive field: 5, then +1·1 (pool 2), then +4·2 (conv 5 after a stride 2), then +1·2
    assert [layer.get("receptive_field") for layer in out["layers"][:6]] == [5, None, 6, 14, None, 16]


def test_the_floor_of_a_non_whole_quotient_is_shown():
    r = run_cli("param-count", "--input", "3x224x224", "--layer", "conv2d out=96 k=11 stride=4")
    assert r.code == 0
    assert "(224 − 11)/4 + 1 = 54.25 is not whole: PyTorch floors it to 54" in r.stdout
    assert "⌊(224 + 2·0 - 1·(11 - 1) - 1)/4⌋ + 1" in r.stdout
    out = pc("--input", "3x224x224", "--layer", "conv2d out=96 k=11 stride=4")
    assert out["output_shape"] == [96, (224 - 11) // 4 + 1, (224 - 11) // 4 + 1]


def test_ceil_mode_rounds_up_and_drops_a_window_that_starts_in_the_padding():
    assert pc("--input", "96x54x54", "--layer", "maxpool2d k=3 stride=2 ceil_mode=true")["output_shape"] == \
        [96, 27, 27]  # ⌈51/2⌉ + 1
    # ⌈(5 + 2 − 1 − 1)/2⌉ + 1 = 4, but (4 − 1)·2 = 6 ≥ 5 + 1: the last window is dropped
    out = run_cli("param-count", "--input", "3x5x5", "--layer", "maxpool2d k=2 padding=1 ceil_mode=true", "--json")
    assert out.json()["result"]["output_shape"] == [3, 3, 3]
    assert any("dropped" in s["title"] for s in out.json()["steps"])


def test_non_square_kernels_strides_and_paddings():
    # k=(3,5) stride (1,2) padding (1,2) on 3x10x11: H = 10 + 2 − 3 + 1 = 10, W = ⌊(11 + 4 − 5)/2⌋ + 1 = 6
    for k in ("k=3x5", "k=(3,5)", "k=(3, 5)", "kernel_size=3x5"):
        out = pc("--input", "3x10x11", "--layer", f"conv2d out=4 {k} stride=1x2 padding=(1,2)")
        assert out["output_shape"] == [4, 10, 6], k
        assert out["total"] == 4 * 3 * 15 + 4 and out["macs"] == 4 * 3 * 15 * 10 * 6
        assert out["layers"][0]["receptive_field"] == [3, 5]


def test_padding_same_and_valid_dilation_and_groups():
    out = pc("--input", "8x9x9", "--layer", "conv2d out=8 k=3 padding=same dilation=2 groups=4")
    assert out["output_shape"] == [8, 9, 9] and out["total"] == 8 * 2 * 9 + 8
    assert out["layers"][0]["receptive_field"] == 1 + 2 * 2  # d(k − 1) + 1
    out = pc("--input", "8x9x9", "--layer", "conv2d out=8 k=3 padding=valid dilation=2")
    assert out["output_shape"] == [8, 9 - 4, 9 - 4]


def test_transposed_convolution_and_upsampling():
    # (8 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 16
    out = pc("--input", "4x8x8", "--layer", "convtranspose2d out=2 k=3 stride=2 padding=1 output_padding=1",
             "--layer", "upsample scale=1.5")
    assert out["layers"][0]["output_shape"] == [2, 16, 16]
    assert out["layers"][0]["total"] == 4 * 2 * 9 + 2 and out["macs"] == 4 * 2 * 9 * 8 * 8
    assert out["output_shape"] == [2, 24, 24]


def test_conv3d_and_one_d_kinds():
    out = pc("--input", "2x8x8x8", "--layer", "conv3d out=4 k=3 padding=1", "--layer", "maxpool3d k=2")
    assert out["output_shape"] == [4, 4, 4, 4] and out["total"] == 4 * 2 * 27 + 4
    out = pc("--input", "16x100", "--layer", "conv1d out=8 k=5 stride=2", "--layer", "avgpool1d k=2")
    assert out["output_shape"] == [8, 24]  # ⌊95/2⌋ + 1 = 48, then 24


def test_linear_on_a_sequence_applies_to_the_last_dimension():
    out = pc("--input", "7x16", "--layer", "linear out=4")
    assert out["output_shape"] == [7, 4] and out["macs"] == 7 * 16 * 4


def test_a_dense_layer_after_a_feature_map_is_flattened_when_in_says_so():
    out = pc("--input", "16x5x5", "--layer", "dropout", "--layer", "dense in=400 out=10")
    assert out["total"] == 4010 and out["layers"][0]["output_shape"] == [400]


def test_the_new_layer_kinds_count_as_pytorch():
    d = 12
    cases = [
        ("prelu c=8", "8x4x4", 8), ("groupnorm groups=2", "8x4x4", 16), ("rmsnorm", "5x12", 12),
        ("layernorm bias=false", "5x12", 12), ("layernorm d=4x12", "3x4x12", 2 * 48),
        ("batchnorm2d affine=false", "8x4x4", 0), ("instancenorm2d affine=true", "8x4x4", 16),
        (f"attention heads=3 kdim=4 vdim=6", f"5x{d}", 2 * d * d + d * 4 + d * 6 + 4 * d),
        (f"multiheadattention embed_dim={d} num_heads=2 add_bias_kv=true bias=false", f"5x{d}", 4 * d * d + 2 * d),
        # LSTM with projection r: 4h·x + 4h·r + r·h + 2·4h per direction
        ("lstm hidden=6 proj_size=2", "5x3", 4 * 6 * 3 + 4 * 6 * 2 + 2 * 6 + 2 * 4 * 6),
        ("lstm input_size=3 hidden_size=6 num_layers=2", "5x3",
         4 * 6 * (3 + 6) + 8 * 6 + 4 * 6 * (6 + 6) + 8 * 6),
        ("adaptiveavgpool2d out=2", "3x8x8", 0), ("softmax", "10", 0), ("gelu", "10", 0),
    ]
    for spec, shape, total in cases:
        assert pc("--input", shape, "--layer", spec)["total"] == total, spec


def test_a_model_without_learnable_layers_has_total_zero():
    assert pc("--layer", "maxpool2d k=2")["total"] == 0
    out = pc("--input", "1x4x4", "--layer", "maxpool2d k=2")
    assert out["total"] == 0 and out["output_shape"] == [1, 2, 2] and out["macs"] == 0


def test_repeat_gives_that_many_layers():
    out = pc("--input", "3x8x8", "--layer", "conv2d out=4 k=3 padding=1 repeat=3")
    assert len(out["layers"]) == 3
    assert out["total"] == (4 * 3 * 9 + 4) + 2 * (4 * 4 * 9 + 4)
    r = run_cli("param-count", "--input", "3x8x8", "--layer", "conv2d in=3 out=4 k=3 repeat=2")
    assert r.code == 2 and "in=3 but the input's channel count is 4" in r.stderr


def test_frozen_layers_are_not_trainable():
    out = pc("784", "256", "--layer", "dense in=256 out=10 frozen=true")
    assert out["total"] == 785 * 256 + 2570 and out["trainable"] == 785 * 256


def test_inferred_sizes_are_checked_when_given():
    r = run_cli("param-count", "--input", "3x8x8", "--layer", "conv2d in=4 out=2 k=3")
    assert r.code == 2 and "in=4 but the input's channel count is 3" in r.stderr
    r = run_cli("param-count", "784", "10", "--input", "785")
    assert r.code == 2 and "--input" in r.stderr


def test_symbolic_input_sizes_stay_symbolic():
    out = run_cli("param-count", "--input", "3xHxH", "--layer", "conv2d out=2 k=3", "--json").json()
    h = sympy.Symbol("H")
    assert sympy.sympify(out["exact"]["output_shape"])[1] == sympy.floor(h - 3) + 1


# --------------------------------------------------------------------------- print(model)

ISSUE_EXAMPLE = ("Sequential((0): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1)) (1): BatchNorm2d(8, eps=1e-05, "
                 "momentum=0.1, affine=True, track_running_stats=True) (2): ReLU() (3): Flatten(start_dim=1, "
                 "end_dim=-1) (4): Linear(in_features=5408, out_features=10, bias=True))")
ISSUE_TOTAL = (8 * 9 + 8) + 16 + (5408 * 10 + 10)


def test_from_torch_reads_the_issue_example():
    out = pc("--from-torch", ISSUE_EXAMPLE, "--input", "1x28x28")
    assert out["total"] == ISSUE_TOTAL and out["non_learnable"] == 16
    assert out["layers"][3]["output_shape"] == [8 * 26 * 26] and out["output_shape"] == [10]
    assert out["layers"][0]["name"] == "0: conv2d"


def test_from_torch_reads_a_file_and_standard_input(tmp_path):
    f = tmp_path / "model.txt"
    f.write_text(ISSUE_EXAMPLE)
    assert pc("--from-torch", f"@{f}")["total"] == ISSUE_TOTAL
    assert pc("--from-torch", "-", input=ISSUE_EXAMPLE)["total"] == ISSUE_TOTAL


def test_from_torch_nested_named_and_repeated_children():
    text = """Net(
  (encoder): Sequential(
    (conv1): Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
    (act): ModuleDict(
      (a): ReLU()
    )
  )
  (heads): ModuleList(
    (0-2): 3 x Linear(in_features=4, out_features=4, bias=True)
  )
  (attn): MultiheadAttention(
    (out_proj): NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)
  )
)"""
    out = pc("--from-torch", text)
    assert out["total"] == 4 * 3 * 9 + 3 * (16 + 4) + (4 * 16 + 4 * 4)
    assert [layer["name"].split(":")[0] for layer in out["layers"]] == [
        "encoder.conv1", "encoder.act.a", "heads.0", "heads.1", "heads.2", "attn"]


def test_from_torch_follows_a_downsample_shortcut_from_the_block_input():
    text = """Block(
  (conv1): Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
  (bn1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (downsample): Sequential(
    (0): Conv2d(4, 8, kernel_size=(1, 1), stride=(2, 2), bias=False)
  )
)"""
    out = pc("--from-torch", text, "--input", "4x8x8")
    assert out["layers"][2]["output_shape"] == [8, 4, 4] and out["output_shape"] == [8, 4, 4]
    bad = text.replace("stride=(2, 2), bias=False)\n  )", "stride=(1, 1), bias=False)\n  )")
    r = run_cli("param-count", "--from-torch", bad, "--input", "4x8x8")
    assert r.code == 2 and "shortcut" in r.stderr


@pytest.mark.parametrize("text,fragment", [
    ("Sequential((0): Foo(3))", "unknown module 'Foo' at 0"),
    ("Linear(in_features=3, out_features=4, colour=2)", "'colour'"),
    ("Sequential((0): ReLU()", "ends before"),
    ("Sequential() extra", "text after"),
    ("__import__('os').system('touch CANARY')", "--from-torch"),
    ("Sequential((0): " * 60 + "ReLU()" + ")" * 60, "deep"),
    ("Sequential(Sequential(ReLU()))", "has no layers"),
    ("", "--from-torch"),
    ("Sequential((0-1000000): 1000001 x ReLU())", "at most"),
    ("Conv2d(3, 4, kernel_size=(3, 3), padding=circular)", "padding"),
])
def test_from_torch_bad_text_is_a_clear_error(text, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run_cli("param-count", "--from-torch", text)
    assert r.code == 2 and fragment in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr + r.stdout
    assert not (tmp_path / "CANARY").exists()


def test_from_torch_is_not_combined_with_layers():
    r = run_cli("param-count", "--from-torch", ISSUE_EXAMPLE, "--layer", "relu")
    assert r.code == 2 and "cannot be combined" in r.stderr
    r = run_cli("param-count", "--from-torch", ISSUE_EXAMPLE, "--no-bias")
    assert r.code == 2 and "--no-bias" in r.stderr


def test_golden_print_texts_give_the_same_totals_as_the_specs():
    by_id = {c["id"]: c["expected"] for c in GOLDEN}
    for name, spec_id in (("lenet5", "lenet5"), ("alexnet", "alexnet"), ("unet-decoder", "unet-decoder"),
                          ("conv3d", "conv3d"), ("conv1d-pools-norms", "conv1d-pools-norms"),
                          ("vgg16", "vgg16-repeat")):
        spec, torch = by_id[f"shapes-{spec_id}"], by_id[f"torch-{name}"]
        assert (spec["total"], spec["output_shape"], spec["macs"]) == \
            (torch["total"], torch["output_shape"], torch["macs"]), name


# --------------------------------------------------------------------------- mistakes


def check(*args):
    r = run_cli("param-count", *args, "--json")
    assert r.code == 1, r.stdout + r.stderr
    return r.json()["check"]


def test_mistake_forgot_the_padding():
    args = ["--input", "3x32x32", "--layer", "conv2d out=4 k=3 padding=1", "--layer", "flatten",
            "--layer", "dense out=10"]
    conv = 4 * 3 * 9 + 4
    assert pc(*args)["total"] == conv + 4 * 32 * 32 * 10 + 10
    wrong = conv + 4 * 30 * 30 * 10 + 10  # no padding: 32 − 3 + 1 = 30
    assert check(*args, "--check", f"total={wrong}")["total"]["mistake"] == "forgot the padding"


def test_mistake_stride_applied_to_the_kernel():
    args = ["--input", "1x32x32", "--layer", "conv2d out=2 k=3 stride=2"]
    # right: ⌊(32 − 3)/2⌋ + 1 = 15; the kernel spread by the stride: ⌊(32 − 2·2 − 1)/2⌋ + 1 = 14
    assert pc(*args)["output_shape"] == [2, 15, 15]
    verdict = check(*args, "--check", "output_shape=[2, 14, 14]")["output_shape"]
    assert verdict["mistake"].startswith("applied the stride to the kernel")


def test_mistake_flattened_size_from_the_wrong_spatial_size():
    wrong = LENET_TOTAL - (400 * 120 + 120) + (16 * 10 * 10 * 120 + 120)  # before the last pooling
    verdict = check(*LENET, "--check", f"total={wrong}")["total"]
    assert verdict["mistake"] == "flattened the spatial size from before the last pooling or strided layer"


def test_mistake_counted_parameters_in_pooling():
    wrong = LENET_TOTAL + 2 * 6 + 2 * 16  # LeNet-5's subsampling: a coefficient and a bias per map
    verdict = check(*LENET, "--check", f"total={wrong}", "--rtol", "1e-9")["total"]
    assert verdict["mistake"].startswith("counted parameters in the pooling layers")
    assert verdict["departs_at"].startswith("layer 3")


def test_right_shapes_pass_the_check():
    r = run_cli("param-count", *LENET, "--check", "output_shape=[10]", "--check", f"macs={LENET_MACS}")
    assert r.code == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,fragment", [
    (["0", "3"], "SIZES size 1 (0) must be a positive whole number"),
    (["-3", "3"], "No such option"),
    (["2.5", "3"], "must be a positive whole number"),
    (["5"], "at least two"),
    ([], "missing"),
    (["--layer", "pool k=2"], "unknown kind 'pool'"),
    (["--layer", "dense in=3 out=4 colour=red"], "unknown key 'colour'"),
    (["--layer", "dense in=3"], "missing out="),
    (["--layer", "dense out=3"], "missing in= (or give --input"),
    (["--layer", "conv2d in=3 out=16 k=3 groups=2"], "groups=2 does not divide in=3"),
    (["--layer", "conv2d in=4 out=6 k=3 groups=4"], "groups=4 does not divide out=6"),
    (["--layer", "conv1d in=3 out=16 k=3x3"], "k must be one size"),
    (["--layer", "attention d=10 heads=3"], "heads=3 does not divide d=10"),
    (["--layer", "lstm in=3 hidden=4 biases=3"], "biases must be 2"),
    (["--layer", "dense in=3 out=4 bias=maybe"], "must be true or false"),
    (["--layer", "dense in=0 out=4"], "in must be a positive whole number"),
    (["--layer", "dense in=3 out=4 repeat=0"], "repeat must be a positive whole number"),
    (["--layer", "dense in=3 out=4 repeat=5000"], "repeat must be"),
    (["--input", "3x4x4", "--layer", "conv2d out=2 k=5"], "comes out 0 (≤ 0)"),
    (["--input", "3x9x9", "--layer", "conv2d out=2 k=3 stride=2 padding=same"], "padding='same' needs stride 1"),
    (["--input", "3x9x9", "--layer", "maxpool2d k=2 padding=2"], "more than half the kernel"),
    (["--input", "8", "--layer", "conv2d out=2 k=3"], "needs a C×H×W input"),
    (["--input", "3x8x8", "--layer", "flatten start_dim=0"], "batch dimension"),
    (["--input", "3x8x8", "--layer", "upsample scale=2 size=4"], "exactly one of scale= and size="),
    (["--input", "3x8x8", "--layer", "convtranspose2d out=2 k=3 stride=2 output_padding=2"], "output_padding"),
    (["--input", "10", "--layer", "gru hidden=4"], "needs a L×features"),
    (["--input", "5x10", "--layer", "gru hidden=4 reset_after=false biases=2"], "disagree"),
    (["--input", "3x3x3x3x3x3", "--layer", "relu"], "more than 5 dimensions"),
    (["--input", "0x3", "--layer", "relu"], "--input size 1 must be a positive whole number"),
    (["--input", "x" * 1000, "--layer", "relu"], "--input"),
    (["--input", "", "--layer", "relu"], "--input is empty"),
    (["--input", "4x8x8", "--layer", "groupnorm groups=3"], "groups=3 does not divide c=4"),
    (["--input", "3x8x8", "--layer", "layernorm d=5"], "d=5 but the input ends in 8"),
    (["--input", "3x8x8", "--layer", "maxpool2d k=2 ceil_mode=maybe"], "must be true or false"),
    (["--input", "3xHxH", "--layer", "maxpool2d k=2 ceil_mode=true"], "ceil_mode=true needs numeric sizes"),
])
def test_bad_input_is_exit_2_naming_the_option(args, fragment):
    r = run_cli("param-count", *args)
    assert r.code == 2
    assert fragment in r.stderr, r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert "Traceback" not in r.stderr + r.stdout
    j = run_cli("param-count", *args, "--json")
    assert j.code == 2 and fragment in j.json()["error"]["message"]


# --------------------------------------------------------------------------- properties

KINDS = ["dense", "linear", "conv1d", "conv2d", "conv3d", "convtranspose2d", "maxpool2d", "avgpool1d",
         "adaptiveavgpool2d", "flatten", "relu", "dropout", "prelu", "bn", "batchnorm2d", "groupnorm",
         "layernorm", "rmsnorm", "embedding", "lstm", "gru", "attention", "upsample", "pool", ""]
KEYS = ["in", "out", "k", "stride", "padding", "dilation", "groups", "bias", "c", "d", "n", "hidden",
        "layers", "heads", "kdim", "out_features", "kernel_size", "repeat", "ceil_mode", "output_padding",
        "scale", "start_dim", "proj_size", "frozen", "affine", "zz"]
VALUES = st.sampled_from(["0", "1", "2", "3", "7", "3x3", "(2, 3)", "same", "valid", "true", "false", "-1",
                          "n", "1e3", "x", "", "2.5", "9**9**9", "(", "1000"])
LAYER = st.builds(lambda k, kv: " ".join([k] + [f"{a}={b}" for a, b in kv]), st.sampled_from(KINDS),
                  st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=4))
SHAPE = st.one_of(st.none(), st.sampled_from(["3x8x8", "16x20", "2x6x6x6", "10", "1x1", "3xH", "0", "x", "5x7"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SHAPE, st.lists(LAYER, min_size=1, max_size=4))
def test_any_layers_and_input_exit_0_or_2_with_one_json_object(shape, layers):
    args = [a for spec in layers for a in ("--layer", spec)] + (["--input", shape] if shape else [])
    r = run_cli("param-count", *args, "--json")
    assert r.code in (0, 2), r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert ("error" in out) == (r.code == 2)
    if r.code == 0:  # every mistake's variant of a valid model solves or is an InputError
        r = run_cli("param-count", *args, "--check", "total=1", "--json")
        assert r.code in (0, 1) and "check" in json.loads(r.stdout)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("Sequential()Conv2d,=: 0123x\n'abLinear_ ")), max_size=80))
def test_any_print_text_exits_0_or_2_with_one_json_object(text):
    r = run_cli("param-count", "--from-torch", text, "--json")
    assert r.code in (0, 2), r.stdout + r.stderr
    assert ("error" in json.loads(r.stdout)) == (r.code == 2)


def _kwargs(args: list[str]) -> dict:
    kw = {"sizes": [], "layer": [], "input": None, "from_torch": None, "no_bias": False}
    it = iter(args)
    for a in it:
        if a == "--layer":
            kw["layer"].append(next(it))
        elif a in ("--input", "--from-torch"):
            kw[a.lstrip("-").replace("-", "_")] = next(it)
        elif a == "--no-bias":
            kw["no_bias"] = True
        else:
            kw["sizes"].append(a)
    return kw


STEP_CASES = [c["args"] for c in GOLDEN if c["id"].startswith(("shapes-", "torch-lenet", "torch-resnet-stem",
                                                                 "window-", "cnn-stack", "lstm", "mlp"))]
STEP_CASES += [LENET, ["n", "10", "1"], ["--input", "3xHxW", "--layer", "conv2d out=c k=3 stride=2",
                                        "--layer", "flatten", "--layer", "dense out=2"],
               ["--input", "3x5x5", "--layer", "maxpool2d k=2 padding=1 ceil_mode=true"],
               ["784", "256", "--layer", "dense in=256 out=10 frozen=true"]]


@pytest.mark.parametrize("args", STEP_CASES, ids=range(len(STEP_CASES)))
def test_every_substituted_line_evaluates_to_its_value(args):
    assert _substituted_lines_hold(args)


def _substituted_lines_hold(args) -> int:
    mod = registry.module("param-count")
    sol = mod.solve(mod.parse(**_kwargs(args)))
    checked = 0
    for s in sol.steps:
        if s.substituted is None or s.value is None:
            continue
        got, want = unshow(s.substituted), as_sympy(s.value)
        assert sympy.expand(got - want) == 0, (s.section, s.title, got, want)
        checked += 1
    return checked


def test_a_gru_with_one_bias_vector_says_what_that_is_in_keras():
    out = run_cli("param-count", "--layer", "gru in=3 hidden=4 biases=1", "--json").json()
    assert any("reset_after=False" in n and "TF2" in n for n in out["notes"])


VALID = st.sampled_from([
    "conv2d out=4 k=3", "conv2d out=4 k=3 padding=1", "conv2d out=2 k=3 stride=2", "conv2d out=4 k=1 padding=same",
    "maxpool2d k=2", "maxpool2d k=3 stride=2 ceil_mode=true", "avgpool2d k=2 padding=1", "bn", "relu",
    "convtranspose2d out=2 k=2 stride=2", "adaptiveavgpool2d out=2", "upsample scale=2", "dropout",
    "conv2d out=4 k=3 dilation=2 groups=2 bias=false", "groupnorm groups=1", "prelu", "flatten", "dense out=5",
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["3x16x16", "2x9x7", "4x5x5"]), st.lists(VALID, min_size=1, max_size=6))
def test_valid_looking_cnns_solve_and_check_without_crashing(shape, layers):
    args = ["--input", shape] + [a for spec in layers for a in ("--layer", spec)]
    r = run_cli("param-count", *args, "--check", "total=1", "--check", "macs=1", "--json")
    assert r.code in (0, 1, 2), r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert ("error" in out) == (r.code == 2)
    if r.code != 2:
        _substituted_lines_hold(args)


"""viz/fit.py and viz/font.py by hand: box sizes from the font's widths, ranks, and where a long
chain of layers is cut into bands."""

import pytest

from viz import fit
from viz.font import text_width
from viz.graph import Box, Drawing


def chain(layers=4, width_rows=1):
    """x -> (matmul, add, relu) per layer; a weight and a bias leaf feed each layer."""
    d = Drawing()
    prev = "x"
    d.boxes.append(Box("x", "value", [("x", "name")], "#fff"))
    for k in range(layers):
        for name in ("w", "b"):
            d.boxes.append(Box(f"{name}{k}", "value", [(f"layers.{k}.{name}", "name")], "#fff"))
        for op in ("matmul", "add", "relu"):
            box = Box(
                f"{op}{k}",
                "value",
                [("data μ=0.01 σ=0.3 [-0.9, 0.8]", "data")] * width_rows,
                "#fff",
            )
            box.group = f"layers.{k}"
            d.boxes.append(box)
        d.edges += [
            (prev, f"matmul{k}", ""),
            (f"w{k}", f"matmul{k}", ""),
            (f"matmul{k}", f"add{k}", ""),
            (f"b{k}", f"add{k}", ""),
            (f"add{k}", f"relu{k}", ""),
        ]
        prev = f"relu{k}"
    return d


def test_text_width_comes_from_the_font():
    assert text_width("0") == pytest.approx(6.36)  # DejaVu Sans digits: 0.636 em
    assert text_width("W", bold=True) > text_width("W") > text_width("i")
    assert text_width("μσ") == pytest.approx(text_width("μ") + text_width("σ"))
    assert text_width("\u4e00") == 10.0  # a character not in the table: one em, to be safe


def test_ranks_put_a_leaf_just_before_its_first_use():
    d = chain(3)
    r = fit.ranks(d)
    assert r["x"] == 0 and r["matmul0"] == 1 and r["relu2"] == max(r.values())
    assert r["w2"] == r["matmul2"] - 1 and r["b1"] == r["add1"] - 1  # not all at rank 0


def test_a_long_chain_is_cut_between_layers_into_bands_read_in_order():
    d = chain(4)
    options = fit.candidates(d, (1280, 720))
    rankdir, bands, scale = options[0]
    assert rankdir == "LR" and bands is not None
    flat = next(s for rd, b, s in options if rd == "LR" and b is None)
    assert scale > 1.5 * flat  # wrapped, the drawing is shown much larger
    # every layer lies in one band, with its leaves, and the bands follow the layers
    for k in range(4):
        assert len({bands[f"{n}{k}"] for n in ("w", "b", "matmul", "add", "relu")}) == 1
    order = [bands[f"matmul{k}"] for k in range(4)]
    assert order == sorted(order) and order[-1] > 0


def test_a_short_drawing_is_not_wrapped():
    d = chain(1)
    assert all(b is None for _, b, _ in fit.candidates(d, (1280, 720)))
    assert [rd for rd, _, _ in fit.candidates(d, (1280, 720), rankdir="TB")] == ["TB"]


def test_svg_scale_reads_graphviz_points():
    svg = '<svg width="1920pt" height="300pt" viewBox="0 0 1920 300">'
    assert fit.svg_scale(svg, (1280, 720)) == pytest.approx(0.5)
    assert fit.svg_scale("<svg>", (1280, 720)) == 0.0
    (lw, lh), (tw, th) = fit.extent(chain(2), "LR"), fit.extent(chain(2), "TB")
    assert lw > 3 * lh and th > tw  # a chain: long in its direction, narrow across

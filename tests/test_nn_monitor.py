"""nn.callbacks.Monitor: per-layer activation/gradient statistics and update:data ratios during
fit, checked against numbers computed by hand from the same model; and the viz plots of them."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import nn
import viz


def _data(n=64):
    x = np.random.default_rng(1).normal(size=(n, 2))
    return x, (x[:, :1] * x[:, 1:] > 0) * 1.0


def _model(act="tanh", width=16):
    nn.manual_seed(0)
    m = nn.Sequential(
        [
            nn.Dense(width, activation=act, input_shape=(2,)),
            nn.Dense(width, activation=act),
            nn.Dense(1),
        ]
    )
    m.compile(optimizer=nn.optim.SGD(lr=0.1), loss="mse")
    return m


def test_one_batch_records_match_a_hand_computation():
    x, y = _data()
    m = _model()
    pred = m.predict(x)  # before the step: what the recorded forward pass saw
    w0 = m.layers[0].weight.data.copy()
    mon = nn.callbacks.Monitor()
    m.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0, callbacks=[mon])
    (last,) = mon.layers["layers.2"]
    assert last["act"]["mean"] == pytest.approx(pred.mean(), rel=1e-5)
    # mse: dL/dpred = 2 (pred - y) / n
    assert last["grad"]["mean"] == pytest.approx((2 * (pred - y) / len(x)).mean(), rel=1e-4)
    (first,) = mon.layers["layers.0"]
    h = np.tanh(x @ w0 + m.layers[0].bias.data * 0)  # bias starts at 0
    assert first["act"]["std"] == pytest.approx(h.std(), rel=1e-4)
    assert first["saturated"] == pytest.approx((np.abs(h) > 0.97).mean())
    assert last["saturated"] is None  # a linear layer has no saturation


def test_update_ratio_of_plain_sgd_is_lr_times_grad_over_data():
    x, y = _data()
    m = _model()
    mon = nn.callbacks.Monitor(every=3)
    m.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[mon], seed=0)
    assert mon.steps == [2, 5]  # 8 batches, every third
    p = dict(m.named_parameters())["layers.1.weight"]
    rec = mon.params["layers.1.weight"][-1]
    # the last recorded step is the 6th of 8 batches, so compare the stored numbers themselves
    assert rec["ratio"] == pytest.approx(0.1 * rec["grad_std"] / rec["data_std"], rel=1e-3)
    assert p.data.std() > 0
    assert "forward" not in vars(m.layers[0])  # the wrapper is gone after fit


def test_saturation_rises_with_a_large_init():
    x, y = _data()
    shares = {}
    for scale in (0.1, 5.0):
        m = _model()
        for layer in m.layers[:2]:
            layer.weight.data *= scale
        mon = nn.callbacks.Monitor(every=1)
        m.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[mon], seed=0)
        shares[scale] = mon.series("layers.1", "saturated")[1][0]
    assert shares[0.1] < 0.05 and shares[5.0] > 0.5


def test_plots_show_the_recorded_numbers():
    x, y = _data()
    m = _model()
    mon = nn.callbacks.Monitor(every=2)
    m.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[mon], seed=0)
    fig = viz.plot_update_ratio(mon)
    ax = fig.axes[0]
    guide = [ln for ln in ax.lines if ln.get_label() == "guide 1e-3"]
    assert guide and set(guide[0].get_ydata()) == {-3}
    w1 = [ln for ln in ax.lines if ln.get_label() == "layers.1.weight"][0]
    expect = [np.log10(r["ratio"]) for r in mon.params["layers.1.weight"]]
    assert np.allclose(w1.get_ydata(), expect)
    sat = viz.plot_saturation(mon).axes[0]
    assert len(sat.lines) == 2  # the two tanh layers, not the linear one
    assert np.allclose(
        sat.lines[0].get_ydata(), [100 * s for s in mon.series("layers.0", "saturated")[1]]
    )
    act = viz.plot_activations(mon).axes[0]
    counts, _ = mon.layers["layers.0"][-1]["act"]["hist"]
    assert np.array_equal(act.lines[0].get_ydata(), counts)
    assert "saturated" in act.lines[0].get_label()
    assert len(viz.plot_gradients(mon, step=0).axes[0].lines) == 3


def test_clear_errors():
    with pytest.raises(ValueError, match="every must be"):
        nn.callbacks.Monitor(every=0)
    with pytest.raises(ValueError, match="no records yet"):
        viz.plot_activations(nn.callbacks.Monitor())
    m = _model("relu")
    x, y = _data()
    mon = nn.callbacks.Monitor(layers=["layers.0"])
    m.fit(x, y, epochs=1, verbose=0, callbacks=[mon])
    with pytest.raises(ValueError, match="no tanh or sigmoid"):
        viz.plot_saturation(mon)
    with pytest.raises(ValueError, match=r"no layers \['layers.9'\]"):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[nn.callbacks.Monitor(layers=["layers.9"])])
    with pytest.raises(KeyError, match="no records for layer"):
        mon.series("layers.1", "act_mean")


def _deep(act="sigmoid", depth=11):
    nn.manual_seed(0)
    layers = [nn.Dense(4, activation=act, input_shape=(2,))]
    layers += [nn.Dense(4, activation=act) for _ in range(depth - 1)] + [nn.Dense(1)]
    m = nn.Sequential(layers)
    m.compile(optimizer=nn.optim.SGD(lr=0.1), loss="mse")
    x, y = _data()
    mon = nn.callbacks.Monitor(every=2)
    m.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[mon], seed=0)
    return mon


def test_each_layer_has_its_own_colour_in_every_plot():
    from matplotlib.colors import to_rgba

    for depth in (2, 11):  # ten colours of the cycle, or (more layers) spaced along viridis
        mon = _deep(depth=depth)
        n = depth + 1
        act = viz.plot_activations(mon).axes[0]
        by_layer = {ln.get_label().split()[0]: to_rgba(ln.get_color()) for ln in act.lines}
        assert len(by_layer) == n and len(set(by_layer.values())) == n
        upd = viz.plot_update_ratio(mon).axes[0]
        weights = [ln for ln in upd.lines if ln.get_label().endswith(".weight")]
        assert len(weights) == n
        for ln in weights:  # a weight has its layer's colour
            assert to_rgba(ln.get_color()) == by_layer[ln.get_label().rsplit(".", 1)[0]]
        sat = viz.plot_saturation(mon).axes[0]
        for ln in sat.lines:
            assert to_rgba(ln.get_color()) == by_layer[ln.get_label().split()[0]]
    both = viz.plot_update_ratio(mon, weights_only=False).axes[0]
    styles = {ln.get_label(): ln.get_linestyle() for ln in both.lines}
    assert styles["layers.0.weight"] == "-" and styles["layers.0.bias"] == "--"


def test_legends_sit_beside_the_axes_not_over_the_data():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    mon = _deep(depth=3)
    for fig in (
        viz.plot_activations(mon),
        viz.plot_gradients(mon, scale="log"),
        viz.plot_saturation(mon),
        viz.plot_update_ratio(mon),
    ):
        FigureCanvasAgg(fig).draw()  # lays the figure out as a notebook shows it (pixels)
        (ax,) = fig.axes
        legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert legend.x0 >= frame.x1, (ax.get_title(), legend, frame)
        assert legend.x1 <= fig.bbox.x1 + 1  # and inside the figure


def test_saturation_axis_is_always_0_to_100_percent():
    x, y = _data()
    m = _model()
    mon = nn.callbacks.Monitor(every=2)
    m.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[mon], seed=0)
    assert max(mon.series("layers.0", "saturated")[1]) < 0.5  # a low share...
    assert viz.plot_saturation(mon).axes[0].get_ylim() == (0.0, 100.0)  # ...on the whole range


def test_log_histograms_count_log10_of_the_size():
    from nn.monitor import LOG_EDGES, _stats

    s = _stats(np.array([0.0, 1e-3, -1.1e-3, 20.0]), bins=4)
    counts, edges = s["loghist"]
    assert s["zeros"] == 0.25 and counts.sum() == 3 and np.array_equal(edges, LOG_EDGES)
    at = {float(edges[i]): int(c) for i, c in enumerate(counts) if c}
    assert at == {-3.0: 2, 1.25: 1}  # log10(1e-3) = -3, log10(1.1e-3) = -2.96; log10(20) = 1.30
    mon = _deep(depth=3)
    ax = viz.plot_gradients(mon, scale="log").axes[0]
    assert ax.get_xscale() == "log"
    rec = mon.layers["layers.1"][-1]["grad"]
    line = [ln for ln in ax.lines if ln.get_label().startswith("layers.1 ")][0]
    assert np.array_equal(line.get_ydata(), rec["loghist"][0])
    centres = 10 ** ((LOG_EDGES[:-1] + LOG_EDGES[1:]) / 2)
    assert np.allclose(line.get_xdata(), centres)
    lo, hi = ax.get_xlim()
    assert lo > 1e-12 and hi < 1e4  # fitted to the bins that hold values
    assert viz.plot_activations(mon).axes[0].get_xscale() == "linear"
    with pytest.raises(ValueError, match="plot_gradients: scale must be 'linear'.*'symlog'"):
        viz.plot_gradients(mon, scale="symlog")

"""viz's plots, drawn with the Agg backend and checked by their contents (lines and their data,
images and scatter points), never by image bytes."""

import matplotlib
import numpy as np
import pytest

import viz
from autograd import Tensor, Value

matplotlib.use("Agg")


class History:  # what fit returns, duck-typed
    def __init__(self, history):
        self.history = history


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_history_loss_and_metrics():
    h = History(
        {
            "loss": [0.9, 0.5, 0.3],
            "accuracy": [0.5, 0.7, 0.9],
            "val_loss": [1.0, 0.6, 0.4],
            "val_accuracy": [0.4, 0.6, 0.8],
        }
    )
    fig = viz.plot_history(h)
    loss_ax, metric_ax = fig.axes[:2]
    lines = lines_by_label(loss_ax)
    assert set(lines) == {"loss", "val_loss"}
    assert list(lines["loss"].get_xdata()) == [1, 2, 3]
    assert list(lines["loss"].get_ydata()) == [0.9, 0.5, 0.3]
    assert list(lines["val_loss"].get_ydata()) == [1.0, 0.6, 0.4]
    assert lines["val_loss"].get_linestyle() == "--"
    assert lines["val_loss"].get_color() == lines["loss"].get_color()
    assert set(lines_by_label(metric_ax)) == {"accuracy", "val_accuracy"}
    assert loss_ax.get_xlabel() == "epoch"
    fig.canvas.draw()  # it renders (Agg)


def test_plot_history_from_a_dict_on_given_axes():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    fig = viz.plot_history({"loss lr=0.1": [3.0, 2.0], "loss lr=1": [3.0, 5.0]}, ax=ax)
    assert fig is ax.figure
    assert {k: list(v.get_ydata()) for k, v in lines_by_label(ax).items()} == {
        "loss lr=0.1": [3.0, 2.0],
        "loss lr=1": [3.0, 5.0],
    }
    with pytest.raises(ValueError, match="empty"):
        viz.plot_history({})


class LinearTensorModel:
    """p(class 1) = sigmoid(4 * (x0 + x1)): a Tensor model, callable on a Tensor."""

    def parameters(self):
        return [self.w]

    def __init__(self):
        self.w = Tensor([[4.0], [4.0]], requires_grad=True)

    def __call__(self, x):
        return (x @ self.w).sigmoid()


class ScalarNeuron:
    """micrograd-style: callable on a list of floats, returns a Value (tanh score)."""

    def __init__(self):
        self.w = [Value(1.0), Value(1.0)]

    def parameters(self):
        return self.w

    def __call__(self, x):
        return (self.w[0] * x[0] + self.w[1] * x[1]).tanh()


class Predictor:
    """A Keras-style model with predict: one-hot-ish scores for 3 classes by quadrant."""

    def predict(self, x):
        x = np.asarray(x)
        return np.stack(
            [x[:, 0] < 0, (x[:, 0] >= 0) & (x[:, 1] >= 0), (x[:, 0] >= 0) & (x[:, 1] < 0)], axis=1
        ).astype(float)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(40, 2))
    return X, (X.sum(axis=1) > 0).astype(int)


@pytest.mark.parametrize("model", [LinearTensorModel(), ScalarNeuron()], ids=["tensor", "values"])
def test_decision_boundary_for_tensor_and_value_models(model):
    X, y = _data()
    fig = viz.plot_decision_boundary(model, X, y, resolution=21, margin=0.0)
    ax = fig.axes[0]
    (img,) = ax.images
    cls = np.asarray(img.get_array())
    assert cls.shape == (21, 21)
    gx, gy = np.meshgrid(
        np.linspace(X[:, 0].min(), X[:, 0].max(), 21), np.linspace(X[:, 1].min(), X[:, 1].max(), 21)
    )
    expected = (gx + gy > 0).astype(int)
    off = np.abs(gx + gy) > 1e-9
    assert np.array_equal(cls[off], expected[off])
    (points,) = ax.collections[-1:]
    assert np.allclose(points.get_offsets(), X)
    assert list(points.get_array()) == list(y)
    assert len(ax.collections) >= 2  # the boundary contour and the data


def test_decision_boundary_with_predict_and_three_classes():
    X, _ = _data(1)
    y = np.where(X[:, 0] < 0, 0, np.where(X[:, 1] >= 0, 1, 2))
    fig = viz.plot_decision_boundary(Predictor(), X, y, resolution=10)
    cls = np.asarray(fig.axes[0].images[0].get_array())
    assert set(np.unique(cls)) == {0, 1, 2}
    assert cls[0, 0] == 0 and cls[-1, -1] == 1 and cls[0, -1] == 2  # rows are y, columns x


class Named:
    def __init__(self, params):
        self._p = params

    def named_parameters(self):
        return list(self._p.items())


def test_gradient_flow_per_layer_and_per_parameter():
    p = {
        "layers.0.weight": Tensor(np.zeros((2, 3)), requires_grad=True),
        "layers.0.bias": Tensor(np.zeros(3), requires_grad=True),
        "layers.1.weight": Tensor(np.zeros((3, 1)), requires_grad=True),
    }
    p["layers.0.weight"].grad = np.full((2, 3), 2.0)
    p["layers.0.bias"].grad = np.array([0.0, 3.0, 0.0])
    p["layers.1.weight"].grad = np.array([[1e-3], [0.0], [0.0]])
    fig = viz.plot_gradient_flow(Named(p))
    ax = fig.axes[0]
    norm_line, max_line = ax.get_lines()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layers.0", "layers.1"]
    assert np.allclose(norm_line.get_ydata(), [np.sqrt(6 * 4 + 9), 1e-3])
    assert np.allclose(max_line.get_ydata(), [3.0, 1e-3])
    assert ax.get_yscale() == "log"  # a spread of 1000x: vanishing gradients show
    fig = viz.plot_gradient_flow(Named(p), by="parameter")
    assert len(fig.axes[0].get_lines()[0].get_ydata()) == 3


def test_gradient_flow_of_a_value_model():
    w = [Value(0.5), Value(-1.0), Value(2.0)]
    y = (w[0] * w[1] + w[2]).tanh()
    y.backward()

    class M:
        def parameters(self):
            return w

    fig = viz.plot_gradient_flow(M(), by="parameter")
    ys = fig.axes[0].get_lines()[0].get_ydata()
    assert np.allclose(ys, [abs(v.grad) for v in w])

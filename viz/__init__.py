"""viz: draw a computation graph with data and gradient on every node, step through backprop
(a Jupyter widget, or one offline HTML file), and plot training.

It only reads the node protocol (data, grad, label, op, operands, scope, ...) and
`autograd.backward_steps`; it never changes a graph and never imports nn (but `playground`,
which trains an nn model, imports it when one is made). Graphviz (`graphviz`),
anywidget and matplotlib come with the `viz` extra and are imported only when used.

>>> from autograd import Value
>>> import viz
>>> a = Value(2.0, label="a"); b = Value(-3.0, label="b"); c = a * b; c.backward()
>>> g = viz.draw_graph(c)
>>> g.source.count("->")
3
"""

from .diff import diff, snapshot  # noqa: F401
from .dynamics import plot_activations, plot_gradients, plot_saturation, plot_update_ratio  # noqa: F401, E501
from .export import export_html
from .fmt import format_data, format_grad, format_number
from .graph import LEGEND, GraphTooLargeError, draw_graph, legend
from .plots import plot_decision_boundary, plot_gradient_flow, plot_history
from .tape import tape as tape


def step_through(
    root,
    names=None,
    rankdir=None,
    max_nodes="auto",
    grad=None,
    collapse=None,
    quiz=False,
    rtol=0.01,
    atol=0.001,
    tape=False,
):
    """A Jupyter widget stepping through `root`'s backward pass (see `viz.widget.step_through`).

    `quiz=True` ("all"), "leaves" or a list of nodes/names: the learner types each asked
    gradient before it is shown; `tape=True` opens the tape beside the graph.
    """
    from .widget import step_through as make

    return make(
        root,
        names=names,
        rankdir=rankdir,
        max_nodes=max_nodes,
        grad=grad,
        collapse=collapse,
        quiz=quiz,
        rtol=rtol,
        atol=atol,
        tape=tape,
    )


def playground(**controls):
    """A live TF-Playground-style training widget (see `viz.playground_widget.playground`)."""
    from .playground_widget import playground as make

    return make(**controls)


__all__ = [
    "LEGEND",
    "GraphTooLargeError",
    "draw_graph",
    "export_html",
    "format_data",
    "format_grad",
    "format_number",
    "legend",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "plot_history",
    "playground",
    "step_through",
]

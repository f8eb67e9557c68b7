"""`step_through`: the Jupyter widget (anywidget) that steps through backward in the browser.

The graph is laid out once by `dot` on the Python side; `static/viewer.js` (the same file the
HTML export inlines) does the stepping in the browser, with no kernel round trip per step.
"""

from pathlib import Path

from .deps import require
from .steps import viewer_payload

anywidget = require("anywidget", "viz.step_through")
traitlets = require("traitlets", "viz.step_through")

STATIC = Path(__file__).parent / "static"


class StepThrough(anywidget.AnyWidget):
    """Previous / next / play / a slider / reset through backward, node by node.

    Traits (synced with the browser): `svg` (the laid-out graph), `data` (the steps: for each,
    the node, the gradient texts that change and the chain-rule lines) and `step` (0 = before
    backward, k = after the k-th node; setting it from Python moves the viewer).
    """

    _esm = (STATIC / "viewer.js").read_text(encoding="utf-8")
    _css = (STATIC / "viewer.css").read_text(encoding="utf-8")
    svg = traitlets.Unicode("").tag(sync=True)
    data = traitlets.Dict().tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    results = traitlets.List().tag(sync=True)

    @traitlets.validate("step")
    def _valid_step(self, proposal):
        k = proposal["value"]
        n = len(self.data.get("steps", ()))
        if not 0 <= k <= n:
            raise traitlets.TraitError(f"step must be between 0 and {n}, got {k}")
        return k

    @property
    def n_steps(self):
        return len(self.data.get("steps", ()))

    @property
    def score(self):
        """(right at the first try, answered) of the quiz so far, as the viewer shows it."""
        done = [r for r in self.results if r.get("done")]
        return sum(1 for r in done if r.get("right") and r.get("tries") == 1), len(done)


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
    """A Jupyter widget that steps through `root`'s backward pass one node at a time.

    The current node is highlighted, gradients appear as they are computed, and a panel shows
    the chain rule of the step, one line per parent, e.g.
    `dL/da += dL/dc * dc/da = 0.5 * 2.0 = 1.0`. The graph is not changed: the steps come from
    `backward_steps` and every `.grad` is put back afterwards.

    Args:
        root: a scalar Value or Tensor (or a Tensor with `grad=` given).
        names: `dict(model.named_parameters())` to label parameters with their dotted names.
        rankdir: Graphviz direction ("LR" or "TB", ...); None (the default) picks the one
            that shows the graph largest on a 1280x720 screen, and wraps a long chain of
            layers into rows stacked like lines of text.
        max_nodes: raise GraphTooLargeError above this many drawn nodes.
        grad: the seed gradient for a non-scalar root.
        collapse: "module" steps one nn layer at a time (each layer one box, its parameters'
            and its input's gradients complete at its step); "open layer" (or `o`, or a
            double click on the layer) steps inside it node by node.
        quiz: predict, then reveal: at the step of each asked node the learner types its
            gradient before the viewer shows it (and its chain-rule lines); the viewer checks
            it and keeps a score. True or "all" (every node but the root), "leaves", or a list
            of nodes, names, and (node or name, index) for one element of a Tensor. A Tensor
            gradient of up to 9 elements is typed whole (row by row), a larger one as one
            element (the listed index, else the element of largest magnitude).
        rtol, atol: the quiz's tolerance: an answer x for the value t is right when
            |x - t| <= atol + rtol * |t|, element by element.
        tape: open the tape panel (the forward lines and the adjoint lines of `viz.tape`,
            the current step's lines highlighted) beside the graph at the start; its button
            ("tape", or `t`) opens and closes it either way.

    Returns:
        A `StepThrough` widget (its `step` trait is the current step; `results` and `score`
        the quiz's answers).
    """
    svg, data = viewer_payload(
        root,
        names,
        rankdir,
        max_nodes,
        grad,
        collapse=collapse,
        quiz=quiz,
        rtol=rtol,
        atol=atol,
        tape=tape,
    )
    return StepThrough(svg=svg, data=data, step=0)

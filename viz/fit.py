"""Fitting a drawing to a screen: which direction, and where to wrap a long chain into rows.

Before Graphviz runs, the size of every box is estimated from its text (viz/font.py) and the
boxes are put in ranks (a longest path from the inputs, each leaf just before its first use,
as Graphviz's own ranking does). That gives the extent of the drawing left to right ("LR") and
top to bottom ("TB"); `plan` takes the one that can be shown larger on the screen. A chain much
wider than the screen (a Tensor model: layer after layer) is cut into bands where only one or
two edges cross (between two layers), and the bands are stacked like lines of text.
"""

from .font import ROOM, text_width

PT_PER_PX = 0.75  # Graphviz draws in points; a browser shows 1 pt as 4/3 px
SMALL_STYLES = ("auto", "shape", "attrs", "note")


def box_size(box):
    """(width, height) in points of a box as `to_digraph` draws it (an estimate)."""
    size = 9 if box.kind in ("op", "constant") else 10
    widest, height = 0.0, 0.0
    for text, style in box.rows:
        s = 8 if style in SMALL_STYLES else size
        if style in ("grid", "gridhead"):
            cells = text.split("\t")
            w = sum(text_width(c, s) * ROOM + 4 for c in cells)
        else:
            w = text_width(text, s, style == "name") * ROOM + 2
        widest = max(widest, w)
        height += s * 1.2 + 2
    mx, my = (4.0, 2.0) if box.kind in ("op", "constant") else (8.0, 4.0)
    return max(widest + 2 * mx, 30.0), max(height + 2 * my, 18.0)


def ranks(d):
    """{box id: rank}: the longest path to the root, counted back from the root's rank (so a
    parameter sits just before its first use, as in Graphviz's own ranking)."""
    ids = [b.id for b in d.boxes]
    ins = {i: [] for i in ids}
    outs = {i: 0 for i in ids}
    for src, dst, _ in d.edges:
        outs[src] += 1
        ins[dst].append(src)
    depth = dict.fromkeys(ids, 0)
    ready = [i for i in ids if not outs[i]]
    while ready:  # Kahn's algorithm from the sinks backwards
        i = ready.pop()
        for j in ins[i]:
            depth[j] = max(depth[j], depth[i] + 1)
            outs[j] -= 1
            if not outs[j]:
                ready.append(j)
    top = max(depth.values(), default=0)
    return {i: top - depth[i] for i in ids}


def extent(d, rankdir, rank=None, sizes=None, nodesep=11.0, ranksep=22.0):
    """(width, height) in points of the drawing laid out in `rankdir`, roughly."""
    rank = ranks(d) if rank is None else rank
    sizes = {b.id: box_size(b) for b in d.boxes} if sizes is None else sizes
    along, across = {}, {}
    horizontal = rankdir in ("LR", "RL")
    for i, r in rank.items():
        w, h = sizes[i]
        a, c = (w, h) if horizontal else (h, w)
        along[r] = max(along.get(r, 0.0), a)
        across[r] = across.get(r, -nodesep) + c + nodesep
    length = sum(along.values()) + ranksep * max(len(along) - 1, 0)
    breadth = max(across.values(), default=0.0)
    return (length, breadth) if horizontal else (breadth, length)


def _scale(w, h, screen):
    sw, sh = screen
    return min(sw * PT_PER_PX / max(w, 1.0), sh * PT_PER_PX / max(h, 1.0))


def candidates(d, screen, rankdir=None, wrap=True):
    """The ways to lay out `d` on `screen` (width, height in px), best estimate first.

    Each is (rankdir, bands, scale): `bands` {box id: band number} when the drawing is cut
    into bands stacked top to bottom (None when it is not), and the estimated scale at which
    the whole drawing fits the screen (1.0: at its natural size).
    """
    rank = ranks(d)
    sizes = {b.id: box_size(b) for b in d.boxes}
    out = []
    for rd in [rankdir] if rankdir else ["LR", "TB"]:
        out.append((rd, None, _scale(*extent(d, rd, rank, sizes), screen)))
    if wrap and rankdir in (None, "LR") and not getattr(d, "clusters", None):
        for band, s in _wrapped(d, rank, sizes, screen):
            out.append(("LR", band, s))
    out.sort(key=lambda c: -c[2])
    return out


def plan(d, screen, rankdir=None, wrap=True):
    """The layout of `d` with the best estimated fit on `screen`: (rankdir, bands, scale)."""
    return candidates(d, screen, rankdir, wrap)[0]


def svg_scale(svg, screen):
    """The scale at which an SVG made by Graphviz (width and height in pt) fits `screen`."""
    import re

    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return _scale(float(m.group(1)), float(m.group(2)), screen) if m else 0.0


def best_layout(d, screen, render, rankdir=None, tries=3):
    """Lay out `d` the ways that look best and keep the one that fits `screen` largest.

    `render(rankdir, bands)` makes the SVG; a small drawing is laid out up to `tries` times
    (Graphviz takes milliseconds on it), a large one once, the best estimate.
    """
    options = candidates(d, screen, rankdir)
    if len(d.boxes) > 200:
        tries = 1
    best = None
    for rd, bands, _ in options[:tries]:
        svg = render(rd, bands)
        s = svg_scale(svg, screen)
        if best is None or s > best[0] * 1.02:
            best = (s, svg)
    return best[1]


def _boundaries(d, rank):
    """For each boundary after rank r: (edges crossing it, True when it lies between two nn
    modules). Edges out of leaves do not count: a leaf moves to the band of its first use."""
    top = max(rank.values(), default=0)
    has_input = {dst for _, dst, _ in d.edges}
    group = {b.id: b.group for b in d.boxes}
    cross = [0] * (top + 1)
    between = [False] * (top + 1)
    for src, dst, _ in d.edges:
        if src not in has_input:
            continue
        for r in range(rank[src], rank[dst]):
            cross[r] += 1
        if group[src] != group[dst] and rank[dst] == rank[src] + 1:
            between[rank[src]] = True
    return cross, between


def _wrapped(d, rank, sizes, screen):
    """The best cut of the ranks into k bands for each k from 2 to 8, as [(bands, scale)], at
    boundaries crossed by one edge (between two modules where there are such)."""
    from itertools import combinations

    top = max(rank.values(), default=0)
    if top < 6:
        return []
    cross, between = _boundaries(d, rank)
    cuts = [r for r in range(top) if cross[r] == 1 and between[r]]
    if len(cuts) < 2:
        cuts = [r for r in range(top) if cross[r] == 1]
    if not cuts:
        return []
    along = [0.0] * (top + 1)
    across = [0.0] * (top + 1)
    for i, r in rank.items():
        w, h = sizes[i]
        along[r] = max(along[r], w)
        across[r] += h + 11.0
    has_input = {dst for _, dst, _ in d.edges}
    out = []
    for k in range(2, min(len(cuts) + 1, 8) + 1):
        best = None
        sets = combinations(cuts, k - 1) if len(cuts) <= 14 else [_even(cuts, along, k)]
        for chosen in sets:
            edges = [-1, *chosen, top]
            spans = list(zip(edges, edges[1:]))
            width = max(sum(along[a + 1 : b + 1]) + 22.0 * (b - a - 1) for a, b in spans)
            height = sum(max(across[a + 1 : b + 1]) for a, b in spans) + 30.0 * (k - 1)
            s = _scale(width, height, screen)
            if best is None or s > best[1]:
                best = (edges, s)
        edges = best[0]
        band = {i: next(n for n, b in enumerate(edges[1:]) if r <= b) for i, r in rank.items()}
        for src, dst, _ in d.edges:  # a leaf goes with its first use
            if src not in has_input:
                band[src] = band[dst]
        out.append((band, best[1]))
    return out


def _even(cuts, along, k):
    """k - 1 of the cuts that split the total length most evenly (for long chains)."""
    total = sum(along)
    chosen, acc = [], 0.0
    for r, a in enumerate(along):
        acc += a
        if len(chosen) < k - 1 and r in cuts and acc >= total * (len(chosen) + 1) / k:
            chosen.append(r)
    return tuple(chosen)

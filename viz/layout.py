"""A layered layout of our own: a Drawing as plain SVG, in time that grows with the graph.

Used by the step-through viewer for graphs too large for Graphviz's `dot` to lay out in a few
seconds, and whenever `dot` is missing. The classic steps (Sugiyama's): ranks by the longest
path to the root; a small invisible node on every rank that a long edge crosses; the order in
each rank by barycenters, swept back and forth; positions across the ranks by isotonic
regression towards the neighbours (pool adjacent violators), so edges run straight where
they can; edges as smooth curves through their invisible nodes. Not as tidy as `dot`, but the
viewer works the same on it (the same node ids, a shape then text rows in each node group).
"""

import html

from .font import FAMILY, text_width

ROW_H = 13.0
PAD_X, PAD_Y = 8.0, 5.0
GAP_RANK, GAP_NODE = 30.0, 8.0
DUMMY = 2.0  # the size across of an edge's invisible node on a rank it crosses
SWEEPS = 4  # ordering sweeps (each one way along the ranks), then as many placement sweeps
_SMALL = {"shape", "attrs", "note", "auto", "gridhead"}


def _font(box, style):
    if style in _SMALL:
        return 8.0
    return 9.0 if box.kind in ("op", "constant") else 10.0


def _size(box):
    """(width, height) of a box: its widest row as the browser draws it, and its rows."""
    w = 0.0
    for text, style in box.rows:
        w = max(w, text_width(text.replace("\t", "  "), _font(box, style), style == "name"))
    h = sum(ROW_H * _font(box, style) / 10.0 for _, style in box.rows)
    return max(w + 2 * PAD_X, 24.0), h + 2 * PAD_Y


def _ranks(n, edges):
    """rank[k]: the longest path from box k to a box without outgoing edges (the root: 0)."""
    outs = [0] * n
    ins = [[] for _ in range(n)]
    for s, t in edges:
        outs[s] += 1
        ins[t].append(s)
    rank = [0] * n
    ready = [k for k in range(n) if outs[k] == 0]
    while ready:  # Kahn's algorithm from the sinks backwards
        k = ready.pop()
        r = rank[k] + 1
        for s in ins[k]:
            if rank[s] < r:
                rank[s] = r
            outs[s] -= 1
            if outs[s] == 0:
                ready.append(s)
    return rank


def _isotonic(want, gaps):
    """Positions y (in order) nearest to `want` with y[i+1] - y[i] >= gaps[i] (least squares).

    With offsets o[i] = gaps[0] + ... + gaps[i-1] the constraint is z[i+1] >= z[i] for
    z = y - o: pool adjacent violators on want - o, then add the offsets back.
    """
    offs, o = [], 0.0
    for i in range(len(want)):
        offs.append(o)
        if i < len(gaps):
            o += gaps[i]
    blocks = []  # [mean, count]
    for w, off in zip(want, offs):
        v, c = w - off, 1
        while blocks and blocks[-1][0] >= v:
            bv, bc = blocks.pop()
            v, c = (bv * bc + v * c) / (bc + c), bc + c
        blocks.append([v, c])
    out = []
    for v, c in blocks:
        out.extend([v] * c)
    return [z + off for z, off in zip(out, offs)]


def place(d, sizes):
    """Lay the Drawing out in ranks, box k being sizes[k] = (along, across) the ranks.

    Returns (centres, paths, length, breadth): the rank axis is the first coordinate (the
    root's rank at the far end), each edge a list of points.
    """
    boxes = d.boxes
    n = len(boxes)
    pos = {b.id: k for k, b in enumerate(boxes)}
    edges = [(pos[s], pos[t]) for s, t, _ in d.edges]
    rank = _ranks(n, edges)
    across = [h for _, h in sizes]
    # long edges: an invisible node on each rank they cross
    chains = []
    up = [[] for _ in range(n)]  # k -> neighbours one rank further from the root
    down = [[] for _ in range(n)]  # k -> neighbours one rank nearer to the root
    for s, t in edges:
        chain = [s]
        for r in range(rank[s] - 1, rank[t], -1):
            rank.append(r)
            across.append(DUMMY)
            up.append([])
            down.append([])
            chain.append(len(rank) - 1)
        chain.append(t)
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)
    total = len(rank)
    top = max(rank, default=0)
    layers = [[] for _ in range(top + 1)]
    seen = [False] * total
    # first order: depth first from the root along the operands, so a subtree stays together
    stack = [k for k in range(total) if rank[k] == 0][::-1]
    while stack:
        k = stack.pop()
        if seen[k]:
            continue
        seen[k] = True
        layers[rank[k]].append(k)
        stack.extend(reversed(up[k]))
    for k in range(total):
        if not seen[k]:
            layers[rank[k]].append(k)
    order = [0] * total
    for layer in layers:
        for j, k in enumerate(layer):
            order[k] = j
    for sweep in range(SWEEPS):  # barycenters: away from the root, then back, ...
        outward = sweep % 2 == 0
        seq = range(1, top + 1) if outward else range(top - 1, -1, -1)
        for r in seq:
            layer = layers[r]
            nb = down if outward else up

            def key(k, nb=nb):
                ns = nb[k]
                return sum(order[m] for m in ns) / len(ns) if ns else order[k]

            layer.sort(key=key)
            for j, k in enumerate(layer):
                order[k] = j
    # across: packed, then pulled towards the neighbours' mean, ranks in turn
    y = [0.0] * total
    for layer in layers:
        c = 0.0
        for k in layer:
            y[k] = c + across[k] / 2
            c += across[k] + GAP_NODE
    for sweep in range(SWEEPS):
        outward = sweep % 2 == 0
        seq = range(1, top + 1) if outward else range(top - 1, -1, -1)
        for r in seq:
            layer = layers[r]
            if not layer:
                continue
            nb = down if outward else up
            want = []
            for k in layer:
                ns = nb[k]
                want.append(sum(y[m] for m in ns) / len(ns) if ns else y[k])
            gaps = [(across[a] + across[b]) / 2 + GAP_NODE for a, b in zip(layer, layer[1:])]
            for k, v in zip(layer, _isotonic(want, gaps)):
                y[k] = v
    low = min((y[k] - across[k] / 2 for k in range(total)), default=0.0)
    y = [v - low for v in y]
    height = max((y[k] + across[k] / 2 for k in range(total)), default=0.0)
    # along: one column per rank, as wide as its widest box, the root's rank at the right
    colw = [0.0] * (top + 1)
    for k in range(n):
        colw[rank[k]] = max(colw[rank[k]], sizes[k][0])
    x_at = [0.0] * (top + 1)
    a = 0.0
    for r in range(top, -1, -1):
        x_at[r] = a + colw[r] / 2
        a += colw[r] + GAP_RANK
    width = max(a - GAP_RANK, 0.0)
    centres = [(x_at[rank[k]], y[k]) for k in range(n)]
    paths = []
    for chain in chains:
        s, t = chain[0], chain[-1]
        pts = [(x_at[rank[s]] + sizes[s][0] / 2, y[s])]
        pts.extend((x_at[rank[k]], y[k]) for k in chain[1:-1])
        pts.append((x_at[rank[t]] - sizes[t][0] / 2, y[t]))
        paths.append(pts)
    return centres, paths, width, height


def _curve(pts):
    """An SVG path through the points, each step a curve that leaves and arrives level."""
    x, y = pts[0]
    out = [f"M{x:.1f},{y:.1f}"]
    for x2, y2 in pts[1:]:
        mx = (x + x2) / 2
        if abs(y2 - y) < 0.5:
            out.append(f"L{x2:.1f},{y2:.1f}")
        else:
            out.append(f"C{mx:.1f},{y:.1f} {mx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}")
        x, y = x2, y2
    return "".join(out)


def layout_svg(d, rankdir="LR"):
    """The Drawing `d` laid out in columns (rankdir 'LR'/'RL') or rows ('TB'/'BT'), as SVG."""
    boxes = d.boxes
    sizes = [_size(b) for b in boxes]
    if rankdir in ("LR", "RL"):
        centres, paths, W, H = place(d, sizes)
    else:  # ranks down the page: lay out with each box's extents swapped, then swap back
        centres, paths, H, W = place(d, [(h, w) for w, h in sizes])
        centres = [(y, x) for x, y in centres]
        paths = [[(y, x) for x, y in p] for p in paths]
    if rankdir == "RL":
        centres = [(W - x, y) for x, y in centres]
        paths = [[(W - x, y) for x, y in p] for p in paths]
    elif rankdir == "BT":
        centres = [(x, H - y) for x, y in centres]
        paths = [[(x, H - y) for x, y in p] for p in paths]
    m = 4.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W + 2 * m:.0f}pt" '
        f'height="{H + 2 * m:.0f}pt" viewBox="{-m:.1f} {-m:.1f} {W + 2 * m:.1f} {H + 2 * m:.1f}">',
        '<defs><marker id="sg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#868e96"/></marker>'
        "</defs>",
        f'<g class="graph" font-family="{FAMILY}" text-anchor="middle">',
    ]
    for (_, _, label), pts in zip(d.edges, paths):
        out.append(
            '<g class="edge"><path fill="none" stroke="#868e96" marker-end="url(#sg-arrow)" '
            f'd="{_curve(pts)}"/>'
        )
        if label:
            (x1, y1), (x2, y2) = pts[0], pts[-1]
            out.append(
                f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 2:.1f}" font-size="8">'
                f"{html.escape(label)}</text>"
            )
        out.append("</g>")
    for b, (x, y), (w, h) in zip(boxes, centres, sizes):
        rx = h / 2 if b.kind == "op" else 6 if b.kind == "value" else 0
        dash = ' stroke-dasharray="3,2"' if b.kind == "constant" else ""
        out.append(
            f'<g id="{b.id}" class="node"><title>{b.id}</title>'
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{rx:.1f}" fill="{b.fill}" stroke="{b.border}" '
            f'stroke-width="{b.penwidth}"{dash}/>'
        )
        ty = y - h / 2 + PAD_Y
        for text, style in b.rows:
            size = _font(b, style)
            row_h = ROW_H * size / 10.0
            weight = ' font-weight="bold"' if style == "name" else ""
            colour = ' fill="#495057"' if size == 8.0 else ""
            out.append(
                f'<text x="{x:.1f}" y="{ty + row_h * 0.78:.1f}" '
                f'font-size="{size:g}"{weight}{colour}>'
                f"{html.escape(text.replace(chr(9), '  '), quote=False)}</text>"
            )
            ty += row_h
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)

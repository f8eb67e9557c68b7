"""A small layered layout for when Graphviz's `dot` is missing: a Drawing as plain SVG.

Columns by longest path to the root, one barycenter sweep to order each column, straight
edges. Not as tidy as `dot`, but the step-through viewer works the same on it (the same node
ids, a shape then text rows in each node group).
"""

import html

CHAR_W = 6.0  # rough width of a 10pt character
ROW_H = 13.0
PAD_X, PAD_Y = 8.0, 5.0
GAP_COL, GAP_ROW = 36.0, 10.0


def _size(box):
    scale = 0.9 if box.kind in ("op", "constant") else 1.0
    w = max(len(t) for t, _ in box.rows) * CHAR_W * scale + 2 * PAD_X
    h = len(box.rows) * ROW_H * scale + 2 * PAD_Y
    return max(w, 24.0), h


def layout_svg(d, rankdir="LR"):
    """The Drawing `d` laid out in columns (rankdir 'LR'/'RL') or rows ('TB'/'BT'), as SVG."""
    boxes = d.boxes
    pos = {b.id: k for k, b in enumerate(boxes)}
    outs = [0] * len(boxes)
    ins = [[] for _ in boxes]  # k -> sources of edges into box k
    cons = [[] for _ in boxes]
    for src, dst, _ in d.edges:
        s, t = pos[src], pos[dst]
        outs[s] += 1
        ins[t].append(s)
        cons[s].append(t)
    rank = [0] * len(boxes)
    ready = [k for k in range(len(boxes)) if outs[k] == 0]
    while ready:  # Kahn's algorithm from the root backwards: rank = longest path to a sink
        k = ready.pop()
        for s in ins[k]:
            rank[s] = max(rank[s], rank[k] + 1)
            outs[s] -= 1
            if outs[s] == 0:
                ready.append(s)
    top = max(rank, default=0)
    columns = [[] for _ in range(top + 1)]
    for k in range(len(boxes)):
        columns[rank[k]].append(k)
    order = {}
    for r, col in enumerate(columns):  # right (rank 0) to left: sort by the consumers' places
        if r:
            col.sort(key=lambda k: sum(order[c] for c in cons[k]) / len(cons[k]) if cons[k] else 0)
        for j, k in enumerate(col):
            order[k] = j
    sizes = [_size(b) for b in boxes]
    horizontal = rankdir in ("LR", "RL")
    along = [max((sizes[k][0 if horizontal else 1] for k in col), default=0) for col in columns]
    across = [
        sum(sizes[k][1 if horizontal else 0] for k in col) + GAP_ROW * max(len(col) - 1, 0)
        for col in columns
    ]
    span = max(across, default=0)
    centre = {}
    a = 0.0
    for r in range(top, -1, -1):  # leftmost column (highest rank) first
        c = 0.0 + (span - across[r]) / 2
        for k in columns[r]:
            w, h = sizes[k]
            step = h if horizontal else w
            ca = a + along[r] / 2
            cc = c + step / 2
            centre[k] = (ca, cc) if horizontal else (cc, ca)
            c += step + GAP_ROW
        a += along[r] + GAP_COL
    total_along = a - GAP_COL if columns else 0
    W, H = (total_along, span) if horizontal else (span, total_along)
    if rankdir in ("RL", "BT"):
        centre = {k: (W - x, y) if horizontal else (x, H - y) for k, (x, y) in centre.items()}
    m = 4.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W + 2 * m:.0f}pt" '
        f'height="{H + 2 * m:.0f}pt" viewBox="{-m:.1f} {-m:.1f} {W + 2 * m:.1f} {H + 2 * m:.1f}">',
        '<defs><marker id="sg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#868e96"/></marker>'
        "</defs>",
        '<g class="graph">',
    ]
    for src, dst, label in d.edges:
        s, t = pos[src], pos[dst]
        (x1, y1), (x2, y2) = centre[s], centre[t]
        (w1, h1), (w2, h2) = sizes[s], sizes[t]
        if horizontal:
            sx = 1 if x2 >= x1 else -1
            x1, x2 = x1 + sx * w1 / 2, x2 - sx * w2 / 2
        else:
            sy = 1 if y2 >= y1 else -1
            y1, y2 = y1 + sy * h1 / 2, y2 - sy * h2 / 2
        out.append(
            f'<g class="edge"><path fill="none" stroke="#868e96" marker-end="url(#sg-arrow)" '
            f'd="M{x1:.1f},{y1:.1f}L{x2:.1f},{y2:.1f}"/>'
        )
        if label:
            out.append(
                f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 2:.1f}" font-size="8" '
                f'text-anchor="middle">{html.escape(label)}</text>'
            )
        out.append("</g>")
    for k, b in enumerate(boxes):
        (x, y), (w, h) = centre[k], sizes[k]
        rx = h / 2 if b.kind == "op" else 6 if b.kind == "value" else 0
        dash = ' stroke-dasharray="3,2"' if b.kind == "constant" else ""
        out.append(
            f'<g id="{b.id}" class="node"><title>{b.id}</title>'
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{rx:.1f}" fill="{b.fill}" stroke="{b.border}" '
            f'stroke-width="{b.penwidth}"{dash}/>'
        )
        size = 9 if b.kind in ("op", "constant") else 10
        row_h = ROW_H * (0.9 if size == 9 else 1.0)
        y0 = y - len(b.rows) * row_h / 2 + row_h * 0.75
        for j, (text, style) in enumerate(b.rows):
            weight = ' font-weight="bold"' if style == "name" else ""
            out.append(
                f'<text text-anchor="middle" x="{x:.1f}" y="{y0 + j * row_h:.1f}" '
                f'font-family="Helvetica,sans-Serif" font-size="{size}"{weight}>'
                f"{html.escape(text, quote=False)}</text>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)

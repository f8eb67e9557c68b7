// stepgrad's step-through viewer: reset / prev / play / next / a slider over backward, on a
// graph laid out once (SVG); each step changes only the gradient texts and the colours.
// One file for both front ends: the Jupyter widget (anywidget calls `render`) and the offline
// HTML page of viz.export_html (which calls `mount` on its inline SVG). Text is only ever set
// with textContent, so labels cannot inject markup.
//
// Sections: the step state (pure data), the view (zoom, pan, fit-to-screen, follow, projector),
// the controls, `mount` (which joins them), plugins, and the anywidget entry point.
// Extending it: register a plugin before the viewer is mounted,
//   plugin((ctl) => { const box = ctl.addPanel("notes"); ctl.onStep((k, step) => ...); });
// ctl.addPanel(name) gives an element below the chain-rule panel, ctl.addSide(name) one beside
// the graph, ctl.addButton(...) a button in the bar, ctl.addTool(...) one among the view tools,
// ctl.addKey(key, fn) a key, ctl.onStep(fn) calls fn(k, step or null) after each move (k = 0
// before backward), ctl.panel is the chain-rule panel, ctl.data the steps. A plugin can hold the
// viewer back and hide what is not to be seen yet: ctl.gate(() => the last step allowed),
// ctl.textStep((k) => the step whose gradient texts to show at k), ctl.maskText((id, text,
// has) => text), ctl.maskLines((k, step) => lines), ctl.hidden = (id) => whether node id's
// gradient is still to be hidden. The built-in tape panel and quiz (below) are such plugins.

const FILL = { current: "#ffa94d", partial: "#fff3bf", done: "#b2f2bb" };
const KEYS = { current: "this step", partial: "gradient being summed", done: "gradient complete" };
const FIT_MAX = 2; // fit-to-screen never enlarges a small graph more than this
const PROJECTOR_PX = 18; // projector mode: the graph's smallest text at least this many pixels
const PLUGINS = [];

// ---------------------------------------------------------------------------------------------
// the step state: which text and colour every node has after k steps (no DOM here)

export function stateAt(steps, k) {
  const text = new Map();
  const state = new Map();
  for (let i = 0; i < k; i++) {
    for (const [id, t] of steps[i].set) {
      text.set(id, t);
      if (state.get(id) !== "done") state.set(id, "partial");
    }
    state.set(steps[i].node, "done");
  }
  if (k > 0) state.set(steps[k - 1].node, "current");
  return { text, state };
}

// ---------------------------------------------------------------------------------------------
// small DOM helpers

function button(label, action, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.dataset.action = action;
  b.className = "stepgrad-" + action;
  return b;
}

function chip(colour, text) {
  const s = document.createElement("span");
  s.className = "stepgrad-chip";
  const c = document.createElement("i");
  c.style.background = colour;
  s.append(c, document.createTextNode(text));
  return s;
}

function lengthPx(value) {
  // an SVG width/height attribute ("2678pt", "300px", "300") in CSS pixels
  const m = /^([\d.]+)\s*(pt|px)?$/.exec(String(value || "").trim());
  if (!m) return 0;
  return parseFloat(m[1]) * (m[2] === "pt" ? 4 / 3 : 1);
}

// the gradient row of a node group: the last text reading "grad ..." or "‖grad‖ ...", else the last
function gradText(g) {
  const texts = Array.from(g.querySelectorAll("text"));
  for (let i = texts.length - 1; i >= 0; i--) {
    const t = texts[i].textContent;
    if (t.startsWith("grad") || t.startsWith("‖grad‖")) return texts[i];
  }
  return texts[texts.length - 1];
}

// ---------------------------------------------------------------------------------------------
// the view: the SVG scaled and moved inside a fixed box (zoom, pan, fit-to-screen, follow)

function makeView(graph, svg, onChange, autoHeight) {
  const vb = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  let W = lengthPx(svg.getAttribute("width")) || vb[2] || 300;
  let H = lengthPx(svg.getAttribute("height")) || vb[3] || 150;
  if (!svg.getAttribute("viewBox")) svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  // the smallest text in CSS px at scale 1 (user units -> px: W / viewBox width)
  const unit = vb.length === 4 && vb[2] ? W / vb[2] : 1;
  let minFont = Infinity;
  for (const t of svg.querySelectorAll("text")) {
    const f = parseFloat(t.getAttribute("font-size") || "14");
    if (f < minFont) minFont = f;
  }
  if (!isFinite(minFont)) minFont = 14;
  minFont *= unit;

  const v = { scale: 1, tx: 0, ty: 0, fitted: true, W, H, minFont };

  function apply() {
    svg.style.width = `${W * v.scale}px`;
    svg.style.height = `${H * v.scale}px`;
    svg.style.transform = `translate(${v.tx}px, ${v.ty}px)`;
    onChange(v);
  }

  function size() {
    return [graph.clientWidth || 1, graph.clientHeight || 1];
  }

  v.fitScale = () => {
    const [cw, ch] = size();
    return Math.min(cw / W, ch / H, FIT_MAX);
  };

  v.fit = () => {
    if (autoHeight) {
      // a widget's box is as tall as the graph needs at the width's fit, within 70% of the window
      const want = H * Math.min((graph.clientWidth || W) / W, FIT_MAX) + 4;
      graph.style.height = `${Math.round(Math.max(120, Math.min(want, 0.7 * window.innerHeight)))}px`;
    }
    const [cw, ch] = size();
    v.scale = v.fitScale();
    v.tx = (cw - W * v.scale) / 2;
    v.ty = Math.max(0, (ch - H * v.scale) / 2);
    v.fitted = true;
    apply();
  };

  v.zoomAt = (factor, cx, cy) => {
    const [cw, ch] = size();
    if (cx === undefined) [cx, cy] = [cw / 2, ch / 2];
    const s = Math.min(8, Math.max(0.05, v.scale * factor));
    v.tx = cx - ((cx - v.tx) * s) / v.scale;
    v.ty = cy - ((cy - v.ty) * s) / v.scale;
    v.scale = s;
    v.fitted = false;
    apply();
  };

  v.setScale = (s) => v.zoomAt(s / v.scale);

  v.panBy = (dx, dy) => {
    v.tx += dx;
    v.ty += dy;
    v.fitted = false;
    apply();
  };

  // move the graph so that the element is in view (centred if it was not): "follow"
  v.reveal = (el, always) => {
    const box = el.getBoundingClientRect();
    const view = graph.getBoundingClientRect();
    if (!box.width || !view.width) return;
    const inside =
      box.left >= view.left && box.right <= view.right && box.top >= view.top && box.bottom <= view.bottom;
    if (inside && !always) return;
    v.tx += (view.left + view.right) / 2 - (box.left + box.right) / 2;
    v.ty += (view.top + view.bottom) / 2 - (box.top + box.bottom) / 2;
    v.fitted = false;
    apply();
  };

  // the scale at which the smallest text is `px` pixels high
  v.scaleForFont = (px) => px / v.minFont;

  // drag to pan; ctrl/cmd + wheel (or a pinch) to zoom; the wheel alone pans a graph bigger
  // than its box and otherwise scrolls the page as usual
  let drag = null;
  graph.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, id: e.pointerId, moved: false };
  });
  graph.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 3) return;
    if (!drag.moved) graph.setPointerCapture?.(e.pointerId);
    drag.moved = true;
    drag.x = e.clientX;
    drag.y = e.clientY;
    graph.classList.add("stepgrad-dragging");
    v.panBy(dx, dy);
  });
  const end = () => {
    drag = null;
    graph.classList.remove("stepgrad-dragging");
  };
  graph.addEventListener("pointerup", end);
  graph.addEventListener("pointercancel", end);
  graph.addEventListener(
    "wheel",
    (e) => {
      const r = graph.getBoundingClientRect();
      if (e.ctrlKey || e.metaKey) {
        v.zoomAt(Math.exp(-e.deltaY / 300), e.clientX - r.left, e.clientY - r.top);
        e.preventDefault();
        return;
      }
      const [cw, ch] = size();
      if (W * v.scale > cw + 1 || H * v.scale > ch + 1) {
        v.panBy(-e.deltaX, -e.deltaY);
        e.preventDefault();
      }
    },
    { passive: false },
  );
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(() => v.fitted && v.fit()).observe(graph);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// mount: the bar, the graph, the panel and the legend around `svg`

// Build the viewer in `el` around `svg`; `onStep(k)` is told whenever the user moves.
export function mount(el, data, svg, onStep, options = {}) {
  const steps = data.steps;
  const N = steps.length;
  el.classList.add("stepgrad");
  el.tabIndex = 0;

  const bar = document.createElement("div");
  bar.className = "stepgrad-bar";
  const reset = button("⟲ reset", "reset", "back to the start: no gradients yet");
  const prev = button("◀ prev", "prev", "previous step (←)");
  const play = button("▶ play", "play", "play through the steps (space)");
  const next = button("next ▶", "next", "next step (→)");
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = String(N);
  slider.value = "0";
  slider.className = "stepgrad-slider";
  slider.setAttribute("aria-label", "step");
  const status = document.createElement("span");
  status.className = "stepgrad-status";
  bar.append(reset, prev, play, next, slider, status);

  const tools = document.createElement("div");
  tools.className = "stepgrad-tools";
  const zoomOut = button("−", "zoom-out", "zoom out (-)");
  const zoomIn = button("+", "zoom-in", "zoom in (+); ctrl + wheel zooms at the pointer");
  const zoomLabel = document.createElement("span");
  zoomLabel.className = "stepgrad-zoom";
  const fitB = button("fit", "fit", "fit the whole graph in the view (f)");
  const followB = button("follow", "follow", "keep the current node in view (c)");
  const projB = button("projector", "projector", "projector mode: large text, follow the current node (p)");
  const openB = button("open layer ▸", "open", "step inside this layer (o)");
  openB.hidden = true;
  tools.append(zoomOut, zoomLabel, zoomIn, fitB, followB, projB, openB);
  bar.append(tools);

  const graph = document.createElement("div");
  graph.className = "stepgrad-graph";
  graph.append(svg);
  const main = document.createElement("div");
  main.className = "stepgrad-main";
  main.append(graph);
  const panel = document.createElement("pre");
  panel.className = "stepgrad-panel";
  const panels = document.createElement("div");
  panels.className = "stepgrad-panels";
  const legend = document.createElement("div");
  legend.className = "stepgrad-legend";
  for (const k of Object.keys(FILL)) legend.append(chip(FILL[k], KEYS[k]));
  for (const [k, c] of Object.entries(data.legend || {})) legend.append(chip(c, k));
  for (const t of data.notes || []) {
    const s = document.createElement("span");
    s.className = "stepgrad-note";
    s.textContent = t;
    legend.append(s);
  }
  el.replaceChildren(bar, main, panel, panels, legend);

  // the nodes that get a gradient: their shape and their gradient text row
  const groups = new Map();
  for (const g of svg.querySelectorAll("g.node")) groups.set(g.id, g);
  const nodes = new Map();
  const ids = new Set([...data.nodes, ...steps.map((s) => s.node)]);
  // a leaf used far apart is drawn once per use: v7, v7_1, v7_2 are one node (key v7)
  for (const [gid, g] of groups) {
    const id = gid.replace(/_\d+$/, "");
    if (!ids.has(id)) continue;
    const shape = g.querySelector("path, polygon, ellipse, rect");
    const text = gradText(g);
    if (!shape || !text) continue;
    nodes.set(gid, {
      id,
      g,
      shape,
      text,
      fill: shape.getAttribute("fill"),
      width: shape.getAttribute("stroke-width") || "1",
      shown: null,
    });
  }
  const blanks = data.blanks || {};

  let follow = true;
  let projector = false;
  const view = makeView(graph, svg, (v) => {
    zoomLabel.textContent = `${Math.round(v.scale * 100)}%`;
    el.dataset.scale = v.scale.toFixed(4);
    el.dataset.fontPx = (v.minFont * v.scale).toFixed(2);
    fitB.setAttribute("aria-pressed", String(v.fitted));
  }, options.autoHeight);

  let current = -1;
  let timer = null;
  const hooks = [];
  const gates = [];
  const textSteps = [];
  const textMasks = [];
  const lineMasks = [];
  const keys = {};

  // the last step the plugins let the viewer go to (a quiz holds it at an open question)
  function limit() {
    let m = N;
    for (const f of gates) m = Math.min(m, f());
    return m;
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
  }

  function currentGroup() {
    return current > 0 && nodes.has(steps[current - 1].node) ? nodes.get(steps[current - 1].node).g : null;
  }

  function show(k, quiet) {
    const asked = Math.max(0, Math.min(N, Number(k) || 0));
    k = Math.min(asked, limit());
    if (k < asked && timer !== null) stop(); // play stops at a question
    let tk = k;
    for (const f of textSteps) tk = Math.min(tk, f(k));
    const { state } = stateAt(steps, k);
    const { text } = tk === k ? stateAt(steps, k) : stateAt(steps, tk);
    for (const n of nodes.values()) {
      const id = n.id;
      let t = text.has(id) ? text.get(id) : blanks[id] || data.blank;
      for (const f of textMasks) t = f(id, t, text.has(id));
      const st = state.get(id) || "";
      const key = t + "\u0000" + st;
      if (n.shown === key) continue; // touch only the nodes that change
      n.shown = key;
      n.text.textContent = t;
      n.text.classList.toggle("stepgrad-blank", !text.has(id));
      n.shape.setAttribute("fill", st ? FILL[st] : n.fill);
      n.shape.setAttribute("stroke-width", st === "current" ? "3" : n.width);
      n.g.classList.toggle("stepgrad-current", st === "current");
    }
    const moved = k !== current;
    current = k;
    const g = currentGroup();
    if (g && follow) view.reveal(g, false);
    let lines = k === 0 ? [data.intro] : steps[k - 1].lines;
    for (const f of lineMasks) if (k > 0) lines = f(k, steps[k - 1], lines);
    panel.textContent = lines.join("\n");
    status.textContent =
      k === 0 ? `step 0 / ${N}` : `step ${k} / ${N}: ${steps[k - 1].name} (${steps[k - 1].op || "leaf"})`;
    slider.value = String(k);
    prev.disabled = reset.disabled = k === 0;
    next.disabled = k >= limit();
    openB.hidden = !(k > 0 && steps[k - 1].inner);
    for (const f of hooks) f(k, k > 0 ? steps[k - 1] : null);
    if (onStep && ((moved && !quiet) || (quiet && k !== asked))) onStep(k);
  }

  function toggle() {
    if (timer !== null) return stop();
    if (current >= N) show(0);
    play.textContent = "❚❚ pause";
    timer = setInterval(() => (current >= N ? stop() : show(current + 1)), data.interval || 800);
  }

  function setFollow(on) {
    follow = on;
    followB.setAttribute("aria-pressed", String(on));
    const g = currentGroup();
    if (on && g) view.reveal(g, false);
  }

  function setProjector(on) {
    projector = on;
    el.classList.toggle("stepgrad-projector", on);
    projB.setAttribute("aria-pressed", String(on));
    if (on) {
      view.setScale(Math.max(view.fitScale(), view.scaleForFont(PROJECTOR_PX)));
      setFollow(true);
      const g = currentGroup();
      if (g) view.reveal(g, true);
    } else view.fit();
  }

  // a layer of a step-by-layer viewer opened: its own viewer in place of this one
  function openInner() {
    const step = steps[current - 1];
    if (!step || !step.inner) return;
    stop();
    const box = document.createElement("div");
    box.className = "stepgrad-inner";
    const back = button("◀ back to the model", "back", "back to the layers (Escape)");
    const title = document.createElement("div");
    title.className = "stepgrad-inner-title";
    title.textContent = `inside ${step.name}`;
    const inner = document.createElement("div");
    box.append(back, title, inner);
    const saved = Array.from(el.childNodes);
    el.replaceChildren(box);
    const sub = mount(inner, step.inner.data, parseSvg(step.inner.svg), null, options);
    sub.show(0);
    el.classList.add("stepgrad-opened");
    const close = () => {
      sub.stop();
      el.classList.remove("stepgrad-opened");
      el.replaceChildren(...saved);
      el.focus();
      view.fit();
    };
    back.addEventListener("click", close);
    inner.addEventListener("keydown", (e) => e.key === "Escape" && (close(), e.stopPropagation()));
    inner.focus();
  }

  reset.addEventListener("click", () => (stop(), show(0)));
  prev.addEventListener("click", () => (stop(), show(current - 1)));
  next.addEventListener("click", () => (stop(), show(current + 1)));
  play.addEventListener("click", toggle);
  slider.addEventListener("input", () => (stop(), show(slider.value)));
  zoomIn.addEventListener("click", () => view.zoomAt(1.25));
  zoomOut.addEventListener("click", () => view.zoomAt(0.8));
  fitB.addEventListener("click", () => view.fit());
  followB.addEventListener("click", () => setFollow(!follow));
  projB.addEventListener("click", () => setProjector(!projector));
  openB.addEventListener("click", openInner);
  for (const n of nodes.values()) {
    n.g.addEventListener("dblclick", () => {
      const k = steps.findIndex((s) => s.node === n.id && s.inner);
      if (k >= 0) (show(k + 1), openInner());
    });
  }
  el.addEventListener("keydown", (e) => {
    if (e.target === slider || el.classList.contains("stepgrad-opened")) return;
    if (e.target.closest && e.target.closest("input, textarea")) return; // typing an answer
    if (e.key in keys && !e.ctrlKey && !e.metaKey && !e.altKey) {
      keys[e.key]();
      e.preventDefault();
      return;
    }
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (e.key in moves) show(current + moves[e.key]);
    else if (e.key === " ") toggle();
    else if (e.key === "+" || e.key === "=") view.zoomAt(1.25);
    else if (e.key === "-") view.zoomAt(0.8);
    else if (e.key === "f" || e.key === "0") view.fit();
    else if (e.key === "c") setFollow(!follow);
    else if (e.key === "p") setProjector(!projector);
    else if (e.key === "o") openInner();
    else return;
    e.preventDefault();
  });

  const ctl = {
    show,
    stop,
    fit: () => view.fit(),
    zoom: (factor) => view.zoomAt(factor),
    follow: setFollow,
    projector: setProjector,
    open: openInner,
    view,
    data,
    panel,
    el,
    nodes,
    steps,
    hidden: () => false,
    get step() {
      return current;
    },
    get limit() {
      return limit();
    },
    onStep(fn) {
      hooks.push(fn);
    },
    gate(fn) {
      gates.push(fn);
    },
    textStep(fn) {
      textSteps.push(fn);
    },
    maskText(fn) {
      textMasks.push(fn);
    },
    maskLines(fn) {
      lineMasks.push(fn);
    },
    addKey(key, fn) {
      keys[key] = fn;
    },
    refresh() {
      for (const n of nodes.values()) n.shown = null;
      show(current, true);
    },
    addPanel(name) {
      const p = document.createElement("div");
      p.className = "stepgrad-extra stepgrad-extra-" + name;
      panels.append(p);
      return p;
    },
    addSide(name) {
      const p = document.createElement("div");
      p.className = "stepgrad-side stepgrad-side-" + name;
      main.append(p);
      return p;
    },
    addButton(label, action, title, onClick) {
      const b = button(label, action, title);
      b.addEventListener("click", onClick);
      bar.insertBefore(b, tools);
      return b;
    },
    addTool(label, action, title, onClick) {
      const b = button(label, action, title);
      b.addEventListener("click", onClick);
      tools.insertBefore(b, openB);
      return b;
    },
  };
  followB.setAttribute("aria-pressed", "true");
  projB.setAttribute("aria-pressed", "false");
  if (data.quiz) quiz(ctl);
  if (data.tape) tapePanel(ctl);
  for (const p of PLUGINS) p(ctl);
  // fit once the box has its size (now when it is already in the page, else on the next frame)
  view.fit();
  if (!graph.clientWidth) requestAnimationFrame(() => view.fit());
  return ctl;
}

// ---------------------------------------------------------------------------------------------
// the quiz: predict, then reveal. At the step of an asked node the viewer stops, hides the
// node's gradient (in its box, the panel and the tape) and asks for it; the answer is checked
// here against data.quiz (|x - t| <= atol + rtol |t| for every element), so an exported page
// needs no kernel. The score counts the answers right at the first try.

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

function readNumber(tok) {
  if (NUMBER.test(tok)) return Number(tok);
  const frac = /^([^/]+)\/([^/]+)$/.exec(tok); // 1/4, -3/2
  if (frac && NUMBER.test(frac[1]) && NUMBER.test(frac[2])) return Number(frac[1]) / Number(frac[2]);
  const m = /^([+-]?)(nan|inf|infinity)$/i.exec(tok);
  if (m) return m[2].toLowerCase() === "nan" ? NaN : m[1] === "-" ? -Infinity : Infinity;
  return null;
}

// every number of a typed answer ("-0.5", "[[1, 2], [3, 4]]", "1 2; 3 4", "1/4"), or the
// first piece that is not one
export function readAnswer(text) {
  const clean = String(text).replace(/[\u2212\u2013]/g, "-").trim();
  const tokens = clean.split(/[\s,;[\]()]+/).filter((t) => t !== "");
  const values = [];
  for (const t of tokens) {
    const x = readNumber(t);
    if (x === null) return { error: t };
    values.push(x);
  }
  return { values };
}

function truth(v) {
  return v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;
}

// is x close enough to the true value t (numpy's isclose, with nan equal to nan)?
export function isClose(x, t, rtol, atol) {
  t = truth(t);
  if (Number.isNaN(t) || Number.isNaN(x)) return Number.isNaN(t) && Number.isNaN(x);
  if (!Number.isFinite(t) || !Number.isFinite(x)) return x === t;
  return Math.abs(x - t) <= atol + rtol * Math.abs(t);
}

function num(v) {
  v = truth(v);
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return String(Number(v.toPrecision(4)) + 0);
}

function nested(values, shape) {
  // [[1, 2], [3, 4]] from the flat values and the shape
  if (shape.length <= 1) return "[" + values.map(num).join(", ") + "]";
  const step = values.length / shape[0];
  const rows = [];
  for (let i = 0; i < shape[0]; i++) rows.push(nested(values.slice(i * step, (i + 1) * step), shape.slice(1)));
  return "[" + rows.join(", ") + "]";
}

function answerText(item) {
  if (item.answer !== undefined) return item.answer; // the viewer's own number format
  return item.shape ? nested(item.values, item.shape) : num(item.values[0]);
}

function flatIndex(j, shape) {
  const idx = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(j % shape[a]);
    j = Math.floor(j / shape[a]);
  }
  return "[" + idx.join(", ") + "]";
}

function quiz(ctl) {
  const q = ctl.data.quiz;
  const ask = q.ask;
  const steps = ctl.steps;
  const results = new Map(); // node id -> { answer, right, tries, done, revealed }
  const at = new Map(); // node id -> its step (1-based)
  steps.forEach((s, i) => ask[s.node] && !at.has(s.node) && at.set(s.node, i + 1));
  const hidden = (id) => id in ask && !(results.get(id) || {}).done;
  const open = (k) => k > 0 && hidden(steps[k - 1].node);
  ctl.hidden = hidden;
  ctl.gate(() => {
    let m = steps.length;
    for (const [id, k] of at) if (hidden(id) && k < m) m = k;
    return m;
  });
  ctl.textStep((k) => (open(k) ? k - 1 : k));
  ctl.maskText((id, t, has) => (has && hidden(id) ? "grad ?" : t));
  ctl.maskLines((k, step, lines) =>
    step.masked
      ? lines.map((l, j) => (hidden(step.node) || (step.owners[j] && hidden(step.owners[j])) ? step.masked[j] : l))
      : lines,
  );

  const box = ctl.addPanel("quiz");
  box.classList.add("stepgrad-quiz");
  const score = document.createElement("div");
  score.className = "stepgrad-quiz-score";
  const form = document.createElement("div");
  form.className = "stepgrad-quiz-form";
  const prompt = document.createElement("label");
  prompt.className = "stepgrad-quiz-prompt";
  const input = document.createElement("input");
  input.type = "text";
  input.className = "stepgrad-quiz-input";
  input.autocomplete = "off";
  input.spellcheck = false;
  prompt.htmlFor = input.id = "stepgrad-quiz-" + Math.random().toString(36).slice(2);
  const check = button("check", "check", "check your answer (Enter)");
  const reveal = button("show answer", "reveal", "give up on this one and show the gradient");
  form.append(prompt, input, check, reveal);
  const hint = document.createElement("div");
  hint.className = "stepgrad-quiz-hint";
  const feedback = document.createElement("div");
  feedback.className = "stepgrad-quiz-feedback";
  const why = document.createElement("pre");
  why.className = "stepgrad-quiz-why";
  const again = button("start over", "quiz-restart", "forget the answers and start the quiz again");
  again.classList.add("stepgrad-quiz-restart");
  box.append(score, form, hint, feedback, why, again);

  // the chain-rule lines that made node id's gradient: those of the steps of its users
  function derivation(id) {
    const out = [];
    const upto = at.get(id) - 1;
    for (let i = 0; i < upto; i++) {
      const st = steps[i];
      (st.owners || []).forEach((o, j) => o === id && out.push(st.lines[j]));
    }
    return out.length ? "how it adds up:\n" + out.join("\n") : "";
  }

  function total() {
    return Object.keys(ask).length;
  }

  function updateScore() {
    const done = [...results.values()].filter((r) => r.done);
    const right = done.filter((r) => r.right && r.tries === 1).length;
    const left = total() - done.length;
    score.textContent =
      `quiz: score ${right} / ${done.length}` + (left ? ` (${left} to go)` : ` · all ${total()} answered`);
    box.dataset.right = String(right);
    box.dataset.answered = String(done.length);
    again.hidden = results.size === 0; // nothing to forget yet
  }

  function publish() {
    const list = [...results.entries()].map(([node, r]) => ({ node, name: ask[node].name, ...r }));
    ctl.el.dispatchEvent(new CustomEvent("stepgrad-quiz", { detail: list }));
  }

  function say(verdict, text, id) {
    feedback.dataset.verdict = verdict;
    feedback.textContent = text;
    why.textContent = id && (verdict === "right" || verdict === "revealed") ? derivation(id) : "";
    why.hidden = !why.textContent;
  }

  function current() {
    const k = ctl.step;
    return k > 0 ? steps[k - 1].node : null;
  }

  function submit() {
    const id = current();
    if (!id || !hidden(id)) return;
    const item = ask[id];
    const read = readAnswer(input.value);
    if (read.error !== undefined) {
      return say("unread", `"${read.error}" is not a number: type e.g. -1.5, 3e-2 or 1/4`);
    }
    const n = item.values.length;
    if (read.values.length !== n) {
      const what = n === 1 ? "one number" : `${n} numbers (shape [${item.shape.join(", ")}], row by row)`;
      return say("unread", `${item.prompt} is ${what}; you typed ${read.values.length}`);
    }
    const r = results.get(id) || { tries: 0, right: false, done: false, revealed: false };
    r.tries += 1;
    r.answer = input.value;
    const off = [];
    read.values.forEach((x, j) => !isClose(x, item.values[j], q.rtol, q.atol) && off.push(j));
    results.set(id, r);
    if (off.length === 0) {
      r.right = r.done = true;
      say("right", `✓ right: ${item.prompt} = ${answerText(item)}` + (r.tries > 1 ? ` (at try ${r.tries})` : ""), id);
      finish();
    } else {
      const where = item.shape ? `: ${off.length} of ${n} elements are off (${off.map((j) => flatIndex(j, item.shape)).join(", ")})` : "";
      say("wrong", `✗ not ${input.value.trim()}${where}. Try again, or show the answer.`);
      updateScore();
      publish();
      input.select();
    }
  }

  function giveUp() {
    const id = current();
    if (!id || !hidden(id)) return;
    const r = results.get(id) || { tries: 0, right: false, done: false, revealed: false };
    r.done = r.revealed = true;
    results.set(id, r);
    say("revealed", `the answer: ${ask[id].prompt} = ${answerText(ask[id])}`, id);
    finish();
  }

  function finish() {
    updateScore();
    publish();
    ctl.refresh();
    ctl.el.focus({ preventScroll: true }); // the arrow keys step again
  }

  check.addEventListener("click", submit);
  reveal.addEventListener("click", giveUp);
  input.addEventListener("keydown", (e) => {
    e.stopPropagation(); // the notebook's shortcuts stay out of the answer box
    if (e.key === "Enter") (submit(), e.preventDefault());
  });
  again.addEventListener("click", () => {
    results.clear();
    say("", "");
    updateScore();
    publish();
    ctl.refresh();
    ctl.show(0);
  });

  let asked = null; // the node whose question the form shows
  let told = null; // the node the feedback is about
  ctl.onStep((k, step) => {
    const id = step ? step.node : null;
    const asking = open(k);
    form.hidden = hint.hidden = !asking;
    box.classList.toggle("stepgrad-quiz-open", asking);
    if (asking) {
      if (asked === id) return;
      asked = told = id;
      const item = ask[id];
      prompt.textContent = `your turn: ${item.prompt} = `;
      input.value = "";
      hint.textContent = item.shape
        ? `its ${item.values.length} elements, row by row (shape [${item.shape.join(", ")}]), e.g. [[1, 2], [3, 4]]`
        : item.element
          ? `one element of the gradient, ${item.prompt}; press Enter to check`
          : "one number; press Enter to check";
      say("", "");
      requestAnimationFrame(() => input.focus({ preventScroll: true }));
      return;
    }
    asked = null;
    if (told === id) return; // keep what was said about this node
    told = id;
    const r = id && results.get(id);
    if (!r || !r.done) say("", "");
    else if (r.revealed) say("revealed", `the answer: ${ask[id].prompt} = ${answerText(ask[id])}`, id);
    else say("right", `✓ you had it: ${ask[id].prompt} = ${answerText(ask[id])}`, id);
  });
  updateScore();
  form.hidden = hint.hidden = true;
}

// ---------------------------------------------------------------------------------------------
// the tape beside the graph: the forward lines and the adjoint lines of viz.tape; the current
// node's forward line and the current step's adjoint lines highlighted and scrolled into view

function tapePanel(ctl) {
  const tape = ctl.data.tape;
  const names = ctl.data.tapeNames || {};
  const steps = ctl.steps;
  const side = ctl.addSide("tape");
  side.classList.add("stepgrad-tape");
  const parts = {};
  const rows = { forward: [], backward: [] };
  for (const kind of ["forward", "backward"]) {
    const sec = document.createElement("div");
    sec.className = `stepgrad-tape-section stepgrad-tape-${kind}`;
    const head = document.createElement("div");
    head.className = "stepgrad-tape-head";
    head.textContent = `# ${kind}`;
    const list = document.createElement("div");
    list.className = "stepgrad-tape-list";
    for (const line of tape[kind]) {
      const row = document.createElement("div");
      row.className = "stepgrad-tape-line";
      row.dataset.kind = kind;
      row.dataset.node = line.node;
      if (line.step !== null && line.step !== undefined) row.dataset.step = String(line.step);
      const code = document.createElement("code");
      code.textContent = line.code;
      const val = document.createElement("span");
      val.className = "stepgrad-tape-value";
      const where = document.createElement("span");
      where.className = "stepgrad-tape-where";
      // the name its box shows, when the line does not say it already (v7 = v3 * v5  # mul_7)
      const name = kind === "forward" ? names[line.node] : "";
      const said = !name || line.code.endsWith(`(${name})`) || line.code.endsWith(`= ${name}`);
      const notes = [said ? "" : name, line.where || ""].filter((t) => t);
      where.textContent = notes.length ? `# ${notes.join(" · ")}` : "";
      if (kind === "forward") val.textContent = line.value ? ` = ${line.value}` : "";
      row.append(code, val, where);
      list.append(row);
      rows[kind].push({ row, val, line });
      row.addEventListener("click", () => {
        const k = kind === "backward" ? line.step + 1 : steps.findIndex((s) => s.node === line.node) + 1;
        if (k > 0) ctl.show(k);
      });
      // hover: outline the node's box (each of its boxes, when a leaf is drawn once per use)
      const mark = (on) => {
        for (const n of ctl.nodes.values()) if (n.id === line.node) n.g.classList.toggle("stepgrad-tape-hover", on);
      };
      row.addEventListener("mouseenter", () => mark(true));
      row.addEventListener("mouseleave", () => mark(false));
    }
    sec.append(head, list);
    side.append(sec);
    parts[kind] = list;
  }

  const toggle = ctl.addTool("tape", "tape-toggle", "the tape beside the graph: the program and its adjoint (t)", () =>
    setOpen(side.hidden),
  );
  function setOpen(on) {
    side.hidden = !on;
    ctl.el.classList.toggle("stepgrad-tape-open", on);
    toggle.setAttribute("aria-pressed", String(on));
    if (on) update(ctl.step);
  }
  ctl.addKey("t", () => setOpen(side.hidden));

  // scroll the list so that the row is in view, without moving the page
  function into(list, row) {
    const top = row.offsetTop; // the list is position: relative, the rows' offsetParent
    if (top < list.scrollTop || top + row.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  function update(k) {
    const quizOn = !!ctl.data.quiz;
    const node = k > 0 ? steps[k - 1].node : null;
    let firstF = null;
    let firstB = null;
    let firstInto = null;
    for (const { row, line } of rows.forward) {
      const on = line.node === node;
      row.classList.toggle("stepgrad-tape-current", on);
      if (on && !firstF) firstF = row;
    }
    for (const { row, val, line } of rows.backward) {
      const on = k > 0 && line.step === k - 1;
      const into = k > 0 && !on && line.node === node && line.step < k - 1;
      row.classList.toggle("stepgrad-tape-current", on);
      row.classList.toggle("stepgrad-tape-into", into); // the lines that summed its gradient
      if (into && !firstInto) firstInto = row;
      row.classList.toggle("stepgrad-tape-future", line.step >= k);
      const hide =
        quizOn && (line.step >= k || ctl.hidden(line.node) || ctl.hidden(steps[line.step].node));
      val.textContent = line.value ? ` = ${hide ? "?" : line.value}` : "";
      if (on && !firstB) firstB = row;
    }
    if (side.hidden) return;
    if (firstF) into(parts.forward, firstF);
    if (firstB || firstInto) into(parts.backward, firstB || firstInto);
    else if (k === 0) parts.backward.scrollTop = 0;
  }
  ctl.onStep((k) => update(k));
  setOpen(!!ctl.data.tapeOpen);
}

// a plugin is called with the controller of every viewer mounted after it was registered
export function plugin(fn) {
  PLUGINS.push(fn);
}

function parseSvg(text) {
  const doc = new DOMParser().parseFromString(text || "", "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.nodeName !== "svg") {
    const p = document.createElement("p");
    p.textContent = "stepgrad: the graph's SVG could not be read";
    return p;
  }
  return document.importNode(root, true);
}

// ---------------------------------------------------------------------------------------------
// anywidget entry point: the Python side holds `svg`, `data` and `step` (synced both ways)

function render({ model, el }) {
  const onStep = (k) => {
    model.set("step", k);
    model.save_changes();
  };
  const ctl = mount(el, model.get("data"), parseSvg(model.get("svg")), onStep, { autoHeight: true });
  el.classList.add("stepgrad-widget");
  const onChange = () => {
    if (model.get("step") !== ctl.step) ctl.show(model.get("step"), true);
  };
  model.on("change:step", onChange);
  const onQuiz = (e) => {
    model.set("results", e.detail);
    model.save_changes();
  };
  el.addEventListener("stepgrad-quiz", onQuiz);
  ctl.show(model.get("step"), true);
  return () => {
    el.removeEventListener("stepgrad-quiz", onQuiz);
    ctl.stop();
    model.off("change:step", onChange);
  };
}

export default { render };

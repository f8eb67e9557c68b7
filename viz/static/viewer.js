// stepgrad's step-through viewer: reset / prev / play / next / a slider over backward, on a
// graph laid out once (SVG); each step changes only the gradient texts and the colours.
// One file for both front ends: the Jupyter widget (anywidget calls `render`) and the offline
// HTML page of viz.export_html (which calls `mount` on its inline SVG). Text is only ever set
// with textContent, so labels cannot inject markup.
//
// Sections: the step state (pure data), the view (zoom, pan, fit-to-screen, follow, projector),
// the controls, `mount` (which joins them), plugins, and the anywidget entry point.
// Extending it (a quiz, a tape panel): register a plugin before the viewer is mounted,
//   plugin((ctl) => { const box = ctl.addPanel("tape"); ctl.onStep((k, step) => ...); });
// ctl.addPanel(name) gives an element below the chain-rule panel, ctl.addButton(...) a button
// in the bar, ctl.onStep(fn) calls fn(k, step or null) after each move (k = 0 before backward),
// ctl.panel is the chain-rule panel, ctl.data the steps.

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
  const panel = document.createElement("pre");
  panel.className = "stepgrad-panel";
  const panels = document.createElement("div");
  panels.className = "stepgrad-panels";
  const legend = document.createElement("div");
  legend.className = "stepgrad-legend";
  for (const k of Object.keys(FILL)) legend.append(chip(FILL[k], KEYS[k]));
  for (const [k, c] of Object.entries(data.legend || {})) legend.append(chip(c, k));
  el.replaceChildren(bar, graph, panel, panels, legend);

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

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
  }

  function currentGroup() {
    return current > 0 && nodes.has(steps[current - 1].node) ? nodes.get(steps[current - 1].node).g : null;
  }

  function show(k, quiet) {
    k = Math.max(0, Math.min(N, Number(k) || 0));
    const { text, state } = stateAt(steps, k);
    for (const n of nodes.values()) {
      const id = n.id;
      const t = text.has(id) ? text.get(id) : blanks[id] || data.blank;
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
    panel.textContent = k === 0 ? data.intro : steps[k - 1].lines.join("\n");
    status.textContent =
      k === 0 ? `step 0 / ${N}` : `step ${k} / ${N}: ${steps[k - 1].name} (${steps[k - 1].op || "leaf"})`;
    slider.value = String(k);
    prev.disabled = reset.disabled = k === 0;
    next.disabled = k === N;
    openB.hidden = !(k > 0 && steps[k - 1].inner);
    for (const f of hooks) f(k, k > 0 ? steps[k - 1] : null);
    if (moved && onStep && !quiet) onStep(k);
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
    get step() {
      return current;
    },
    onStep(fn) {
      hooks.push(fn);
    },
    addPanel(name) {
      const p = document.createElement("div");
      p.className = "stepgrad-extra stepgrad-extra-" + name;
      panels.append(p);
      return p;
    },
    addButton(label, action, title, onClick) {
      const b = button(label, action, title);
      b.addEventListener("click", onClick);
      bar.insertBefore(b, tools);
      return b;
    },
  };
  followB.setAttribute("aria-pressed", "true");
  projB.setAttribute("aria-pressed", "false");
  for (const p of PLUGINS) p(ctl);
  // fit once the box has its size (now when it is already in the page, else on the next frame)
  view.fit();
  if (!graph.clientWidth) requestAnimationFrame(() => view.fit());
  return ctl;
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
  ctl.show(model.get("step"), true);
  return () => {
    ctl.stop();
    model.off("change:step", onChange);
  };
}

export default { render };
